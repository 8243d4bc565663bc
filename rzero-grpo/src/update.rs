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
    /// Log-probs of the sampled tokens under the policy before the update.
    pub old_log_probs: OldLogProbs,
    /// Log-probs under the frozen reference, `[n, t]`; required when β > 0.
    pub ref_log_probs: Option<Tensor<2>>,
    /// Completion mask, `[n, t]`: 1.0 on completion tokens, 0.0 on padding.
    pub mask: Tensor<2>,
}

/// The "old" log-probs of the importance ratio: the policy's, before the
/// update.
#[derive(Debug, Clone)]
pub enum OldLogProbs {
    /// Scored for every rollout before the update, `[n, t]`.
    Scored(Tensor<2>),
    /// The first optimizer step's rows are scored by that step's own
    /// forward pass, detached, since the model has not moved yet (`ρ = 1`,
    /// as TRL does with one iteration; verl's recomputation gives the same
    /// values). This saves a forward pass over those rows. `later` holds
    /// the rows of the later steps, scored before the update, `[n − f, t]`
    /// with `f` from [`GrpoTrainer::first_step_rows`]; `None` when the
    /// batch is one step.
    FirstStepFromPolicy {
        /// Log-probs of rows `f..n`.
        later: Option<Tensor<2>>,
    },
}

/// The error for a multi-step batch without its later steps' old log-probs.
fn later_missing() -> GrpoError {
    GrpoError::MissingInput {
        name: "old_log_probs (later steps)",
        reason: "the batch spans more than one optimizer step",
    }
}

impl From<Tensor<2>> for OldLogProbs {
    fn from(scored: Tensor<2>) -> Self {
        Self::Scored(scored)
    }
}

impl OldLogProbs {
    /// Checks the shape against `n` rollouts of `t` tokens, `first` of
    /// them in the first step.
    fn check(&self, n: usize, t: usize, first: usize) -> Result<(), GrpoError> {
        match self {
            Self::Scored(old) => check_shape("old_log_probs", &old.dims(), [n, t]),
            Self::FirstStepFromPolicy { later: Some(old) } => {
                check_shape("old_log_probs (later steps)", &old.dims(), [n - first, t])
            }
            Self::FirstStepFromPolicy { later: None } if first < n => Err(later_missing()),
            Self::FirstStepFromPolicy { later: None } => Ok(()),
        }
    }

    /// The old log-probs of `rows` (inside one step), given the policy's
    /// current log-probs of those rows; `first` rows are in the first step.
    fn rows(
        &self,
        rows: Range<usize>,
        current: &Tensor<2>,
        first: usize,
    ) -> Result<Tensor<2>, GrpoError> {
        Ok(match self {
            Self::Scored(old) => old.clone().slice(rows),
            Self::FirstStepFromPolicy { .. } if rows.start < first => current.clone().inner(),
            Self::FirstStepFromPolicy { later: Some(later) } => {
                later.clone().slice(rows.start - first..rows.end - first)
            }
            Self::FirstStepFromPolicy { later: None } => return Err(later_missing()),
        })
    }
}

/// Runs GRPO updates and owns the optimizer state and step counter.
#[derive(Debug, Clone)]
pub struct GrpoTrainer {
    config: GrpoConfig,
    optimizer: AdamW,
    step: u64,
}

/// A step's sums over its micro-batches: `[1]` tensors while they
/// accumulate on the device, then `f32` after the one read-back per step.
#[derive(Debug, Clone, Copy, PartialEq)]
struct StepSums<T> {
    loss: T,
    policy_loss: T,
    kl: T,
    clipped_low: T,
    clipped_high: T,
    clipped_dual: T,
    tokens: T,
    neg_log_prob: T,
}

impl<T> StepSums<T> {
    /// The fields in a fixed order, for the single transfer; inverse of
    /// [`StepSums::from_array`].
    fn into_array(self) -> [T; 8] {
        [
            self.loss,
            self.policy_loss,
            self.kl,
            self.clipped_low,
            self.clipped_high,
            self.clipped_dual,
            self.tokens,
            self.neg_log_prob,
        ]
    }

    fn from_array(values: [T; 8]) -> Self {
        let [
            loss,
            policy_loss,
            kl,
            clipped_low,
            clipped_high,
            clipped_dual,
            tokens,
            neg_log_prob,
        ] = values;
        Self {
            loss,
            policy_loss,
            kl,
            clipped_low,
            clipped_high,
            clipped_dual,
            tokens,
            neg_log_prob,
        }
    }
}

/// A step's sums on the host, with the entropy sum when every micro-batch
/// returned entropy.
struct HostSums {
    sums: StepSums<f32>,
    entropy: Option<f32>,
}

impl StepSums<Tensor<1>> {
    /// One micro-batch's sums, moved to `device`.
    fn of_micro_batch(terms: crate::LossTerms, neg_log_prob: Tensor<1>, device: &Device) -> Self {
        let t = terms.token_sums;
        Self {
            loss: terms.loss.detach().inner(),
            policy_loss: terms.policy_loss.inner(),
            kl: t.kl,
            clipped_low: t.clipped_low,
            clipped_high: t.clipped_high,
            clipped_dual: t.clipped_dual,
            tokens: t.tokens,
            neg_log_prob,
        }
        .map(|x| x.to_device(device))
    }

    fn map(self, f: impl FnMut(Tensor<1>) -> Tensor<1>) -> Self {
        Self::from_array(self.into_array().map(f))
    }

    fn add(self, other: Self) -> Self {
        let mut other = other.into_array().into_iter();
        self.map(|a| match other.next() {
            Some(b) => a + b,
            None => a,
        })
    }
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

