//! The rollout-batch update: mini-batches, micro-batches, clip, AdamW.

use std::ops::Range;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;

use crate::clip::read_vec;
use crate::loss::check_shape;
use crate::{
    AdamW, GrpoConfig, GrpoError, LossInputs, RewardStats, StepMetrics, StepShare, UpdateReport,
    clip_coefficient, global_grad_norm, group_advantages, grpo_loss,
};

/// What the policy closure returns for a micro-batch of rollouts.
#[derive(Debug, Clone)]
pub struct PolicyOutput {
    /// Log-probs of the sampled completion tokens, `[rows, t]`, tracked by autodiff.
    pub log_probs: Tensor<2>,
    /// Optional per-token entropy of the policy, `[rows, t]`, for metrics only.
    pub entropy: Option<Tensor<2>>,
}

impl PolicyOutput {
    /// Log-probs without entropy.
    pub fn new(log_probs: Tensor<2>) -> Self {
        Self {
            log_probs,
            entropy: None,
        }
    }
}

/// One rollout batch: `prompts × group_size` rollouts, group by group.
#[derive(Debug, Clone)]
pub struct RolloutBatch {
    /// One reward per rollout, `[n]`; rollouts `g·G .. (g+1)·G` share prompt `g`.
    pub rewards: Vec<f32>,
    /// Log-probs of the sampled tokens at rollout time, `[n, t]`.
    pub old_log_probs: Tensor<2>,
    /// Log-probs under the frozen reference, `[n, t]`; required when β > 0.
    pub ref_log_probs: Option<Tensor<2>>,
    /// Completion mask, `[n, t]`: 1.0 on completion tokens, 0.0 on padding.
    pub mask: Tensor<2>,
}

/// Runs GRPO updates and owns the optimizer state and step counter.
#[derive(Debug, Clone)]
pub struct GrpoTrainer {
    config: GrpoConfig,
    optimizer: AdamW,
    step: u64,
}

/// The micro-batch sums read back once per step.
struct StepSums {
    loss: f32,
    policy_loss: f32,
    token_sums: [f32; 5],
    entropy: Option<f32>,
    neg_log_prob: f32,
}

impl GrpoTrainer {
    /// A trainer with a fresh optimizer.
    pub fn new(config: GrpoConfig) -> Result<Self, GrpoError> {
        config.validate()?;
        Ok(Self {
            optimizer: AdamW::new(config.settings.optimizer),
            config,
            step: 0,
        })
    }

