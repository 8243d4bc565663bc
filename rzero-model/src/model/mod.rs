//! The Qwen3 decoder module, [`Qwen3`], and its [`KvCache`].

mod attention;
mod block;
mod cache;
mod frozen;
mod rope;

use burn::nn::{
    Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig, RmsNorm, RmsNormConfig,
};
use burn::prelude::*;

pub use attention::Attention;
pub use block::{DecoderLayer, Mlp};
pub use cache::KvCache;
pub use frozen::bf16_storage_checked_on;
pub(crate) use frozen::widened;
pub(crate) use rope::Rope;

use crate::config::Qwen3Config;
use crate::kernels::rms_norm;
use crate::layer_op::DEFAULT_RECOMPUTE_MIN_SEQ;

/// A Qwen3 causal LM. Field paths are HF tensor names without the `model.`
/// prefix (`embed_tokens`, `layers.N.self_attn.q_proj`, `norm`, `lm_head`),
/// so Hugging Face checkpoints load without a remap table.
///
/// Generation state stays outside: [`Qwen3::forward`] takes an optional
/// [`KvCache`] and returns logits for every position, so the same weights
/// serve training log-probs, a frozen reference and decoding.
#[derive(Module, Debug)]
pub struct Qwen3 {
    /// Token embedding, `[vocab, hidden]`.
    pub embed_tokens: Embedding,
    /// Decoder blocks.
    pub layers: Vec<DecoderLayer>,
    /// Final RMSNorm.
    pub norm: RmsNorm,
    /// Untied LM head; `None` when tied to `embed_tokens`.
    pub lm_head: Option<Linear>,
    head_dim: usize,
    rope_theta: f64,
    vocab_size: usize,
    max_position_embeddings: usize,
}

impl Qwen3Config {
    /// A randomly initialised model: linear and embedding weights
    /// `N(0, initializer_range)`, norm weights 1 (as transformers does).
    pub fn init(&self, device: &Device) -> Qwen3 {
        let init = Initializer::Normal {
            mean: 0.0,
            std: self.initializer_range,
        };
        let linear = |i, o| {
            LinearConfig::new(i, o)
                .with_bias(false)
                .with_initializer(init.clone())
                .init(device)
        };
        let norm = |d| {
            RmsNormConfig::new(d)
                .with_epsilon(self.rms_norm_eps)
                .init(device)
        };
        let (d, hd) = (self.hidden_size, self.head_dim);
        let (q, kv) = (self.num_attention_heads * hd, self.num_key_value_heads * hd);
        let layers = (0..self.num_hidden_layers)
            .map(|_| DecoderLayer {
                self_attn: Attention::new(
                    [linear(d, q), linear(d, kv), linear(d, kv), linear(q, d)],
                    [norm(hd), norm(hd)],
                    self.num_attention_heads,
                    self.num_key_value_heads,
                    hd,
                ),
                mlp: Mlp {
                    gate_proj: linear(d, self.intermediate_size),
                    up_proj: linear(d, self.intermediate_size),
                    down_proj: linear(self.intermediate_size, d),
                },
                input_layernorm: norm(d),
                post_attention_layernorm: norm(d),
                recompute_min_seq: DEFAULT_RECOMPUTE_MIN_SEQ,
            })
            .collect();
        Qwen3 {
            embed_tokens: EmbeddingConfig::new(self.vocab_size, d)
                .with_initializer(init.clone())
                .init(device),
            layers,
            norm: norm(d),
            lm_head: (!self.tie_word_embeddings).then(|| linear(d, self.vocab_size)),
            head_dim: hd,
            rope_theta: self.rope_theta,
            vocab_size: self.vocab_size,
            max_position_embeddings: self.max_position_embeddings,
        }
    }
}

impl Qwen3 {
    /// Logits for every position.
    ///
    /// With a cache, `tokens` continue the cached positions and their keys and
    /// values are appended to it; the cache's key padding (if any) is masked.
    ///
    /// # Shapes
    /// - tokens, positions: `[batch, seq]` (positions are RoPE positions,
    ///   per row, so left-padded rows can start at 0 after their padding)
    /// - output: `[batch, seq, vocab]`
    pub fn forward(
        &self,
        tokens: Tensor<2, Int>,
        positions: Tensor<2, Int>,
        cache: Option<&mut KvCache>,
    ) -> Tensor<3> {
        self.logits(self.hidden(tokens, positions, cache))
    }

    /// Final hidden states (after the last norm), `[batch, seq, hidden]`.
    pub fn hidden(
        &self,
        tokens: Tensor<2, Int>,
        positions: Tensor<2, Int>,
        mut cache: Option<&mut KvCache>,
    ) -> Tensor<3> {
        let [_, seq] = tokens.dims();
        let rope = Rope::new(positions, self.head_dim, self.rope_theta);
        let mask = cache.as_mut().and_then(|c| {
            let past = c.len();
            c.padding_mask(past, seq)
        });
        let mut x = widened(self.embed_tokens.forward(tokens));
        for (i, layer) in self.layers.iter().enumerate() {
            let layer_cache = cache.as_deref_mut().map(|c| (c, i));
            x = layer.forward(x, &rope, mask.clone(), layer_cache);
        }
        rms_norm(&self.norm, x)
    }

    /// LM head on hidden states `[..., hidden]` → `[..., vocab]`.
    pub fn logits<const D: usize>(&self, hidden: Tensor<D>) -> Tensor<D> {
        match &self.lm_head {
            Some(head) => burn::tensor::module::linear(
                hidden,
                widened(head.weight.val()),
                head.bias.as_ref().map(|b| widened(b.val())),
            ),
            None => {
                let weight = widened(self.embed_tokens.weight.val()).transpose();
                burn::tensor::module::linear(hidden, weight, None)
            }
        }
    }

    /// Sets, in every layer, when a forward on an autodiff device keeps only
    /// each decoder layer's input for the backward pass and runs the layer
    /// again there ([`crate::layer_op`]): for sequences of at least
    /// `min_seq` positions without a cache or padding mask. `usize::MAX`
    /// (the default, [`DEFAULT_RECOMPUTE_MIN_SEQ`]) turns it off, 0 on for
    /// every length. Values and gradients agree with the plain path to
    /// float rounding; inference devices are not affected.
    ///
    /// Memory: autodiff otherwise keeps every intermediate of every layer
    /// (≈143 KB per token per layer at Qwen3-0.6B shapes: 16 GB for 28
    /// layers at 4,096 tokens); with recomputation it keeps the layer input,
    /// `4·hidden` bytes per token per layer (4 KB at hidden 1024), plus one
    /// layer's intermediates while that layer's backward runs. Cost: one
    /// more forward pass of the layers. LoRA-adapted weights work (their
    /// gradients reach the factors); layers with biases (not Qwen3) keep
    /// the plain path.
    pub fn set_recompute(&mut self, min_seq: usize) {
        for layer in &mut self.layers {
            layer.recompute_min_seq = min_seq;
        }
    }

    /// A fresh cache sized for this model.
    pub fn new_cache(&self) -> KvCache {
        KvCache::new(self.layers.len())
    }

    /// Number of token ids.
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// Longest sequence (prompt + completion) the model accepts.
    pub fn max_position_embeddings(&self) -> usize {
        self.max_position_embeddings
    }
}
