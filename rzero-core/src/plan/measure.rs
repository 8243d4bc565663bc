//! `rzero plan --measure`: one training micro-step of an update phase
//! (through the run's `grpo_update`), or the prefill and one decode step
//! with a full KV cache of a sampling phase (through the generator's own
//! prefill, cache and LM head), on a device, with the phase's other
//! resident models loaded, and the process's peak resident set around it.
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
use rzero_model::generate::{DecodeHead, prefill};
use rzero_model::lora::has_lora;
use rzero_model::{GenerateOptions, Qwen3, apply_lora, load_pretrained, merge_lora};
use serde::{Deserialize, Serialize};

use super::size::{current_rss, peak_rss, reset_peak_rss};
use super::{PhaseKind, PhasePlan, PhaseSpec, PlanError};
use crate::config::RunConfig;
use crate::memory::{FrozenDtype, MemoryConfig, Recompute, frozen_copy};
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

/// The process's RSS before loading anything, then the phase's frozen
/// copies on `device`: the GRPO reference first (when resident), then the
/// other frozen models.
fn load_frozen(
    model_dir: &Path,
    spec: &PhaseSpec,
    device: &Device,
) -> Result<(u64, Vec<Qwen3>), PlanError> {
    let baseline = current_rss()?;
    let r = &spec.resident;
    let dtype = |bf16| {
        if bf16 {
            FrozenDtype::Bf16
        } else {
            FrozenDtype::F32
        }
    };
    let frozen = (0..r.frozen_copies())
        .map(|i| {
            let model = load_pretrained(model_dir, device)?.0;
            // The reference comes first; each is stored as a run stores it.
            let bf16 = if r.reference && i == 0 {
                r.reference_bf16
            } else {
                r.sampler_bf16
            };
            Ok(frozen_copy(model, dtype(bf16)))
        })
        .collect::<Result<_, PlanError>>()?;
    Ok((baseline, frozen))
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
    let (baseline_bytes, frozen) = load_frozen(model_dir, spec, device)?;
    let reference = frozen.first().filter(|_| spec.resident.reference);
    let mut policy = Policy::load(model_dir, &device.clone().autodiff())?;
    if let Some(lora) = &spec.lora {
        policy.attach_lora(lora_config(lora)?, String::new(), 0)?;
    }
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
    grpo_update(&mut policy, &mut trainer, reference, &warm_up, &memory)?;
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
    grpo_update(&mut policy, &mut trainer, reference, &batch, &memory)?;
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

fn row_index(rows: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = rows.len();
    Tensor::from_data(TensorData::new(rows, [n]), device)
}

/// The generator's two peaks, through its own code
/// (`rzero_model::generate::{prefill, DecodeHead}`): the prefill of `rows
/// / n` prompts (ragged by one token, so the padding mask exists as in a
/// batch of questions) into a cache reserved for the completions, its
/// replication to `rows` rows; then, with the rest of the cache written as
/// zeros, one decode step and the cache copy that drops a finished row.
fn measure_sampling(
    model_dir: &Path,
    phase: &PhasePlan,
    device: &Device,
) -> Result<Measurement, PlanError> {
    let spec = &phase.spec;
    let (baseline_bytes, frozen) = load_frozen(model_dir, spec, device)?;
    // The training policy with its adapters and, from its first step on,
    // its AdamW moments.
    let policy = match (spec.resident.policy, &spec.lora) {
        (false, _) => None,
        (true, None) => Some(load_pretrained(model_dir, device)?.0),
        (true, Some(lora)) => Some(apply_lora(
            load_pretrained(model_dir, device)?.0,
            &lora_config(lora)?,
            0,
        )?),
    };
    let _moments = match (&policy, spec.resident.optimizer) {
        (Some(p), true) => Some(Tensor::<1>::ones(
            [2 * rzero_model::lora::trainable_params(p)],
            device,
        )),
        _ => None,
    };
    let sampler = match (&policy, spec.policy_samples) {
        (Some(p), true) => p,
        _ => frozen
            .last()
            .or(policy.as_ref())
            .ok_or_else(|| PlanError::Unmeasurable {
                phase: phase.name.clone(),
                reason: "no local model samples it".into(),
            })?,
    };
    // `generate` samples with adapters merged into a copy.
    let merged = has_lora(sampler).then(|| merge_lora(sampler.clone()));
    let model = merged.as_ref().unwrap_or(sampler);
    let head = DecodeHead::new(model);
    let (vocab, width) = (model.vocab_size(), model.embed_tokens.weight.dims()[1]);
    let rows = phase.micro_batch_rows as usize;
    let n = (spec.granularity as usize).max(1);
    let prompts = (rows / n).max(1);
    let seq = phase.sequence as usize;
    let prompt = (spec.prompt_tokens as usize).clamp(1, seq - 1);
    let mut rng = ChaCha8Rng::seed_from_u64(0x6465_636f);
    let ids: Vec<Vec<u32>> = (0..prompts)
        .map(|p| {
            let short = p + 1 == prompts && prompts > 1 && prompt > 1;
            random_ids(&mut rng, vocab, prompt - usize::from(short))
        })
        .collect();
    let options = GenerateOptions {
        max_new_tokens: seq - prompt,
        ..GenerateOptions::default()
    };

    tracing::debug!(
        phase = phase.name,
        loaded_bytes = current_rss()?.saturating_sub(baseline_bytes),
        "resident models loaded"
    );
    let first_reset = reset_peak_rss();
    let (mut cache, last) = prefill(model, &head, &ids, &options, device);
    let host = last.into_data();
    if rows > prompts {
        let idx = (0..rows).map(|r| (r / n) as i64).collect();
        cache = cache.select_rows(row_index(idx, device));
    }
    drop(host);
    let prefill_peak = peak_rss()?;

    // The rest of the cache is zeros: the same memory as decoded
    // positions, without the hours a 0.6B model takes to decode them on a CPU.
    cache.append_zeros((seq - 1).saturating_sub(cache.len()));
    let second_reset = reset_peak_rss();
    let (tokens, positions) = random_inputs(&mut rng, vocab, rows, cache.len(), 1, device);
    let hidden = model.hidden(tokens, positions, Some(&mut cache));
    let host = head
        .logits(model, hidden.reshape([rows, width]))
        .into_data();
    if rows > 1 {
        let kept = cache.select_rows(row_index((0..rows as i64 - 1).collect(), device));
        drop(kept);
    } else {
        drop(cache);
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
