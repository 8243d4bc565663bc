//! The update's configuration: [`GrpoSettings`] (the algorithm's
//! hyperparameters, shared by every phase that trains with GRPO) and
//! [`GrpoConfig`] (those settings plus one phase's batch shape).

use serde::{Deserialize, Serialize};

use crate::{
    AdamWConfig, AdvantageConfig, GrpoError, LoraSettings, LossAggregation, LossConfig, LrSchedule,
};

/// Everything a [`crate::GrpoTrainer`] needs; no field has a hidden default.
///
/// Serialized flat: `group_size`, `global_batch` and the fields of
/// [`GrpoSettings`] side by side.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GrpoConfig {
    /// Rollouts per prompt `G`.
    pub group_size: usize,
    /// Prompts per optimizer step (verl's `global_batch_size`): a rollout
    /// batch of `P` prompts gives `ceil(P / global_batch)` optimizer steps.
    #[serde(alias = "prompts_per_step")]
    pub global_batch: usize,
    /// Advantage, loss, optimizer, clip, schedule and micro-batching.
    #[serde(flatten)]
    pub settings: GrpoSettings,
}

/// The GRPO hyperparameters that do not depend on a phase's batch shape
/// (docs/DESIGN.md §6); rzero-core reads them from its `[grpo]` table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpoSettings {
    /// Advantage normalisation.
    pub advantage: AdvantageConfig,
    /// Clip ranges, KL term and loss aggregation.
    pub loss: LossConfig,
    /// AdamW hyperparameters.
    pub optimizer: AdamWConfig,
    /// Global gradient-norm clip (`clip_grad_norm_`); `None` disables it.
    pub max_grad_norm: Option<f32>,
    /// Learning-rate schedule over optimizer steps.
    pub schedule: LrSchedule,
    /// Rollouts per micro-batch (one forward/backward; gradients accumulate
    /// inside an optimizer step). A memory knob, not part of the algorithm.
    pub micro_batch_rows: usize,
    /// Train LoRA adapters instead of every weight (`[grpo.lora]`); `None`
    /// (absent) is full fine-tuning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora: Option<LoraSettings>,
}

impl GrpoSettings {
    /// R-Zero's values (docs/DESIGN.md §6): clip 0.2/0.3, dual clip 3, k3
    /// KL β = 0.01 clamped to 10, token mean, AdamW lr 1e-6 (0.9, 0.999)
    /// eps 1e-8 wd 0.01, grad clip 1.0, constant lr; 8 rollouts per
    /// micro-batch.
    pub fn r_zero() -> Self {
        Self {
            advantage: AdvantageConfig::r_zero(),
            loss: LossConfig::r_zero(),
            optimizer: AdamWConfig::r_zero(),
            max_grad_norm: Some(1.0),
            schedule: LrSchedule::Constant,
            micro_batch_rows: 8,
            lora: None,
        }
    }

    /// The trainer config of a phase with `group_size` rollouts per prompt
    /// and `global_batch` prompts per optimizer step.
    pub fn for_phase(self, group_size: usize, global_batch: usize) -> GrpoConfig {
        GrpoConfig {
            group_size,
            global_batch,
            settings: self,
        }
    }
}

impl GrpoConfig {
    /// R-Zero's Solver-phase values (docs/DESIGN.md §6): G = 5, 128 prompts
    /// per optimizer step, [`GrpoSettings::r_zero`].
    pub fn r_zero_solver() -> Self {
        GrpoSettings::r_zero().for_phase(5, 128)
    }

    /// R-Zero's Challenger-phase values: as the Solver, with G = 4 and 16
    /// prompts per optimizer step.
    pub fn r_zero_challenger() -> Self {
        GrpoSettings::r_zero().for_phase(4, 16)
    }

    /// Reject values that cannot run.
    pub fn validate(&self) -> Result<(), GrpoError> {
        positive(self.group_size, "group_size")?;
        positive(self.global_batch, "global_batch")?;
        self.settings.validate()
    }
}

impl GrpoSettings {
    /// Reject values that cannot run.
    pub fn validate(&self) -> Result<(), GrpoError> {
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
        if let Some(lora) = &self.lora {
            positive(lora.rank, "lora.rank")?;
            let alpha = lora.alpha();
            if !(alpha.is_finite() && alpha > 0.0) {
                return Err(GrpoError::Config {
                    field: "lora.alpha",
                    reason: "must be finite and > 0",
                });
            }
            if lora.targets.is_empty() {
                return Err(GrpoError::Config {
                    field: "lora.targets",
                    reason: "must name at least one projection",
                });
            }
        }
        for (ok, field, reason) in checks {
            if !ok {
                return Err(GrpoError::Config { field, reason });
            }
        }
        Ok(())
    }
}

fn positive(value: usize, field: &'static str) -> Result<(), GrpoError> {
    if value == 0 {
        Err(GrpoError::Config {
            field,
            reason: "must be at least 1",
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_is_written_flat_and_reads_the_old_batch_name() {
        let config = GrpoConfig::r_zero_challenger();
        let json = serde_json::to_value(config).unwrap();
        assert_eq!(json["group_size"], 4);
        assert_eq!(json["global_batch"], 16);
        assert_eq!(json["micro_batch_rows"], 8);
        assert!(json.get("settings").is_none(), "{json}");
        // Files written before the rename name the field `prompts_per_step`.
        let mut old = json.clone();
        let fields = old.as_object_mut().unwrap();
        let batch = fields.remove("global_batch").unwrap();
        fields.insert("prompts_per_step".into(), batch);
        let back: GrpoConfig = serde_json::from_value(old).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn both_phases_share_the_settings() {
        let (c, s) = (GrpoConfig::r_zero_challenger(), GrpoConfig::r_zero_solver());
        assert_eq!(c.settings, s.settings);
        assert_eq!((c.group_size, c.global_batch), (4, 16));
        assert_eq!((s.group_size, s.global_batch), (5, 128));
    }

    #[test]
    fn an_empty_batch_shape_is_named() {
        let mut config = GrpoConfig::r_zero_solver();
        config.global_batch = 0;
        let err = config.validate().unwrap_err();
        assert!(err.to_string().contains("global_batch"), "{err}");
        config.global_batch = 1;
        config.settings.micro_batch_rows = 0;
        let err = config.validate().unwrap_err();
        assert!(err.to_string().contains("micro_batch_rows"), "{err}");
    }
}
