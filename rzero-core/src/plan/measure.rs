//! `rzero plan --measure`: one training micro-step of an update phase, or
//! one decode step with a full KV cache of a sampling phase, on a device,
//! with the phase's other resident models loaded, and the process's peak
//! resident set around it.
//!
//! Meant to run in a fresh process per phase (`rzero plan --measure-phase
//! NAME`): freed heap memory is not always returned to the system, so a
//! phase measured after another would inherit its peak. The peak is reset
//! after loading (`/proc/self/clear_refs`) when the kernel allows it.

use std::path::Path;

use burn::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rzero_grpo::GrpoTrainer;
use rzero_model::{Qwen3, apply_lora, load_pretrained, merge_lora};
use serde::{Deserialize, Serialize};

use super::size::{current_rss, peak_rss, reset_peak_rss};
use super::{PhaseKind, PhasePlan, PlanError};
use crate::config::RunConfig;
use crate::memory::{MemoryConfig, Recompute};
use crate::policy::{Policy, lora_config};
use crate::train::{Rollouts, grpo_update};

/// What one measured phase used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measurement {
    /// Peak resident set during the measured step (the whole process's,
    /// weights and everything else resident included), bytes.
    pub peak_bytes: u64,
    /// Resident set before any model was loaded, bytes: the binary, its
    /// libraries and the allocator's own state.
    pub baseline_bytes: u64,
    /// The peak was reset after loading, so it excludes load-time temporaries.
    pub peak_reset: bool,
}

/// Measures `phase` of `config` with the model in `model_dir` on `device`
/// (a plain device; training uses its autodiff twin), at the phase's
/// chosen rows and longest sequence, with random tokens.
///
/// The peak is this process's RSS, so it only means something on a CPU
/// device and in a process that has run nothing else.
pub fn measure_phase(
    config: &RunConfig,
    model_dir: &Path,
    phase: &PhasePlan,
    device: &Device,
) -> Result<Measurement, PlanError> {
    if phase.remote {
        return Err(PlanError::Unmeasurable {
            phase: phase.name.clone(),
            reason: "it samples on inference servers".into(),
        });
    }
    if phase.micro_batch_rows == 0 || phase.sequence < 2 {
        return Err(PlanError::Unmeasurable {
            phase: phase.name.clone(),
            reason: "no rows or no completion to run".into(),
        });
    }
    match phase.kind {
        PhaseKind::Update => measure_update(config, model_dir, phase, device),
        PhaseKind::Sampling => measure_sampling(model_dir, phase, device),
    }
}

fn random_ids(rng: &mut ChaCha8Rng, vocab: usize, len: usize) -> Vec<u32> {
    (0..len)
        .map(|_| rng.random_range(0..vocab as u32))
        .collect()
}

/// `rows` rollouts of `prompt` random prompt tokens and `completion`
/// random completion tokens, rewards alternating 1, 0.
fn random_rollouts(
    rng: &mut ChaCha8Rng,
    vocab: usize,
    rows: usize,
    prompt: usize,
    completion: usize,
) -> Rollouts {
    let mut r = Rollouts::default();
    for i in 0..rows {
        r.prompts.push(random_ids(rng, vocab, prompt));
        r.completions.push(random_ids(rng, vocab, completion));
        r.sampled_logprobs.push(vec![0.0; completion]);
        r.rewards.push(if i % 2 == 0 { 1.0 } else { 0.0 });
    }
    r
}

fn frozen_copies(model_dir: &Path, device: &Device, copies: u64) -> Result<Vec<Qwen3>, PlanError> {
    (0..copies)
        .map(|_| Ok(load_pretrained(model_dir, device)?.0))
        .collect()
}

/// One optimizer step over two micro-batches of the chosen rows (so the
/// gradients accumulate, as in a run; only the second is long), through the run's own
/// `grpo_update`: scoring passes, forward, chunked log-probs, GRPO loss,
/// backward, global clip, AdamW. A one-token warm-up update first
/// allocates the AdamW moments, which a run holds from its first step on.
fn measure_update(
    config: &RunConfig,
    model_dir: &Path,
    phase: &PhasePlan,
    device: &Device,
) -> Result<Measurement, PlanError> {
    let spec = &phase.spec;
    let baseline_bytes = current_rss()?;
    let mut policy = Policy::load(model_dir, &device.clone().autodiff())?;
    if let Some(lora) = &spec.lora {
        policy.attach_lora(lora_config(lora)?, String::new(), 0)?;
    }
    let reference = if spec.resident.reference {
        Some(load_pretrained(model_dir, device)?.0)
    } else {
        None
    };
    let _frozen = frozen_copies(model_dir, device, spec.resident.frozen)?;
    let rows = phase.micro_batch_rows as usize;
    let mut settings = config.grpo;
    settings.micro_batch_rows = rows;
    let mut trainer = GrpoTrainer::new(settings.for_phase(2, rows))?;
    let memory = MemoryConfig {
        score_rows: phase.score_rows.unwrap_or(1) as usize,
        logprob_chunk: phase.logprob_chunk.unwrap_or(1) as usize,
        recompute: if phase.recompute == Some(true) {
            Recompute::On
        } else {
            Recompute::Off
        },
        ..config.memory
    };
    policy.apply_memory(&memory);
    let vocab = policy.model.vocab_size();
    let mut rng = ChaCha8Rng::seed_from_u64(0x706c_616e);
    let warm_up = random_rollouts(&mut rng, vocab, 2, 1, 1);
    grpo_update(
        &mut policy,
        &mut trainer,
        reference.as_ref(),
        &warm_up,
        &memory,
    )?;
    let prompt = (spec.prompt_tokens as usize).min(phase.sequence as usize - 1);
    let completion = phase.sequence as usize - prompt;
    // Two micro-batches, so gradients accumulate as in a run: a one-token
    // one first (cheap; it leaves the running gradient sum), then the
    // measured one at the phase's longest sequence.
    let mut batch = random_rollouts(&mut rng, vocab, rows, 1, 1);
    let long = random_rollouts(&mut rng, vocab, rows, prompt, completion);
    batch.prompts.extend(long.prompts);
    batch.completions.extend(long.completions);
    batch.sampled_logprobs.extend(long.sampled_logprobs);
    // Rewards 0, 1, 0, 1, …: every group of 2 has a non-zero advantage.
    batch.rewards = (0..2 * rows).map(|i| (i % 2) as f32).collect();
    let peak_reset = reset_peak_rss();
    grpo_update(
        &mut policy,
        &mut trainer,
        reference.as_ref(),
        &batch,
        &memory,
    )?;
    Ok(Measurement {
        peak_bytes: peak_rss()?,
        baseline_bytes,
        peak_reset,
    })
}

