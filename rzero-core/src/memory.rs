//! `[memory]`: how a run trades memory for speed. None of these change
//! what is computed beyond float rounding; `rzero plan` and `rzero run`
//! lower them to fit a memory budget.

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
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            sampling_rows: DEFAULT_SAMPLING_ROWS,
            score_rows: DEFAULT_SCORE_ROWS,
            logprob_chunk: rzero_model::DEFAULT_LOGPROB_CHUNK,
            recompute: Recompute::Auto,
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
    }

    #[test]
    fn unknown_keys_and_values_are_errors() {
        assert!(toml::from_str::<MemoryConfig>("rows = 4").is_err());
        assert!(toml::from_str::<MemoryConfig>("recompute = \"sometimes\"").is_err());
    }
}
