//! Named shapes of published Qwen3 checkpoints: [`Preset`].

use std::fmt;
use std::str::FromStr;

use crate::config::Qwen3Config;

/// The shape of a published Qwen3 model (the numbers of its HF
/// `config.json`), for random checkpoints of real scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// `Qwen/Qwen3-0.6B`: 28 layers, hidden 1024, 16 / 8 heads, head_dim 128,
    /// FFN 3072, tied embeddings (596 M parameters).
    Qwen3_0_6B,
    /// `Qwen/Qwen3-4B`: 36 layers, hidden 2560, 32 / 8 heads, head_dim 128,
    /// FFN 9728, tied embeddings (4.02 B parameters).
    Qwen3_4B,
    /// `Qwen/Qwen3-8B`: 36 layers, hidden 4096, 32 / 8 heads, head_dim 128,
    /// FFN 12288, untied (8.19 B parameters).
    Qwen3_8B,
}

impl Preset {
    /// Every preset, smallest first.
    pub const ALL: [Preset; 3] = [Preset::Qwen3_0_6B, Preset::Qwen3_4B, Preset::Qwen3_8B];

    /// The name used on command lines (`qwen3-0.6b`, `qwen3-4b`, `qwen3-8b`).
    pub fn name(self) -> &'static str {
        match self {
            Preset::Qwen3_0_6B => "qwen3-0.6b",
            Preset::Qwen3_4B => "qwen3-4b",
            Preset::Qwen3_8B => "qwen3-8b",
        }
    }

    /// The model config. Shared by all three: vocab 151 936 embedding rows,
    /// 8 KV heads of 128, RoPE θ 1e6, RMSNorm ε 1e-6, 40 960 positions.
    pub fn config(self) -> Qwen3Config {
        let (layers, hidden, ffn, heads, tied) = match self {
            Preset::Qwen3_0_6B => (28, 1024, 3072, 16, true),
            Preset::Qwen3_4B => (36, 2560, 9728, 32, true),
            Preset::Qwen3_8B => (36, 4096, 12288, 32, false),
        };
        Qwen3Config::new(151_936, hidden, ffn, layers, heads, 8, 128, 40_960)
            .with_rope_theta(1e6)
            .with_rms_norm_eps(1e-6)
            .with_tie_word_embeddings(tied)
            .with_initializer_range(0.02)
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A preset name that is not one of [`Preset::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown shape {name:?} (known: qwen3-0.6b, qwen3-4b, qwen3-8b)")]
pub struct UnknownPreset {
    /// The name given.
    pub name: String,
}

impl FromStr for Preset {
    type Err = UnknownPreset;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownPreset {
                name: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_counts_match_the_model_cards() {
        // Model cards: 0.6B (0.44B non-embedding), 4.0B (3.6B), 8.2B (6.95B).
        let count = |p: Preset| p.config().num_params();
        assert_eq!(count(Preset::Qwen3_0_6B), 596_049_920);
        assert_eq!(count(Preset::Qwen3_4B), 4_022_468_096);
        assert_eq!(count(Preset::Qwen3_8B), 8_190_735_360);
        // Non-embedding parameters (the lm_head counts as embedding), in units of 10 M.
        let body = |p: Preset| {
            let c = p.config();
            let embed = c.vocab_size * c.hidden_size * if c.tie_word_embeddings { 1 } else { 2 };
            ((c.num_params() - embed) as f64 / 1e7).round()
        };
        assert_eq!(body(Preset::Qwen3_0_6B), 44.0);
        assert_eq!(body(Preset::Qwen3_4B), 363.0);
        assert_eq!(body(Preset::Qwen3_8B), 695.0);
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for p in Preset::ALL {
            assert_eq!(p.name().parse::<Preset>(), Ok(p));
        }
        assert_eq!("Qwen3-0.6B".parse::<Preset>(), Ok(Preset::Qwen3_0_6B));
        let err = "qwen3-1.7b".parse::<Preset>().unwrap_err();
        assert!(err.to_string().contains("qwen3-1.7b"), "{err}");
    }
}
