//! One GRPO update of a [`Policy`] on a batch of rollouts: rollout-time and
//! reference log-probs on the plain device, the trained log-probs on the
//! policy's autodiff device, everything else in `rzero_grpo`.

use std::ops::Range;
use std::time::Instant;

use burn::prelude::*;
use rzero_grpo::{GrpoTrainer, PolicyOutput, RolloutBatch, UpdateReport};
use rzero_model::{CompletionBatch, Qwen3, completion_logprobs};

use crate::error::Result;
use crate::policy::Policy;

/// Rows of a rollout batch, laid out group by group (rows `g·G..(g+1)·G`
/// answer the same prompt).
#[derive(Debug, Clone, Default)]
pub struct Rollouts {
    /// Prompt ids of each row.
    pub prompts: Vec<Vec<u32>>,
    /// Sampled completion ids of each row.
    pub completions: Vec<Vec<u32>>,
    /// Log-probs the sampler reported for each completion token.
    pub sampled_logprobs: Vec<Vec<f32>>,
    /// Reward of each row.
    pub rewards: Vec<f32>,
}

/// What an update reports beyond the trainer's own metrics.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The trainer's per-step metrics.
    pub report: UpdateReport,
    /// Largest |sampling-time − training-time| log-prob over all tokens.
    pub max_logprob_gap: f32,
    /// Wall seconds of the no-grad forward passes (old and reference log-probs).
    pub score_seconds: f64,
    /// Wall seconds of the optimizer steps (forward, backward, AdamW).
    pub train_seconds: f64,
}

/// Rows scored per forward pass when computing old/reference log-probs.
const SCORE_CHUNK: usize = 32;

fn pad_to(t: Tensor<2>, width: usize) -> Tensor<2> {
    let [rows, w] = t.dims();
    if w >= width {
        return t;
    }
    let zeros = Tensor::zeros([rows, width - w], &t.device());
    Tensor::cat(vec![t, zeros], 1)
}

fn score(model: &Qwen3, r: &Rollouts, rows: Range<usize>, width: usize) -> Result<Tensor<2>> {
    let device = model.embed_tokens.weight.device();
    let batch = CompletionBatch::new(
        model,
        &r.prompts[rows.clone()],
        &r.completions[rows],
        &device,
    )?;
    Ok(pad_to(completion_logprobs(model, &batch), width))
}

/// Log-probs of every row under `model` (no autodiff), `[n, width]`, as host data.
fn score_all(model: &Qwen3, r: &Rollouts, width: usize) -> Result<TensorData> {
    let n = r.prompts.len();
    let mut parts = Vec::new();
    for start in (0..n).step_by(SCORE_CHUNK) {
        parts.push(score(model, r, start..(start + SCORE_CHUNK).min(n), width)?);
    }
    Ok(Tensor::cat(parts, 0).into_data())
}

fn mask_data(r: &Rollouts, width: usize) -> TensorData {
    let mut mask = vec![0.0f32; r.prompts.len() * width];
    for (i, c) in r.completions.iter().enumerate() {
        mask[i * width..i * width + c.len()].fill(1.0);
    }
    TensorData::new(mask, [r.prompts.len(), width])
}

fn max_gap(old: &TensorData, r: &Rollouts, width: usize) -> f32 {
    let old: Vec<f32> = old.clone().try_into_vec::<f32>().unwrap_or_default();
    let mut gap = 0.0f32;
    for (i, sampled) in r.sampled_logprobs.iter().enumerate() {
        for (k, &s) in sampled.iter().enumerate() {
            if let Some(&o) = old.get(i * width + k) {
                gap = gap.max((o - s).abs());
            }
        }
    }
    gap
}

/// Trains `policy` on `rollouts` with `trainer`; `reference` is the frozen
/// model of the KL term (on a plain device), if β > 0.
///
/// Old log-probs are recomputed with a forward pass before the update (as
/// verl does), and their gap to the sampler's log-probs is reported.
pub fn grpo_update(
    policy: &mut Policy,
    trainer: &mut GrpoTrainer,
    reference: Option<&Qwen3>,
    rollouts: &Rollouts,
) -> Result<TrainOutcome> {
    let width = rollouts
        .completions
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(1);
    let device = policy.model.embed_tokens.weight.device();
    let plain = policy.model.valid();
    let started = Instant::now();
    let old = score_all(&plain, rollouts, width)?;
    let max_logprob_gap = max_gap(&old, rollouts, width);
    let reference = match reference {
        Some(model) => Some(Tensor::from_data(
            score_all(model, rollouts, width)?,
            &device,
        )),
        None => None,
    };
    let score_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let batch = RolloutBatch {
        rewards: rollouts.rewards.clone(),
        old_log_probs: Tensor::from_data(old, &device),
        ref_log_probs: reference,
        mask: Tensor::from_data(mask_data(rollouts, width), &device),
    };
    let model = policy.model.clone();
    let (model, report) = trainer.update(model, &batch, |m: &Qwen3, rows: Range<usize>| {
        score(m, rollouts, rows, width).map(PolicyOutput::new)
    })?;
    policy.model = model;
    Ok(TrainOutcome {
        report,
        max_logprob_gap,
        score_seconds,
        train_seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_covers_each_completion() {
        let r = Rollouts {
            prompts: vec![vec![1], vec![1]],
            completions: vec![vec![5, 6], vec![7]],
            sampled_logprobs: vec![vec![-0.1, -0.2], vec![-0.3]],
            rewards: vec![1.0, 0.0],
        };
        let m: Vec<f32> = mask_data(&r, 3).try_into_vec::<f32>().unwrap();
        assert_eq!(m, vec![1.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
    }
}
