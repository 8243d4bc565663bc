//! The update's configuration.

use serde::{Deserialize, Serialize};

use crate::{AdamWConfig, AdvantageConfig, GrpoError, LossAggregation, LossConfig, LrSchedule};

/// Everything a [`crate::GrpoTrainer`] needs; no field has a hidden default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GrpoConfig {
    /// Rollouts per prompt `G`.
    pub group_size: usize,
    /// Prompts per optimizer step (verl's `global_batch_size`): a rollout
    /// batch of `P` prompts gives `ceil(P / prompts_per_step)` optimizer steps.
    pub prompts_per_step: usize,
    /// Rollouts per micro-batch (one forward/backward; gradients accumulate).
    pub micro_batch_rows: usize,
    /// Advantage normalisation.
    pub advantage: AdvantageConfig,
    /// The loss.
    pub loss: LossConfig,
    /// AdamW hyperparameters.
    pub optimizer: AdamWConfig,
    /// Global gradient-norm clip (`clip_grad_norm_`); `None` disables it.
    pub max_grad_norm: Option<f32>,
    /// Learning-rate schedule over optimizer steps.
    pub schedule: LrSchedule,
}

impl GrpoConfig {
    /// R-Zero's Solver-phase values (DESIGN §6): G = 5, 128 prompts per
    /// step, clip 0.2/0.3, dual clip 3, k3 KL β = 0.01 clamped to 10, token
    /// mean, AdamW lr 1e-6 (0.9, 0.999) eps 1e-8 wd 0.01, clip 1.0, constant lr.
    /// `micro_batch_rows` (a memory knob, not part of the algorithm) is 8.
    pub fn r_zero_solver() -> Self {
        Self {
            group_size: 5,
            prompts_per_step: 128,
            micro_batch_rows: 8,
            advantage: AdvantageConfig::r_zero(),
            loss: LossConfig::r_zero(),
            optimizer: AdamWConfig::r_zero(),
            max_grad_norm: Some(1.0),
            schedule: LrSchedule::Constant,
        }
    }

    /// R-Zero's Challenger-phase values: as the Solver, with G = 4 and 16 prompts per step.
    pub fn r_zero_challenger() -> Self {
        Self {
            group_size: 4,
            prompts_per_step: 16,
            ..Self::r_zero_solver()
        }
    }

    /// Reject values that cannot run.
    pub fn validate(&self) -> Result<(), GrpoError> {
        let positive = |value: usize, field| {
            if value == 0 {
                Err(GrpoError::Config {
                    field,
                    reason: "must be at least 1",
                })
            } else {
                Ok(())
            }
        };
        positive(self.group_size, "group_size")?;
        positive(self.prompts_per_step, "prompts_per_step")?;
        positive(self.micro_batch_rows, "micro_batch_rows")?;
        self.loss.clip.validate()?;
        if let LossAggregation::DrGrpo {
            max_completion_length,
        } = self.loss.aggregation
        {
            positive(
                max_completion_length,
                "loss.aggregation.max_completion_length",
            )?;
        }
        let o = &self.optimizer;
        let checks = [
            (
                o.lr >= 0.0 && o.lr.is_finite(),
                "optimizer.lr",
                "must be finite and ≥ 0",
            ),
            (
                (0.0..1.0).contains(&o.beta1),
                "optimizer.beta1",
                "must lie in [0, 1)",
            ),
            (
                (0.0..1.0).contains(&o.beta2),
                "optimizer.beta2",
                "must lie in [0, 1)",
            ),
            (o.eps > 0.0, "optimizer.eps", "must be > 0"),
            (
                o.weight_decay >= 0.0,
                "optimizer.weight_decay",
                "must be ≥ 0",
            ),
            (
                self.max_grad_norm.is_none_or(|m| m > 0.0),
                "max_grad_norm",
                "must be > 0",
            ),
            (self.advantage.eps >= 0.0, "advantage.eps", "must be ≥ 0"),
            (self.loss.kl.beta >= 0.0, "loss.kl.beta", "must be ≥ 0"),
            (
                self.loss.kl.clamp.is_none_or(|c| c > 0.0),
                "loss.kl.clamp",
                "must be > 0",
            ),
        ];
        for (ok, field, reason) in checks {
            if !ok {
                return Err(GrpoError::Config { field, reason });
            }
        }
        Ok(())
    }
}