    /// Optimizer steps taken so far (skipped steps not counted); the LR
    /// schedule is evaluated at this count.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Rows of an `n`-rollout batch in its first optimizer step (see
    /// [`OldLogProbs::FirstStepFromPolicy`]).
    pub fn first_step_rows(&self, n: usize) -> usize {
        (self.config.global_batch * self.config.group_size)
            .max(1)
            .min(n)
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
        let [_, t] = batch.mask.dims();
        check_shape("mask", &batch.mask.dims(), [n, t])?;
        batch.old_log_probs.check(n, t, self.first_step_rows(n))?;
        if let Some(r) = &batch.ref_log_probs {
            check_shape("ref_log_probs", &r.dims(), [n, t])?;
        } else if self.config.settings.loss.kl.beta != 0.0 {
            return Err(GrpoError::MissingInput {
                name: "ref_log_probs",
                reason: "the KL coefficient beta is not zero",
            });
        }
        let rewards = RewardStats::new(&batch.rewards, self.config.group_size)?;
        let device = batch.mask.device();
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

        let HostSums { sums, entropy } = sums;
        let tokens = sums.tokens;
        let denom = tokens.max(1.0);
        let metrics = StepMetrics {
            step: self.step,
            lr,
            loss: sums.loss,
            policy_loss: sums.policy_loss,
            kl: batch.ref_log_probs.as_ref().map(|_| sums.kl / denom),
            clip_low: sums.clipped_low / denom,
            clip_high: sums.clipped_high / denom,
            clip_dual: sums.clipped_dual / denom,
            grad_norm,
            skipped,
            entropy: entropy.map(|e| e / denom),
            neg_log_prob: sums.neg_log_prob / denom,
            tokens: tokens as usize,
            tokens_per_second: if total > 0.0 { tokens / total } else { 0.0 },
            forward_backward_seconds: forward_backward,
            optimizer_seconds,
        };
        tracing::debug!(?metrics, "grpo step");
        // A skipped step changed nothing, so the schedule does not move either.
        if !skipped {
            self.step += 1;
        }
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
    ) -> Result<(GradientsParams, HostSums), GrpoError>
    where
        M: Module,
        F: FnMut(&M, Range<usize>) -> Result<PolicyOutput, E>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut accumulator = GradientsAccumulator::<M>::new();
        let metrics_device = batch.mask.device();
        let mut sums: Option<StepSums<Tensor<1>>> = None;
        let mut entropy: Option<Vec<Tensor<1>>> = Some(Vec::new());
        let [n, t] = batch.mask.dims();
        let first = self.first_step_rows(n);
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
                old_log_probs: batch
                    .old_log_probs
                    .rows(rows.clone(), &out.log_probs, first)?
                    .to_device(&target),
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
            let micro = StepSums::of_micro_batch(terms, neg_log_prob, &metrics_device);
            sums = Some(match sums {
                Some(acc) => acc.add(micro),
                None => micro,
            });
            entropy = match (entropy, out.entropy) {
                (Some(mut acc), Some(e)) => {
                    check_shape("policy entropy", &e.dims(), [rows.len(), t])?;
                    acc.push((e.inner() * mask).sum().to_device(&metrics_device));
                    Some(acc)
                }
                _ => None,
            };
        }
        let entropy = entropy.and_then(|e| e.into_iter().reduce(|a, b| a + b));
        let sums = read_sums(sums, entropy, &metrics_device)?;
        Ok((accumulator.grads(), sums))
    }
}

/// Reads a step's sums (and the entropy sum, when every micro-batch had
/// one) back in one transfer.
fn read_sums(
    sums: Option<StepSums<Tensor<1>>>,
    entropy: Option<Tensor<1>>,
    device: &Device,
) -> Result<HostSums, GrpoError> {
    let sums = sums.unwrap_or_else(|| {
        StepSums::from_array(std::array::from_fn(|_| Tensor::zeros([1], device)))
    });
    let mut parts = sums.into_array().to_vec();
    let has_entropy = entropy.is_some();
    parts.extend(entropy);
    let values = read_vec(Tensor::cat(parts, 0), "step metrics")?;
    let v = |i: usize| values.get(i).copied().unwrap_or(0.0);
    let host = StepSums::from_array(std::array::from_fn(v));
    Ok(HostSums {
        sums: host,
        entropy: has_entropy.then(|| v(8)),
    })
}

fn device_sync(device: &Device) -> Result<(), GrpoError> {
    device.sync().map_err(|source| GrpoError::Execution {
        during: "optimizer step",
        source: Box::new(source),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_sums_keep_their_names_through_the_transfer() {
        let device = Device::flex();
        let one = |x: f32| Tensor::<1>::from_data(TensorData::new(vec![x], [1]), &device);
        let a = StepSums::from_array(std::array::from_fn(|i| one(i as f32)));
        let b = StepSums::from_array(std::array::from_fn(|i| one(10.0 * i as f32)));
        let HostSums {
            sums: host,
            entropy,
        } = read_sums(Some(a.add(b)), Some(one(5.0)), &device).unwrap();
        assert_eq!(host.loss, 0.0);
        assert_eq!(host.policy_loss, 11.0);
        assert_eq!(host.kl, 22.0);
        assert_eq!(host.tokens, 66.0);
        assert_eq!(host.neg_log_prob, 77.0);
        assert_eq!(entropy, Some(5.0));
        let none = read_sums(None, None, &device).unwrap();
        assert_eq!(none.entropy, None);
        assert_eq!(none.sums.tokens, 0.0);
    }
}
