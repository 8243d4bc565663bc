//! Per-token KL estimators between the policy and the frozen reference.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Which sample-based estimator of `KL(π_θ ‖ π_ref)` to use (Schulman, "Approximating KL").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KlEstimator {
    /// `k1 = logp − ref` (verl `kl`): unbiased, high variance, can be negative.
    K1,
    /// `k2 = ½ (logp − ref)²` (verl `mse`).
    K2,
    /// `k3 = exp(ref − logp) − (ref − logp) − 1` (verl `low_var_kl`, TRL's
    /// estimator): unbiased, non-negative, low variance. R-Zero uses it.
    K3,
}

/// KL penalty settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KlConfig {
    /// The estimator.
    pub estimator: KlEstimator,
    /// Coefficient β of the KL term in the loss (0.01 in R-Zero); 0 disables it.
    pub beta: f32,
    /// Clamp the estimate to `[−clamp, clamp]` (10 in verl's `low_var_kl`);
    /// `None` leaves it unclamped (TRL).
    pub clamp: Option<f32>,
}

impl KlConfig {
    /// R-Zero's (verl) setting: k3, β = 0.01, clamp 10.
    pub fn r_zero() -> Self {
        Self {
            estimator: KlEstimator::K3,
            beta: 0.01,
            clamp: Some(10.0),
        }
    }
}

/// Per-token KL estimate.
///
/// With `d = ref − logp`:
/// `k1 = −d`, `k2 = ½ d²`, `k3 = exp(d') − d' − 1` where `d' = clamp(d, −20, 20)`
/// guards `exp` (current verl does the same; TRL does not clamp, which only
/// differs where `|d| > 20`). Then, if `clamp` is set, the estimate is
/// clamped to `[−clamp, clamp]`; there its gradient is zero.
///
/// # Shapes
/// - `log_probs`, `ref_log_probs`: `[b, t]`
/// - output: `[b, t]`
pub fn kl_estimate(
    log_probs: Tensor<2>,
    ref_log_probs: Tensor<2>,
    estimator: KlEstimator,
    clamp: Option<f32>,
) -> Tensor<2> {
    let kl = match estimator {
        KlEstimator::K1 => log_probs - ref_log_probs,
        KlEstimator::K2 => (log_probs - ref_log_probs).square() * 0.5,
        KlEstimator::K3 => {
            let d = (ref_log_probs - log_probs).clamp(-20.0, 20.0);
            d.clone().exp() - d - 1.0
        }
    };
    match clamp {
        Some(c) => kl.clamp(-c, c),
        None => kl,
    }
}
