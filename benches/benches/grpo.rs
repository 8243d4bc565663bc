//! One GRPO update of Qwen3 S and M (docs/DESIGN.md §9 workloads) and its parts.
//!
//! Run with: `cargo bench -p rzero-benches --bench main -- grpo`
//!
//! Workload: 8 prompts × G = 8 rollouts, 16-token prompts, 64-token
//! completions, micro-batches of 16 rollouts, one optimizer step (R-Zero
//! loss: clip 0.2/0.3, dual clip 3, k3 KL β = 0.01, token mean; AdamW;
//! global clip 1.0). Plus `trl_shape`: 1 prompt × 8 rollouts on S, the shape
//! of TRL's GRPOTrainer step in benches/peers/README.md. Parts:
//! - `fwd_bwd`: policy forward, loss and backward over all micro-batches;
//! - `ref_fwd`: the frozen reference's log-probs on the plain device;
//! - `optimizer`: global norm, clip and AdamW over ready gradients.
//!
//! `step/S_trl_shape` is the whole step on TRL's shape, as rzero's loop runs
//! it (`rzero_core::train::grpo_update`): sample 8 × 64 tokens from the
//! policy's plain view, reward, reference log-probs from the frozen model
//! (on the plain device), then the update, whose one optimizer step takes
//! its old log-probs from its own forward pass (as TRL does with one
//! iteration). Peer: `grpo_trl.py` (TRL's `GRPOTrainer` step, same shape).

use std::hint::black_box;
use std::ops::Range;
use std::time::Duration;

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use criterion::{BatchSize, Criterion};
use rzero_grpo::{
    AdamW, GrpoConfig, GrpoError, GrpoTrainer, LossInputs, OldLogProbs, PolicyOutput, RolloutBatch,
    StepShare, clip_coefficient, global_grad_norm, group_advantages, grpo_loss,
    log_probs_in_chunks,
};
use rzero_model::pool::on_pool;
use rzero_model::sampling::Sampling;
use rzero_model::{
    CompletionBatch, GenerateOptions, Qwen3, Qwen3Config, completion_logprobs, generate,
};

const PROMPT_LEN: usize = 16;
const COMPLETION_LEN: usize = 64;
const MICRO: usize = 16;

struct Workload {
    model: Qwen3,
    /// Micro-batches on the autodiff device, in row order.
    micro: Vec<CompletionBatch>,
    /// The same on the plain device, for the reference forward.
    micro_plain: Vec<CompletionBatch>,
    /// The rollout's old log-probs, `[rows, t]`.
    old: Tensor<2>,
    rollout: RolloutBatch,
    config: GrpoConfig,
}

fn tokens(n: usize, len: usize, vocab: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            (0..len)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    ((state >> 33) % vocab as u64) as u32
                })
                .collect()
        })
        .collect()
}

fn workload(config: Qwen3Config, prompts: usize, group: usize) -> Workload {
    let plain = Device::flex();
    let autodiff = plain.clone().autodiff();
    let vocab = config.vocab_size;
    let model = config.init(&autodiff);
    let rows = prompts * group;
    let prompt_ids = tokens(rows, PROMPT_LEN, vocab, 1);
    let completions = tokens(rows, COMPLETION_LEN, vocab, 2);
    let split = |device: &Device| -> Vec<CompletionBatch> {
        (0..rows)
            .step_by(MICRO)
            .map(|s| {
                let r = s..(s + MICRO).min(rows);
                CompletionBatch::new(&model, &prompt_ids[r.clone()], &completions[r], device)
                    .expect("valid tokens")
            })
            .collect()
    };
    let micro = split(&autodiff);
    let micro_plain = split(&plain);
    let reference = model.valid();
    let old = log_probs_in_chunks(rows, MICRO, |r: Range<usize>| {
        Ok::<_, GrpoError>(completion_logprobs(
            &reference,
            &micro_plain[r.start / MICRO],
        ))
    })
    .expect("scored");
    let mask = Tensor::ones([rows, COMPLETION_LEN], &plain);
    let mut grpo = GrpoConfig::r_zero_solver();
    grpo.group_size = group;
    grpo.global_batch = prompts;
    grpo.settings.micro_batch_rows = MICRO;
    Workload {
        rollout: RolloutBatch {
            rewards: (0..rows)
                .map(|i| f32::from(u8::from((i * 7) % 3 == 0)))
                .collect(),
            old_log_probs: old.clone().into(),
            ref_log_probs: Some(old.clone()),
            mask,
        },
        old,
        model,
        micro,
        micro_plain,
        config: grpo,
    }
}

fn full_update(w: &Workload, model: Qwen3) -> Qwen3 {
    let mut trainer = GrpoTrainer::new(w.config).expect("config");
    let policy = |m: &Qwen3, r: Range<usize>| {
        Ok::<_, GrpoError>(PolicyOutput::new(completion_logprobs(
            m,
            &w.micro[r.start / MICRO],
        )))
    };
    let (model, report) = trainer.update(model, &w.rollout, policy).expect("update");
    black_box(report);
    model
}

