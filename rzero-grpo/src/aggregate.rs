//! Masked reduction of per-token losses to one scalar per micro-batch.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// How per-token losses are reduced. Every mode gives the loss of one
/// micro-batch; the micro-batch losses of one optimizer step add up to the
/// step's objective (gradients are accumulated).
///
/// With `ℓ` the per-token loss `[b, t]`, `m` the completion mask, `M` the
/// number of micro-batches in the step and `N` the completion tokens of the
/// whole step:
///
/// | mode | loss of a micro-batch | source |
/// |---|---|---|
/// | `TokenMean` | `Σ ℓm / (Σ m + 1e-8) / M` | verl/EasyR1 `masked_mean` ÷ grad accumulation (R-Zero) |
/// | `Grpo` | `mean_b(Σ_t ℓm / max(Σ_t m, 1)) / M` | TRL `grpo` |
/// | `Bnpo` | `Σ ℓm / max(Σ m, 1) / M` | TRL `bnpo` |
/// | `DrGrpo` | `Σ ℓm / (b · L_max) / M` | TRL `dr_grpo` |
/// | `Dapo` | `Σ ℓm / max(N, 1)` | TRL `dapo` (`num_items_in_batch`) |
///
/// `TokenMean` and `Bnpo` differ only in how an all-padding micro-batch is
/// guarded (both give 0 there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum LossAggregation {
    /// Token mean over the micro-batch, divided by the micro-batch count (R-Zero).
    TokenMean,
    /// Sequence mean, then mean over sequences (TRL `grpo`).
    Grpo,
    /// Token mean over the micro-batch (TRL `bnpo`).
    Bnpo,
    /// Sum over tokens divided by rows × a fixed length (TRL `dr_grpo`).
    DrGrpo {
        /// `max_completion_length`, the fixed divisor per row.
        max_completion_length: usize,
    },
    /// Token mean over all completion tokens of the optimizer step (TRL `dapo`).
    Dapo,
}

/// Where a micro-batch sits in its optimizer step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepShare {
    /// Number of micro-batches accumulated into the optimizer step (`M`).
    pub micro_batches: usize,
    /// Completion tokens (mask sum) of the whole optimizer step (`N`).
    pub step_tokens: f32,
}

/// Reduce a per-token loss of one micro-batch to a scalar.
///
/// See [`LossAggregation`] for each mode's formula. Padding tokens
/// (`mask = 0`) never contribute, whatever their values, as long as those
/// values are finite.
///
/// # Shapes
/// - `per_token`, `mask`: `[b, t]` (mask holds 0.0 / 1.0)
/// - output: `[1]`
pub fn aggregate(
    per_token: Tensor<2>,
    mask: Tensor<2>,
    mode: LossAggregation,
    share: StepShare,
) -> Tensor<1> {
    let [b, _] = per_token.dims();
    let micro = share.micro_batches.max(1) as f32;
    let masked = per_token * mask.clone();
    match mode {
        LossAggregation::TokenMean => masked.sum() / (mask.sum() + 1e-8) / micro,
        LossAggregation::Grpo => {
            if b == 0 {
                return Tensor::zeros([1], &masked.device());
            }
            let per_row = masked.sum_dim(1) / mask.sum_dim(1).clamp_min(1.0);
            per_row.mean().reshape([1]) / micro
        }
        LossAggregation::Bnpo => masked.sum() / mask.sum().clamp_min(1.0) / micro,
        LossAggregation::DrGrpo {
            max_completion_length,
        } => {
            let denom = (b * max_completion_length).max(1) as f32;
            masked.sum() / denom / micro
        }
        LossAggregation::Dapo => masked.sum() / share.step_tokens.max(1.0),
    }
}
