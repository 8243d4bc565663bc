//! Learning-rate schedules.

use serde::{Deserialize, Serialize};

/// Learning-rate multiplier per optimizer step, as `transformers`/verl define
/// them: step `k` (0-based, the number of steps already taken) runs with
/// `lr · multiplier(k)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LrSchedule {
    /// Always 1 (R-Zero).
    Constant,
    /// `k / warmup` for `k < warmup`, then 1
    /// (`get_constant_schedule_with_warmup`; note step 0 runs with lr 0).
    LinearWarmup {
        /// Warmup steps.
        warmup_steps: u64,
    },
    /// Linear warmup, then a half cosine from 1 down to `min_lr_ratio`:
    /// `max(r, r + (1 − r)·½(1 + cos(π·p)))`, `p = (k − warmup) / max(1, total − warmup)`
    /// (verl's `get_cosine_schedule_with_warmup`; `transformers`' when `r = 0`).
    Cosine {
        /// Warmup steps.
        warmup_steps: u64,
        /// Total optimizer steps of the run.
        total_steps: u64,
        /// Floor of the multiplier `r` in `[0, 1]`.
        min_lr_ratio: f64,
    },
}

impl LrSchedule {
    /// The multiplier of the base learning rate at optimizer step `step`.
    pub fn multiplier(&self, step: u64) -> f64 {
        let warmup = match *self {
            LrSchedule::Constant => return 1.0,
            LrSchedule::LinearWarmup { warmup_steps } => warmup_steps,
            LrSchedule::Cosine { warmup_steps, .. } => warmup_steps,
        };
        if step < warmup {
            return step as f64 / warmup.max(1) as f64;
        }
        match *self {
            LrSchedule::Cosine {
                total_steps,
                min_lr_ratio,
                ..
            } => {
                let span = total_steps.saturating_sub(warmup).max(1) as f64;
                let progress = (step - warmup) as f64 / span;
                let r = min_lr_ratio;
                let value =
                    (std::f64::consts::PI * progress).cos() * (1.0 - r) * 0.5 + (1.0 + r) * 0.5;
                value.max(r)
            }
            _ => 1.0,
        }
    }
}
