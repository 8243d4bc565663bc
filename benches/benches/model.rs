//! rzero-model workloads of docs/DESIGN.md §9 on presets S and M: forward +
//! log-probs (b16 × s128), a train step (forward, log-probs, backward,
//! rzero-grpo's AdamW), and KV-cache generation (b16, 16-token prompt, 64
//! new tokens).
//!
//! Run with: `cargo bench -p rzero-benches -- model_`
//! Peer: `benches/peers/hf_baseline.py` (transformers, same shapes).

use std::hint::black_box;
use std::time::Duration;

use burn::optim::GradientsParams;
use burn::prelude::*;
use criterion::{Criterion, Throughput};
use rzero_benches::token_rows;
use rzero_grpo::{AdamW, AdamWConfig};
use rzero_model::pool::on_pool;
use rzero_model::sampling::Sampling;
use rzero_model::{
    CompletionBatch, GenerateOptions, Qwen3, Qwen3Config, completion_logprobs, generate,
};

const BATCH: usize = 16;
const SEQ: usize = 128;
const GEN_PROMPT: usize = 16;
const GEN_NEW: usize = 64;

/// Rows split as a 1-token prompt and a 127-token completion, so log-probs
/// cover the same 127 positions per row as the peer's `log_softmax[:, :-1]`.
fn scoring_batch(model: &Qwen3, vocab: usize, device: &Device) -> CompletionBatch {
    let rows = token_rows(BATCH, SEQ, vocab, 1);
    let prompts: Vec<Vec<u32>> = rows.iter().map(|r| r[..1].to_vec()).collect();
    let completions: Vec<Vec<u32>> = rows.iter().map(|r| r[1..].to_vec()).collect();
    CompletionBatch::new(model, &prompts, &completions, device).unwrap_or_else(|e| panic!("{e}"))
}

fn presets() -> [(&'static str, Qwen3Config); 2] {
    [("S", Qwen3Config::s()), ("M", Qwen3Config::m())]
}

/// The `model_*` groups.
pub fn model(c: &mut Criterion) {
    let device = Device::flex();
    let mut group = c.benchmark_group("model_forward_logprobs");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements((BATCH * SEQ) as u64));
    for (name, config) in presets() {
        let model = config.init(&device);
        let batch = scoring_batch(&model, config.vocab_size, &device);
        group.bench_function(name, |b| {
            b.iter(|| {
                completion_logprobs(&model, black_box(&batch))
                    .sum()
                    .into_scalar::<f32>()
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("model_train_step");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements((BATCH * SEQ) as u64));
    let ad = device.clone().autodiff();
    for (name, config) in presets() {
        let mut slot = Some(config.init(&ad));
        let batch = slot
            .as_ref()
            .map(|m| scoring_batch(m, config.vocab_size, &ad));
        let batch = batch.unwrap_or_else(|| unreachable!());
        // rzero's own AdamW, as its trainer steps (torch's hyperparameters:
        // betas 0.9, 0.999, eps 1e-8, weight decay 0.01).
        let mut optim = AdamW::new(AdamWConfig {
            lr: 1e-4,
            ..AdamWConfig::r_zero()
        });
        group.bench_function(name, |b| {
            // On a rayon thread, as `rzero run` trains (rzero_model::pool).
            b.iter(|| {
                let model = slot.take().unwrap_or_else(|| unreachable!());
                let model = on_pool(|| {
                    let lp = completion_logprobs(&model, &batch);
                    let count = (BATCH * (SEQ - 1)) as f32;
                    let loss = lp.sum().neg() / count;
                    let grads = GradientsParams::from_grads(loss.backward(), &model);
                    let stepped = optim.step(model, grads, 1e-4, 1.0);
                    stepped.unwrap_or_else(|e| panic!("AdamW step: {e}"))
                });
                slot = Some(model);
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("model_generate");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements((BATCH * GEN_NEW) as u64));
    for (name, config) in presets() {
        let model = config.init(&device);
        let prompts = token_rows(BATCH, GEN_PROMPT, config.vocab_size, 3);
        for (rule, sampling) in [
            ("sample", Sampling::Temperature { temperature: 1.0 }),
            ("greedy", Sampling::Greedy),
        ] {
            let options = GenerateOptions {
                max_new_tokens: GEN_NEW,
                sampling,
                ..GenerateOptions::default()
            };
            group.bench_function(format!("{name}/{rule}"), |b| {
                b.iter(|| generate(&model, black_box(&prompts), &options, None).map(|c| c.len()))
            });
        }
    }
    group.finish();
}
