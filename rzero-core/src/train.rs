//! One GRPO update of a [`Policy`] on a batch of rollouts: rollout-time and
//! reference log-probs on the plain device, the trained log-probs on the
//! policy's autodiff device, everything else in `rzero_grpo`.

use std::ops::Range;
use std::time::Instant;

use burn::prelude::*;
use rzero_grpo::{GrpoTrainer, OldLogProbs, PolicyOutput, RolloutBatch, UpdateReport};
use rzero_model::{CompletionBatch, Qwen3, completion_logprobs_chunked};

use crate::error::Result;
use crate::memory::MemoryConfig;
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

fn pad_to(t: Tensor<2>, width: usize) -> Tensor<2> {
    let [rows, w] = t.dims();
    if w >= width {
        return t;
    }
    let zeros = Tensor::zeros([rows, width - w], &t.device());
    Tensor::cat(vec![t, zeros], 1)
}

/// Rows and log-prob chunk of a scoring call.
#[derive(Debug, Clone, Copy)]
struct Scoring {
    width: usize,
    chunk: usize,
}

fn score(model: &Qwen3, r: &Rollouts, rows: Range<usize>, at: Scoring) -> Result<Tensor<2>> {
    let device = model.embed_tokens.weight.device();
    let batch = CompletionBatch::new(
        model,
        &r.prompts[rows.clone()],
        &r.completions[rows],
        &device,
    )?;
    let logprobs = completion_logprobs_chunked(model, &batch, at.chunk);
    Ok(pad_to(logprobs, at.width))
}

/// Log-probs of rows `which` under `model` (no autodiff),
/// `[which.len(), width]`, as host data, `rows` rows per forward pass.
fn score_all(
    model: &Qwen3,
    r: &Rollouts,
    which: Range<usize>,
    rows: usize,
    at: Scoring,
) -> Result<TensorData> {
    let rows = rows.max(1);
    let mut parts = Vec::new();
    for start in which.clone().step_by(rows) {
        parts.push(score(model, r, start..(start + rows).min(which.end), at)?);
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

/// Largest |old − sampled| log-prob, `old` `[sampled.len(), width]`.
fn max_gap(old: &TensorData, sampled: &[Vec<f32>], width: usize) -> f32 {
    let old: Vec<f32> = old.clone().try_into_vec::<f32>().unwrap_or_default();
    let mut gap = 0.0f32;
    for (i, sampled) in sampled.iter().enumerate() {
        for (k, &s) in sampled.iter().enumerate() {
            if let Some(&o) = old.get(i * width + k) {
                gap = gap.max((o - s).abs());
            }
        }
    }
    gap
}

/// Trains `policy` on `rollouts` with `trainer`; `reference` is the frozen
/// model of the KL term (on a plain device), if β > 0. `memory` gives the
/// rows per scoring pass and the log-prob chunk.
///
/// Old log-probs are the policy's own before the update (as verl
/// recomputes them): the first optimizer step's rows come from that step's
/// forward pass, the later steps' rows from a scoring pass before the
/// update ([`OldLogProbs::FirstStepFromPolicy`]). Their gap to the
/// sampler's log-probs is reported. The
/// policy's weights move into the trainer for the update, so only one copy
/// of them is resident; on an error the policy keeps its weights only if
/// the failure came before the update started.
pub fn grpo_update(
    policy: &mut Policy,
    trainer: &mut GrpoTrainer,
    reference: Option<&Qwen3>,
    rollouts: &Rollouts,
    memory: &MemoryConfig,
) -> Result<TrainOutcome> {
    let width = rollouts
        .completions
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(1);
    let at = Scoring {
        width,
        chunk: memory.logprob_chunk,
    };
    let device = policy.model.embed_tokens.weight.device();
    let started = Instant::now();
    // The plain view shares the policy's buffers: dropped before the update
    // so that the optimizer can release the pre-update weights.
    let n = rollouts.prompts.len();
    let first = trainer.first_step_rows(n);
    let later = (first < n)
        .then(|| {
            score_all(
                &policy.model.valid(),
                rollouts,
                first..n,
                memory.score_rows,
                at,
            )
        })
        .transpose()?;
    let mut max_logprob_gap = later.as_ref().map_or(0.0, |old| {
        max_gap(old, &rollouts.sampled_logprobs[first..], width)
    });
    let reference = match reference {
        Some(model) => Some(Tensor::from_data(
            score_all(model, rollouts, 0..n, memory.score_rows, at)?,
            &device,
        )),
        None => None,
    };
    let score_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let batch = RolloutBatch {
        rewards: rollouts.rewards.clone(),
        old_log_probs: OldLogProbs::FirstStepFromPolicy {
            later: later.map(|old| Tensor::from_data(old, &device)),
        },
        ref_log_probs: reference,
        mask: Tensor::from_data(mask_data(rollouts, width), &device),
    };
    // Moved, not cloned: a clone left in the policy would keep every
    // pre-update weight alive beside the updated one.
    let model = policy.take_model();
    let (model, report) = trainer.update(model, &batch, |m: &Qwen3, rows: Range<usize>| {
        let log_probs = score(m, rollouts, rows.clone(), at)?;
        if rows.start < first {
            // The first step's old log-probs: the same gap check.
            let old = log_probs.clone().inner().into_data();
            let sampled = &rollouts.sampled_logprobs[rows.clone()];
            max_logprob_gap = max_logprob_gap.max(max_gap(&old, sampled, width));
        }
        Ok::<_, crate::error::CoreError>(PolicyOutput::new(log_probs))
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