    /// A trainer resuming from a saved optimizer state at optimizer step `step`.
    pub fn resume(config: GrpoConfig, optimizer: AdamW, step: u64) -> Result<Self, GrpoError> {
        config.validate()?;
        Ok(Self {
            optimizer: optimizer.with_config(config.settings.optimizer),
            config,
            step,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &GrpoConfig {
        &self.config
    }

    /// The optimizer (save it with [`AdamW::save`] for a checkpoint).
    pub fn optimizer(&self) -> &AdamW {
        &self.optimizer
    }

    /// Optimizer steps taken so far.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Train `model` on one rollout batch.
    ///
    /// The batch is split into mini-batches of `global_batch` prompts,
    /// one optimizer step each (so every mini-batch after the first is
    /// off-policy, `ρ ≠ 1`); each mini-batch into micro-batches of
    /// `micro_batch_rows` rollouts whose gradients are accumulated.
    /// `policy(&model, rows)` must return the current log-probs of the
    /// sampled tokens of rollouts `rows` (global row indices), computed on an
    /// autodiff device.
    pub fn update<M, F, E>(
        &mut self,
        mut model: M,
        batch: &RolloutBatch,
        mut policy: F,
    ) -> Result<(M, UpdateReport), GrpoError>
    where
        M: Module,
        F: FnMut(&M, Range<usize>) -> Result<PolicyOutput, E>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let n = batch.rewards.len();
        let [_, t] = batch.old_log_probs.dims();
        check_shape("old_log_probs", &batch.old_log_probs.dims(), [n, t])?;
        check_shape("mask", &batch.mask.dims(), [n, t])?;
        if let Some(r) = &batch.ref_log_probs {
            check_shape("ref_log_probs", &r.dims(), [n, t])?;
        } else if self.config.settings.loss.kl.beta != 0.0 {
            return Err(GrpoError::MissingInput {
                name: "ref_log_probs",
                reason: "the KL coefficient beta is not zero",
            });
        }
        let rewards = RewardStats::new(&batch.rewards, self.config.group_size)?;
        let device = batch.old_log_probs.device();
        let reward_tensor = Tensor::from_data(TensorData::new(batch.rewards.clone(), [n]), &device);
        let advantages = group_advantages(
            reward_tensor,
            self.config.group_size,
            &self.config.settings.advantage,
        )?;

        let rows_per_step = self.config.global_batch * self.config.group_size;
        let mut steps = Vec::new();
        for start in (0..n).step_by(rows_per_step.max(1)) {
            let rows = start..(start + rows_per_step).min(n);
            let (next, metrics) =
                self.optimizer_step(model, batch, &advantages, rows, &mut policy)?;
            model = next;
            steps.push(metrics);
        }
        Ok((model, UpdateReport { rewards, steps }))
    }

    fn optimizer_step<M, F, E>(
        &mut self,
        model: M,
        batch: &RolloutBatch,
        advantages: &Tensor<1>,
        rows: Range<usize>,
        policy: &mut F,
    ) -> Result<(M, StepMetrics), GrpoError>
    where
        M: Module,
        F: FnMut(&M, Range<usize>) -> Result<PolicyOutput, E>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let step_mask = batch.mask.clone().slice(rows.clone());
        let step_tokens = read_vec(step_mask.sum(), "mask")?
            .first()
            .copied()
            .unwrap_or(0.0);
        let micro = self.config.settings.micro_batch_rows.max(1);
        let ranges: Vec<Range<usize>> = rows
            .clone()
            .step_by(micro)
            .map(|s| s..(s + micro).min(rows.end))
            .collect();
        let share = StepShare {
            micro_batches: ranges.len(),
            step_tokens,
        };
        let (grads, sums) = self.accumulate(&model, batch, advantages, &ranges, share, policy)?;
        let forward_backward = started.elapsed().as_secs_f32();

        let opt_started = Instant::now();
        let grad_norm = global_grad_norm(&model, &grads)?;
        let coef = match self.config.settings.max_grad_norm {
            Some(max) => clip_coefficient(grad_norm, max),
            None => 1.0,
        };
        let lr =
            self.config.settings.optimizer.lr * self.config.settings.schedule.multiplier(self.step);
        let skipped = !grad_norm.is_finite();
        let model = if skipped {
            tracing::warn!(
                step = self.step,
                grad_norm,
                "non-finite gradient norm: step skipped"
            );
            model
        } else {
            let model = self.optimizer.step(model, grads, lr, coef)?;
            device_sync(&batch.mask.device())?;
            model
        };
        let optimizer_seconds = opt_started.elapsed().as_secs_f32();
        let total = started.elapsed().as_secs_f32();

        let tokens = sums.token_sums[4];
        let denom = tokens.max(1.0);
        let metrics = StepMetrics {
            step: self.step,
            lr,
            loss: sums.loss,
            policy_loss: sums.policy_loss,
            kl: batch
                .ref_log_probs
                .as_ref()
                .map(|_| sums.token_sums[0] / denom),
            clip_low: sums.token_sums[1] / denom,
            clip_high: sums.token_sums[2] / denom,
            clip_dual: sums.token_sums[3] / denom,
            grad_norm,
            skipped,
            entropy: sums.entropy.map(|e| e / denom),
            neg_log_prob: sums.neg_log_prob / denom,
            tokens: tokens as usize,
            tokens_per_second: if total > 0.0 { tokens / total } else { 0.0 },
            forward_backward_seconds: forward_backward,
            optimizer_seconds,
        };
        tracing::debug!(?metrics, "grpo step");
        self.step += 1;
        Ok((model, metrics))
    }

    /// Forward, loss and backward over the micro-batches of one step.
    fn accumulate<M, F, E>(
        &self,
        model: &M,
        batch: &RolloutBatch,
        advantages: &Tensor<1>,
        ranges: &[Range<usize>],
        share: StepShare,
        policy: &mut F,
    ) -> Result<(GradientsParams, StepSums), GrpoError>
    where
        M: Module,
        F: FnMut(&M, Range<usize>) -> Result<PolicyOutput, E>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut accumulator = GradientsAccumulator::<M>::new();
        let mut metric_rows: Vec<Tensor<1>> = Vec::new();
        let mut entropy_rows: Option<Vec<Tensor<1>>> = Some(Vec::new());
        let [_, t] = batch.mask.dims();
        for rows in ranges {
            let policy_error = |source: E| GrpoError::Policy {
                start: rows.start,
                end: rows.end,
                source: source.into(),
            };
            let out = policy(model, rows.clone()).map_err(policy_error)?;
            check_shape("policy log_probs", &out.log_probs.dims(), [rows.len(), t])?;
            let target = out.log_probs.device().inner();
            let take = |x: &Tensor<2>| x.clone().slice(rows.clone()).to_device(&target);
            let mask = take(&batch.mask);
            let inputs = LossInputs {
                log_probs: out.log_probs.clone(),
                old_log_probs: take(&batch.old_log_probs),
                ref_log_probs: batch.ref_log_probs.as_ref().map(take),
                advantages: advantages.clone().slice(rows.clone()).to_device(&target),
                mask: mask.clone(),
            };
            let terms = grpo_loss(inputs, &self.config.settings.loss, share)?;
            if !terms.loss.is_tracked() {
                return Err(GrpoError::NotTracked {
                    start: rows.start,
                    end: rows.end,
                });
            }
            let grads = GradientsParams::from_grads(terms.loss.backward(), model);
            accumulator.accumulate(model, grads);

            let neg_log_prob = (-out.log_probs.inner() * mask.clone()).sum();
            metric_rows.push(Tensor::cat(
                vec![
                    terms.loss.detach().inner(),
                    terms.policy_loss.inner(),
                    terms.token_sums,
                    neg_log_prob,
                ],
                0,
            ));
            entropy_rows = match (entropy_rows, out.entropy) {
                (Some(mut acc), Some(e)) => {
                    check_shape("policy entropy", &e.dims(), [rows.len(), t])?;
                    acc.push((e.inner() * mask).sum());
                    Some(acc)
                }
                _ => None,
            };
        }
        let sums = read_sums(metric_rows, entropy_rows, &batch.mask.device())?;
        Ok((accumulator.grads(), sums))
    }
}

