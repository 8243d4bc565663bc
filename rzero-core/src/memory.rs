//! `[memory]`: how a run trades memory for speed. None of these change
//! what is computed beyond float rounding; `rzero plan` and `rzero run`
//! lower them to fit a memory budget.

use rzero_model::Qwen3;
use rzero_model::model::bf16_storage_checked_on;
use serde::{Deserialize, Serialize};

/// Rows per local generation call unless set.
pub const DEFAULT_SAMPLING_ROWS: usize = 128;

/// Rows per no-grad scoring pass (old and reference log-probs) unless set.
pub const DEFAULT_SCORE_ROWS: usize = 32;

/// Shortest training sequence for which `recompute = "auto"` recomputes
/// each decoder layer in the backward pass. Below it the saved activations
/// are small (the tiny preset's sequences are under 400 tokens) and the
/// extra forward is not worth its time.
pub const AUTO_RECOMPUTE_MIN_SEQ: usize = 1024;

/// Layer recomputation during training (keep each decoder layer's input
/// only, recompute the layer in the backward pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recompute {
    /// From [`AUTO_RECOMPUTE_MIN_SEQ`] tokens on, or whenever the memory
    /// plan needs it.
    #[default]
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

impl Recompute {
    /// The shortest sequence that recomputes (`usize::MAX`: none).
    pub fn min_seq(self) -> usize {
        match self {
            Self::Auto => AUTO_RECOMPUTE_MIN_SEQ,
            Self::On => 0,
            Self::Off => usize::MAX,
        }
    }
}

/// Element type of the frozen GRPO reference's matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FrozenDtype {
    /// f32, as trained: the reference equals the policy before its first
    /// update, to the bit.
    #[default]
    F32,
    /// BF16 storage (`rzero_model::Qwen3::with_bf16_matrices`): half the
    /// reference's memory; f32 arithmetic. Lossless for a BF16 checkpoint
    /// (a Hugging Face base model), rounded for one trained in f32. Not on
    /// wgpu, which has no BF16: there it stays f32.
    Bf16,
}

/// `model` as the frozen GRPO reference stores it: with BF16 matrices when
/// `dtype` asks and the device is one where that path is checked
/// ([`rzero_model::model::bf16_storage_checked_on`]); f32 otherwise, with a
/// warning.
pub fn frozen_copy(model: Qwen3, dtype: FrozenDtype) -> Qwen3 {
    if dtype == FrozenDtype::F32 {
        return model;
    }
    let device = model.embed_tokens.weight.device();
    if bf16_storage_checked_on(&device) {
        model.with_bf16_matrices()
    } else {
        tracing::warn!(
            ?device,
            "bf16 frozen copies are only checked on the CPU; this one stays f32"
        );
        model
    }
}

/// The `[memory]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryConfig {
    /// Rows per local generation call (a prompt's samples stay in one call).
    pub sampling_rows: usize,
    /// Rows per no-grad scoring pass before an update.
    pub score_rows: usize,
    /// Completion positions whose LM-head logits exist at once when
    /// log-probs are computed (`rzero_model::completion_logprobs_chunked`).
    pub logprob_chunk: usize,
    /// Layer recomputation in training.
    pub recompute: Recompute,
    /// How the frozen GRPO reference stores its matrices.
    pub reference_dtype: FrozenDtype,
    /// How frozen models that only sample (the Solver that votes, the
    /// question set's models, the evaluated Solver) store their matrices.
    pub sampler_dtype: FrozenDtype,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            sampling_rows: DEFAULT_SAMPLING_ROWS,
            score_rows: DEFAULT_SCORE_ROWS,
            logprob_chunk: rzero_model::DEFAULT_LOGPROB_CHUNK,
            recompute: Recompute::Auto,
            reference_dtype: FrozenDtype::F32,
            sampler_dtype: FrozenDtype::F32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_table_keeps_the_other_defaults() {
        let m: MemoryConfig = toml::from_str("score_rows = 4\nrecompute = \"on\"").unwrap();
        assert_eq!(m.score_rows, 4);
        assert_eq!(m.recompute, Recompute::On);
        assert_eq!(m.sampling_rows, DEFAULT_SAMPLING_ROWS);
        assert_eq!(Recompute::On.min_seq(), 0);
        assert_eq!(Recompute::Off.min_seq(), usize::MAX);
        assert_eq!(
            (m.reference_dtype, m.sampler_dtype),
            (FrozenDtype::F32, FrozenDtype::F32)
        );
        let m: MemoryConfig = toml::from_str("reference_dtype = \"bf16\"").unwrap();
        assert_eq!(m.reference_dtype, FrozenDtype::Bf16);
    }

    #[test]
    fn the_reference_is_bf16_only_when_asked_and_on_the_cpu() {
        use burn::prelude::*;
        use burn::tensor::DType;
        let config = rzero_model::Qwen3Config::s();
        let cpu = Device::flex();
        let of = |device: &Device, dtype| frozen_copy(config.init(device), dtype);
        assert_eq!(of(&cpu, FrozenDtype::F32).matrix_dtype(), DType::F32);
        assert_eq!(of(&cpu, FrozenDtype::Bf16).matrix_dtype(), DType::BF16);
        let autodiff = cpu.autodiff();
        assert_eq!(of(&autodiff, FrozenDtype::Bf16).matrix_dtype(), DType::F32);
    }

    #[test]
    fn unknown_keys_and_values_are_errors() {
        assert!(toml::from_str::<MemoryConfig>("rows = 4").is_err());
        assert!(toml::from_str::<MemoryConfig>("recompute = \"sometimes\"").is_err());
        assert!(toml::from_str::<MemoryConfig>("reference_dtype = \"f16\"").is_err());
    }
}