fn int_tensor(values: Vec<i64>, shape: [usize; 2], device: &Device) -> Tensor<2, Int> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Random tokens and their positions `start..start + len` for `rows` rows.
fn random_inputs(
    rng: &mut ChaCha8Rng,
    vocab: usize,
    rows: usize,
    start: usize,
    len: usize,
    device: &Device,
) -> (Tensor<2, Int>, Tensor<2, Int>) {
    let tokens = (0..rows * len)
        .map(|_| i64::from(rng.random_range(0..vocab as u32)))
        .collect();
    let positions = (0..rows)
        .flat_map(|_| (start..start + len).map(|p| p as i64))
        .collect();
    (
        int_tensor(tokens, [rows, len], device),
        int_tensor(positions, [rows, len], device),
    )
}

/// The generator's two peaks: the prefill of `rows / n` prompts and its
/// replication to `rows` rows, then (after filling the cache with zeros up
/// to the sequence) one decode step and the cache copy that drops a
/// finished row.
fn measure_sampling(
    model_dir: &Path,
    phase: &PhasePlan,
    device: &Device,
) -> Result<Measurement, PlanError> {
    let spec = &phase.spec;
    let baseline_bytes = current_rss()?;
    let copies = (u64::from(spec.resident.policy) + spec.resident.frozen_copies()).max(1);
    let mut models = frozen_copies(model_dir, device, copies)?;
    // models[0] is the training policy when one is resident, with its
    // adapters; it samples through a merged copy, as `generate` does.
    let mut trained = models[0].num_params();
    if let (Some(lora), true) = (&spec.lora, spec.resident.policy) {
        models[0] = apply_lora(models[0].clone(), &lora_config(lora)?, 0)?;
        trained = rzero_model::lora::trainable_params(&models[0]);
    }
    let merged;
    let model = if spec.resident.policy && !spec.policy_samples {
        &models[models.len() - 1]
    } else if spec.lora.is_some() && spec.policy_samples {
        merged = merge_lora(models[0].clone());
        &merged
    } else {
        &models[0]
    };
    let _moments = spec
        .resident
        .optimizer
        .then(|| Tensor::<1>::ones([2 * trained], device));
    let vocab = model.vocab_size();
    let rows = phase.micro_batch_rows as usize;
    let n = (spec.granularity as usize).max(1);
    let prompts = (rows / n).max(1);
    let seq = phase.sequence as usize;
    let prompt = (spec.prompt_tokens as usize).clamp(1, seq - 1);
    let mut rng = ChaCha8Rng::seed_from_u64(0x6465_636f);

    let first_reset = reset_peak_rss();
    let (tokens, positions) = random_inputs(&mut rng, vocab, prompts, 0, prompt, device);
    let mut cache = model.new_cache();
    let hidden = model.hidden(tokens, positions, Some(&mut cache));
    let last = model
        .logits(hidden.narrow(1, prompt - 1, 1))
        .reshape([prompts, vocab]);
    let host = last.into_data();
    drop(host);
    if rows > prompts {
        let idx: Vec<i64> = (0..rows).map(|r| (r / n) as i64).collect();
        cache = cache.select_rows(Tensor::from_data(TensorData::new(idx, [rows]), device));
    }
    let prefill_peak = peak_rss()?;

    // The rest of the cache is zeros: the same memory as decoded
    // positions, without the hours a 0.6B model takes to decode them on a CPU.
    let path = model_dir.join("config.json");
    let c = rzero_model::HfQwen3Config::from_file(&path)?.to_config(&path)?;
    let fill = (seq - 1).saturating_sub(cache.len());
    cache.append_zeros([rows, c.num_key_value_heads, fill, c.head_dim], device);
    let second_reset = reset_peak_rss();
    let (tokens, positions) = random_inputs(&mut rng, vocab, rows, cache.len(), 1, device);
    let logits = model
        .forward(tokens, positions, Some(&mut cache))
        .reshape([rows, vocab]);
    let host = logits.into_data();
    if rows > 1 {
        let idx: Vec<i64> = (0..rows as i64 - 1).collect();
        let kept = cache.select_rows(Tensor::from_data(TensorData::new(idx, [rows - 1]), device));
        drop(cache);
        drop(kept);
    }
    drop(host);
    let decode_peak = peak_rss()?;
    let peak_reset = first_reset && second_reset;
    tracing::debug!(
        phase = phase.name,
        baseline_bytes,
        prefill_peak,
        decode_peak,
        peak_reset,
        "measured sampling peaks"
    );
    Ok(Measurement {
        peak_bytes: if peak_reset {
            prefill_peak.max(decode_peak)
        } else {
            decode_peak
        },
        baseline_bytes,
        peak_reset,
    })
}