/// Sum the per-micro-batch metric rows and read them back in one transfer.
fn read_sums(
    rows: Vec<Tensor<1>>,
    entropy: Option<Vec<Tensor<1>>>,
    device: &Device,
) -> Result<StepSums, GrpoError> {
    let total = |v: Vec<Tensor<1>>, width: usize| {
        v.into_iter()
            .map(|x| x.to_device(device))
            .reduce(|a, b| a + b)
            .unwrap_or_else(|| Tensor::zeros([width], device))
    };
    let entropy_width = usize::from(entropy.as_ref().is_some_and(|e| !e.is_empty()));
    let mut parts = vec![total(rows, 8)];
    if let Some(e) = entropy.filter(|e| !e.is_empty()) {
        parts.push(total(e, 1));
    }
    let values = read_vec(Tensor::cat(parts, 0), "step metrics")?;
    let v = |i: usize| values.get(i).copied().unwrap_or(0.0);
    Ok(StepSums {
        loss: v(0),
        policy_loss: v(1),
        token_sums: [v(2), v(3), v(4), v(5), v(6)],
        neg_log_prob: v(7),
        entropy: (entropy_width == 1).then(|| v(8)),
    })
}

fn device_sync(device: &Device) -> Result<(), GrpoError> {
    device.sync().map_err(|source| GrpoError::Execution {
        during: "optimizer step",
        source: Box::new(source),
    })
}