/// The whole GRPO step of `step/S_trl_shape` (see the module doc).
fn whole_step(model: Qwen3, reference: &Qwen3, prompt: &[u32], config: GrpoConfig) -> Qwen3 {
    let plain = Device::flex();
    let options = GenerateOptions {
        max_new_tokens: COMPLETION_LEN,
        samples_per_prompt: config.group_size,
        sampling: Sampling::Temperature { temperature: 1.0 },
        eos_token_ids: Vec::new(),
        ..GenerateOptions::default()
    };
    let sampler = model.valid();
    let completions: Vec<Vec<u32>> = generate(&sampler, &[prompt], &options, None)
        .expect("sampled")
        .into_iter()
        .map(|c| c.token_ids)
        .collect();
    // TRL peer's reward: the fraction of token 7.
    let rewards = completions
        .iter()
        .map(|c| c.iter().filter(|&&t| t == 7).count() as f32 / c.len().max(1) as f32)
        .collect();
    let prompts = vec![prompt.to_vec(); completions.len()];
    drop(sampler);
    let scoring = CompletionBatch::new(reference, &prompts, &completions, &plain).expect("tokens");
    // One optimizer step: its forward pass gives the old log-probs.
    let rollout = RolloutBatch {
        rewards,
        old_log_probs: OldLogProbs::FirstStepFromPolicy { later: None },
        ref_log_probs: Some(completion_logprobs(reference, &scoring)),
        mask: Tensor::ones([completions.len(), COMPLETION_LEN], &plain),
    };
    let batch =
        CompletionBatch::new(&model, &prompts, &completions, &model.devices()[0]).expect("tokens");
    let mut trainer = GrpoTrainer::new(config).expect("config");
    let policy = |m: &Qwen3, _: Range<usize>| {
        Ok::<_, GrpoError>(PolicyOutput::new(completion_logprobs(m, &batch)))
    };
    let (model, report) = trainer.update(model, &rollout, policy).expect("update");
    black_box(report);
    model
}

/// Policy forward + loss + backward over all micro-batches; returns the gradients.
fn forward_backward(w: &Workload) -> GradientsParams {
    let rows = w.rollout.rewards.len();
    let rewards = Tensor::from_data(
        TensorData::new(w.rollout.rewards.clone(), [rows]),
        &Device::flex(),
    );
    let adv = group_advantages(rewards, w.config.group_size, &w.config.settings.advantage)
        .expect("groups");
    let share = StepShare {
        micro_batches: w.micro.len(),
        step_tokens: (rows * COMPLETION_LEN) as f32,
    };
    let mut acc = GradientsAccumulator::<Qwen3>::new();
    for (i, mb) in w.micro.iter().enumerate() {
        let r = i * MICRO..((i + 1) * MICRO).min(rows);
        let take = |t: &Tensor<2>| t.clone().slice(r.clone());
        let inputs = LossInputs {
            log_probs: completion_logprobs(&w.model, mb),
            old_log_probs: take(&w.old),
            ref_log_probs: w.rollout.ref_log_probs.as_ref().map(take),
            advantages: adv.clone().slice(r.clone()),
            mask: take(&w.rollout.mask),
        };
        let terms = grpo_loss(inputs, &w.config.settings.loss, share).expect("loss");
        acc.accumulate(
            &w.model,
            GradientsParams::from_grads(terms.loss.backward(), &w.model),
        );
    }
    acc.grads()
}

pub fn grpo(c: &mut Criterion) {
    let mut group = c.benchmark_group("grpo");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    let cases = [
        ("S", Qwen3Config::s(), 8),
        ("M", Qwen3Config::m(), 8),
        ("S_trl_shape", Qwen3Config::s(), 1),
    ];
    for (name, config, prompts) in cases {
        let w = workload(config, prompts, 8);
        group.measurement_time(Duration::from_secs(if name == "M" { 40 } else { 15 }));
        group.bench_function(format!("update/{name}"), |b| {
            b.iter_batched(
                || w.model.clone(),
                |m| on_pool(|| full_update(&w, m)),
                BatchSize::LargeInput,
            )
        });
        if name == "S_trl_shape" {
            let reference = w.model.valid();
            let prompt = tokens(1, PROMPT_LEN, Qwen3Config::s().vocab_size, 3).remove(0);
            group.bench_function(format!("step/{name}"), |b| {
                b.iter_batched(
                    || w.model.clone(),
                    |m| on_pool(|| whole_step(m, &reference, &prompt, w.config)),
                    BatchSize::LargeInput,
                )
            });
            continue;
        }
        group.bench_function(format!("fwd_bwd/{name}"), |b| {
            b.iter(|| {
                let grads = on_pool(|| forward_backward(&w));
                black_box(global_grad_norm(&w.model, &grads).expect("norm"))
            })
        });
        let reference = w.model.valid();
        group.bench_function(format!("ref_fwd/{name}"), |b| {
            b.iter(|| {
                let lp = log_probs_in_chunks(w.rollout.rewards.len(), MICRO, |r: Range<usize>| {
                    Ok::<_, GrpoError>(completion_logprobs(
                        &reference,
                        &w.micro_plain[r.start / MICRO],
                    ))
                })
                .expect("scored");
                black_box(lp.into_data())
            })
        });
        group.bench_function(format!("optimizer/{name}"), |b| {
            b.iter_batched(
                || (w.model.clone(), forward_backward(&w)),
                |(model, grads)| {
                    let norm = global_grad_norm(&model, &grads).expect("norm");
                    let mut opt = AdamW::new(w.config.settings.optimizer);
                    let model = opt
                        .step(model, grads, 1e-6, clip_coefficient(norm, 1.0))
                        .expect("step");
                    Device::flex().sync().expect("sync");
                    black_box(model)
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}
