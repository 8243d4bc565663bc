//! [`ModelShape`]: the dimensions of a Qwen3 decoder that memory depends on.

use rzero_grpo::LoraSettings;
use rzero_model::Qwen3Config;
use serde::Serialize;

/// Dimensions of a Qwen3 decoder (all `u64` so byte products cannot overflow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModelShape {
    /// Token ids `V`.
    pub vocab: u64,
    /// Residual width `d`.
    pub hidden: u64,
    /// SwiGLU width `f`.
    pub intermediate: u64,
    /// Decoder blocks `L`.
    pub layers: u64,
    /// Query heads `h`.
    pub heads: u64,
    /// Key/value heads.
    pub kv_heads: u64,
    /// Width of one head.
    pub head_dim: u64,
    /// The LM head is the embedding (no separate `[V, d]` matrix).
    pub tied: bool,
    /// Longest sequence the model accepts.
    pub max_positions: u64,
}

impl ModelShape {
    /// The shape of a model config.
    pub fn from_config(c: &Qwen3Config) -> Self {
        let u = |x: usize| x as u64;
        Self {
            vocab: u(c.vocab_size),
            hidden: u(c.hidden_size),
            intermediate: u(c.intermediate_size),
            layers: u(c.num_hidden_layers),
            heads: u(c.num_attention_heads),
            kv_heads: u(c.num_key_value_heads),
            head_dim: u(c.head_dim),
            tied: c.tie_word_embeddings,
            max_positions: u(c.max_position_embeddings),
        }
    }

    /// Qwen3-0.6B: 28 layers, hidden 1024, 16 heads / 8 KV heads, head_dim
    /// 128, FFN 3072, vocab 151,936, tied, 40,960 positions (596 M params).
    pub fn qwen3_0_6b() -> Self {
        Self {
            vocab: 151_936,
            hidden: 1024,
            intermediate: 3072,
            layers: 28,
            heads: 16,
            kv_heads: 8,
            head_dim: 128,
            tied: true,
            max_positions: 40_960,
        }
    }

    /// Query width `q = h · head_dim`.
    pub fn q_width(&self) -> u64 {
        self.heads * self.head_dim
    }

    /// Key (or value) width `kv = kv_heads · head_dim`.
    pub fn kv_width(&self) -> u64 {
        self.kv_heads * self.head_dim
    }

    /// Parameters: per layer `d·q + 2·d·kv + q·d` (attention) `+ 2·head_dim`
    /// (q/k norms) `+ 3·d·f` (MLP) `+ 2·d` (norms); plus `V·d` (embedding),
    /// `V·d` more when untied, `d` (final norm). Same as
    /// [`Qwen3Config::num_params`].
    pub fn params(&self) -> u64 {
        let (d, hd) = (self.hidden, self.head_dim);
        let (q, kv) = (self.q_width(), self.kv_width());
        let attn = d * q + 2 * d * kv + q * d + 2 * hd;
        let layer = attn + 3 * d * self.intermediate + 2 * d;
        let embed = self.vocab * d;
        let head = if self.tied { 0 } else { embed };
        embed + head + self.layers * layer + d
    }

    /// Elements of the matrix parameters (embedding, projections, LM
    /// head): all but the norms' vectors.
    pub fn matrix_params(&self) -> u64 {
        let (d, hd) = (self.hidden, self.head_dim);
        self.params() - self.layers * (2 * hd + 2 * d) - d
    }

    /// Elements of the largest single parameter tensor (the embedding, or a
    /// projection when it is bigger): AdamW's per-tensor temporaries scale with it.
    pub fn largest_param(&self) -> u64 {
        let d = self.hidden;
        [self.vocab * d, self.q_width() * d, self.intermediate * d]
            .into_iter()
            .max()
            .unwrap_or(0)
    }
}

/// What a phase trains: every weight, or LoRA adapters on some projections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trainable {
    /// Elements of the policy as it is held (the base plus its adapters).
    pub model: u64,
    /// Elements the optimizer updates (gradients, AdamW moments).
    pub params: u64,
    /// Elements of the largest trained tensor.
    pub largest: u64,
    /// Elements of the adapted weights `W + s·A·B`, which the adapted model
    /// recomposes at each forward (kept for the backward) and which
    /// sampling merges into a copy; 0 without LoRA.
    pub adapted: u64,
}

impl ModelShape {
    /// `(in, out)` of a projection named as in PEFT (`q_proj`, …, `down_proj`).
    fn projection(&self, name: &str) -> (u64, u64) {
        let (d, f) = (self.hidden, self.intermediate);
        match name {
            "q_proj" => (d, self.q_width()),
            "k_proj" | "v_proj" => (d, self.kv_width()),
            "o_proj" => (self.q_width(), d),
            "gate_proj" | "up_proj" => (d, f),
            _ => (f, d),
        }
    }

    /// What is trained under `lora` (`None`: full fine-tuning, every
    /// parameter). With LoRA of rank `r` on a projection `[in, out]` of
    /// every layer the adapters hold `r·(in + out)` elements.
    pub fn trainable(&self, lora: Option<&LoraSettings>) -> Trainable {
        let Some(lora) = lora else {
            return Trainable {
                model: self.params(),
                params: self.params(),
                largest: self.largest_param(),
                adapted: 0,
            };
        };
        let r = lora.rank as u64;
        let dims: Vec<(u64, u64)> = lora.targets.names().map(|n| self.projection(n)).collect();
        let adapters = self.layers * dims.iter().map(|(i, o)| r * (i + o)).sum::<u64>();
        Trainable {
            model: self.params() + adapters,
            params: adapters,
            largest: dims.iter().map(|(i, o)| r * i.max(o)).max().unwrap_or(0),
            adapted: self.layers * dims.iter().map(|(i, o)| i * o).sum::<u64>(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_agree_with_the_model_crate() {
        for c in [Qwen3Config::s(), Qwen3Config::m()] {
            assert_eq!(
                ModelShape::from_config(&c).params(),
                c.num_params() as u64,
                "{c:?}"
            );
        }
    }

    #[test]
    fn lora_counts_the_adapter_factors() {
        let s = ModelShape::from_config(&Qwen3Config::s());
        let full = s.trainable(None);
        assert_eq!(
            (full.model, full.params, full.adapted),
            (853_376, 853_376, 0)
        );
        let lora = LoraSettings {
            rank: 8,
            alpha: None,
            targets: rzero_grpo::LoraTargets::from_names(&["q_proj", "down_proj"]).unwrap(),
        };
        let t = s.trainable(Some(&lora));
        // q_proj 128 → 128 and down_proj 384 → 128, 4 layers, rank 8.
        assert_eq!(t.params, 4 * 8 * ((128 + 128) + (384 + 128)));
        assert_eq!(t.model, 853_376 + t.params);
        assert_eq!(t.largest, 8 * 384);
        assert_eq!(t.adapted, 4 * (128 * 128 + 384 * 128));
    }
}
