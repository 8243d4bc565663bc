//! What one update reports.

use serde::{Deserialize, Serialize};

use crate::RewardStats;

/// Metrics of one optimizer step (one mini-batch).
///
/// Token-level values (`kl`, clip fractions, `entropy`, `neg_log_prob`) are
/// means over the step's completion tokens (TRL's `masked_batch_mean`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    /// Optimizer step index (0-based, over the trainer's lifetime); a
    /// skipped step leaves it, and so the LR schedule, where it was.
    pub step: u64,
    /// Learning rate used (schedule applied).
    pub lr: f64,
    /// The step's objective: sum of the micro-batch losses (surrogate + β·KL).
    pub loss: f32,
    /// The surrogate part of `loss`.
    pub policy_loss: f32,
    /// Mean KL estimate to the reference; `None` without reference log-probs.
    pub kl: Option<f32>,
    /// Fraction of tokens with `ρ < 1 − eps_low` and `A < 0`.
    pub clip_low: f32,
    /// Fraction of tokens with `ρ > 1 + eps_high` and `A > 0`.
    pub clip_high: f32,
    /// Fraction of tokens where the dual clip bound `−c·A` was taken.
    pub clip_dual: f32,
    /// Global gradient norm before clipping.
    pub grad_norm: f32,
    /// The step was skipped because the gradient norm was not finite (as verl does).
    pub skipped: bool,
    /// Mean policy entropy, when the log-prob closure returns it.
    pub entropy: Option<f32>,
    /// Mean `−log π(token)` of the sampled tokens (verl's entropy estimate).
    pub neg_log_prob: f32,
    /// Completion tokens in the step.
    pub tokens: usize,
    /// Completion tokens per second of wall time for the whole step.
    pub tokens_per_second: f32,
    /// Seconds spent in policy forward, loss and backward (all micro-batches).
    pub forward_backward_seconds: f32,
    /// Seconds spent in the norm, clip and AdamW update.
    pub optimizer_seconds: f32,
}

/// Metrics of one rollout-batch update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateReport {
    /// Reward statistics of the rollout batch.
    pub rewards: RewardStats,
    /// One entry per optimizer step, in order.
    pub steps: Vec<StepMetrics>,
}
