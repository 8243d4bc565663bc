//! The importance ratio and the clipped surrogate (asymmetric and dual clip).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::GrpoError;

/// Clip ranges of the surrogate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClipConfig {
    /// Lower clip: the ratio is clipped at `1 − eps_low` (0.2 in R-Zero).
    pub eps_low: f32,
    /// Upper clip: the ratio is clipped at `1 + eps_high` (0.3 in R-Zero, "clip-higher").
    pub eps_high: f32,
    /// Dual-clip constant `c > 1` bounding the loss of negative-advantage
    /// tokens at `−c·A` (3.0 in R-Zero); `None` turns dual clip off (TRL).
    pub dual: Option<f32>,
}

impl ClipConfig {
    /// R-Zero's (verl) values: `eps_low` 0.2, `eps_high` 0.3, dual clip 3.0.
    pub fn r_zero() -> Self {
        Self {
            eps_low: 0.2,
            eps_high: 0.3,
            dual: Some(3.0),
        }
    }

    /// Reject ranges that make the clipped objective meaningless.
    pub fn validate(&self) -> Result<(), GrpoError> {
        if !(0.0..1.0).contains(&self.eps_low) {
            return Err(GrpoError::Config {
                field: "clip.eps_low",
                reason: "must lie in [0, 1)",
            });
        }
        if self.eps_high.is_nan() || self.eps_high < 0.0 {
            return Err(GrpoError::Config {
                field: "clip.eps_high",
                reason: "must be ≥ 0",
            });
        }
        if let Some(c) = self.dual
            && (c.is_nan() || c <= 1.0)
        {
            return Err(GrpoError::Config {
                field: "clip.dual",
                reason: "the dual-clip constant must be > 1",
            });
        }
        Ok(())
    }
}

/// Per-token importance ratio `ρ_t = exp(clamp(logp_t − logp_old_t, −20, 20))`.
///
/// The clamp (as in current verl) only guards `exp` against overflow; it
/// changes nothing for realistic log-ratios.
///
/// # Shapes
/// - `log_probs`, `old_log_probs`: `[b, t]`
/// - output: `[b, t]`
pub fn importance_ratio(log_probs: Tensor<2>, old_log_probs: Tensor<2>) -> Tensor<2> {
    (log_probs - old_log_probs).clamp(-20.0, 20.0).exp()
}

/// Per-token clipped surrogate loss with the masks of what was clipped.
#[derive(Debug, Clone)]
pub struct Surrogate {
    /// Per-token policy loss `ℓ_t`.
    pub loss: Tensor<2>,
    /// `ρ < 1 − eps_low` and `A < 0` (TRL's `is_low_clipped`).
    pub clipped_low: Tensor<2, Bool>,
    /// `ρ > 1 + eps_high` and `A > 0` (TRL's `is_high_clipped`).
    pub clipped_high: Tensor<2, Bool>,
    /// Dual clip active: `A < 0` and the clipped loss exceeds `−c·A`
    /// (`None` when dual clip is off).
    pub clipped_dual: Option<Tensor<2, Bool>>,
}

/// The PPO/GRPO clipped surrogate with asymmetric range and dual clip.
///
/// ```text
/// ℓ_t = max(−A·ρ_t, −A·clip(ρ_t, 1 − eps_low, 1 + eps_high))
/// ℓ_t = min(ℓ_t, −c·A)            for A < 0, when dual clip c is set
/// ```
///
/// This is verl's `compute_policy_loss` (R-Zero), and TRL's
/// `−min(ρA, clip(ρ)A)` when `dual` is `None`. Where a branch is clipped
/// its value is constant in `log_probs`, so the gradient is zero there.
///
/// # Shapes
/// - `ratio`: `[b, t]`
/// - `advantages`: `[b]`, one per rollout, broadcast over tokens
/// - outputs: `[b, t]`
pub fn clipped_surrogate(ratio: Tensor<2>, advantages: Tensor<1>, clip: &ClipConfig) -> Surrogate {
    let [b, t] = ratio.dims();
    let adv = advantages.reshape([b, 1]).expand([b, t]);
    let lower = 1.0 - clip.eps_low;
    let upper = 1.0 + clip.eps_high;
    let negative = adv.clone().lower_elem(0.0);
    let positive = adv.clone().greater_elem(0.0);
    let clipped_low = ratio.clone().lower_elem(lower).bool_and(negative.clone());
    let clipped_high = ratio.clone().greater_elem(upper).bool_and(positive);

    let unclipped = -adv.clone() * ratio.clone();
    let clipped = -adv.clone() * ratio.clamp(lower, upper);
    // Select rather than `max` so ties (the unclipped case) keep one gradient path.
    let take_clipped = clipped.clone().greater(unclipped.clone());
    let mut loss = unclipped.mask_where(take_clipped, clipped);

    let clipped_dual = clip.dual.map(|c| {
        let bound = -adv * c;
        let hit = loss.clone().greater(bound.clone()).bool_and(negative);
        loss = loss.clone().mask_where(hit.clone(), bound);
        hit
    });
    Surrogate {
        loss,
        clipped_low,
        clipped_high,
        clipped_dual,
    }
}
