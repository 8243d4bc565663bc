//! The model's shape: [`Qwen3Config`], a burn `Config`, with the presets of
//! docs/DESIGN.md §9.

use burn::config::Config;

/// Shape and constants of a Qwen3 decoder.
///
/// Built from a Hugging Face `config.json` with
/// [`HfQwen3Config`](crate::HfQwen3Config), or from a preset
/// ([`Qwen3Config::s`], [`Qwen3Config::m`]). `init` builds the module.
#[derive(Config, Debug, PartialEq)]
pub struct Qwen3Config {
    /// Number of token ids.
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the SwiGLU MLP.
    pub intermediate_size: usize,
    /// Number of decoder blocks.
    pub num_hidden_layers: usize,
    /// Query heads.
    pub num_attention_heads: usize,
    /// Key/value heads (GQA: divides `num_attention_heads`).
    pub num_key_value_heads: usize,
    /// Width of one head (need not be `hidden_size / num_attention_heads`).
    pub head_dim: usize,
    /// Longest sequence the model accepts.
    pub max_position_embeddings: usize,
    /// RoPE base θ: `inv_freq_i = θ^(-2i / head_dim)`.
    #[config(default = 1e6)]
    pub rope_theta: f64,
    /// RMSNorm epsilon (burn's default is 1e-5; Qwen3 uses 1e-6).
    #[config(default = 1e-6)]
    pub rms_norm_eps: f64,
    /// The LM head reuses the token embedding.
    #[config(default = false)]
    pub tie_word_embeddings: bool,
    /// Standard deviation of the normal init of linear and embedding weights.
    #[config(default = 0.02)]
    pub initializer_range: f64,
}

impl Qwen3Config {
    /// Preset S of docs/DESIGN.md §9: vocab 512, hidden 128, 4 layers, 4 heads /
    /// 2 KV heads, head_dim 32, FFN 384, tied embeddings (0.85 M params).
    pub fn s() -> Self {
        Self::new(512, 128, 384, 4, 4, 2, 32, 1024).with_tie_word_embeddings(true)
    }

    /// Preset M of docs/DESIGN.md §9: vocab 2048, hidden 256, 6 layers, 8 heads /
    /// 4 KV heads, head_dim 32, FFN 768, untied (5.8 M params).
    pub fn m() -> Self {
        Self::new(2048, 256, 768, 6, 8, 4, 32, 1024)
    }

    /// Number of parameters of a model with this config.
    pub fn num_params(&self) -> usize {
        let (d, hd) = (self.hidden_size, self.head_dim);
        let q = self.num_attention_heads * hd;
        let kv = self.num_key_value_heads * hd;
        let attn = d * q + 2 * d * kv + q * d + 2 * hd;
        let mlp = 3 * d * self.intermediate_size;
        let layer = attn + mlp + 2 * d;
        let embed = self.vocab_size * d;
        let head = if self.tie_word_embeddings { 0 } else { embed };
        embed + head + self.num_hidden_layers * layer + d
    }

    /// Query heads per key/value head.
    pub fn gqa_groups(&self) -> usize {
        self.num_attention_heads / self.num_key_value_heads.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_sizes_match_design() {
        assert_eq!(Qwen3Config::s().num_params(), 853_376);
        let m = Qwen3Config::m().num_params();
        assert!((5_700_000..5_900_000).contains(&m), "{m}");
    }
}
