//! Peak resident memory of one training step on the docs/DESIGN.md §9 workloads
//! (random-init Qwen3 S or M, burn `flex`, fp32).
//!
//! Run with: `/usr/bin/time -v cargo run --release -p rzero-benches --example peak_memory -- WORKLOAD MODEL [STEPS]`
//! (better: build once, then run `target/release/examples/peak_memory` under
//! `/usr/bin/time -v`, so the figure is the program's and not cargo's).
//!
//! WORKLOAD is one of
//! - `train`: b16 × s128 forward, log-probs, backward, AdamW (the
//!   `model_train_step` bench);
//! - `score`: b16 × s128 forward + log-probs, no grad (`model_forward_logprobs`);
//! - `grpo`: one `GrpoTrainer::update`, 8 prompts × 8 rollouts, 16 + 64
//!   tokens, micro-batches of 16 (the `grpo/update` bench).
//!
//! MODEL is `S` or `M`. Prints the peak RSS (`VmHWM` of `/proc/self/status`)
//! after building the model and inputs, and after STEPS (default 3) steps.
#![expect(clippy::print_stdout, reason = "an example reports on stdout")]

use std::ops::Range;

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::*;
use rzero_benches::token_rows;
use rzero_grpo::{
    GrpoConfig, GrpoError, GrpoTrainer, PolicyOutput, RolloutBatch, log_probs_in_chunks,
};
use rzero_model::{CompletionBatch, Qwen3, Qwen3Config, completion_logprobs};

const MICRO: usize = 16;

/// `VmHWM` (peak) and `VmRSS` (current) in MiB.
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn batch(model: &Qwen3, prompt: usize, completion: usize, rows: usize) -> CompletionBatch {
    let vocab = model.vocab_size();
    let prompts = token_rows(rows, prompt, vocab, 1);
    let completions = token_rows(rows, completion, vocab, 2);
    let device = model.devices()[0].clone();
    CompletionBatch::new(model, &prompts, &completions, &device).expect("valid tokens")
}

fn train(config: Qwen3Config, steps: usize) {
    let device = Device::flex().autodiff();
    let mut model = config.init(&device);
    let inputs = batch(&model, 1, 127, 16);
    let mut optim = AdamWConfig::new()
        .with_weight_decay(0.01)
        .with_epsilon(1e-8)
        .init();
    report("ready");
    for _ in 0..steps {
        let lp = completion_logprobs(&model, &inputs);
        let loss = lp.sum().neg() / (16.0 * 127.0);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-4, model, grads);
    }
}

fn score(config: Qwen3Config, steps: usize) {
    let model = config.init(&Device::flex());
    let inputs = batch(&model, 1, 127, 16);
    report("ready");
    for _ in 0..steps {
        let _ = completion_logprobs(&model, &inputs)
            .sum()
            .into_scalar::<f32>();
    }
}

fn grpo(config: Qwen3Config, steps: usize) {
    let plain = Device::flex();
    let mut model = config.init(&plain.clone().autodiff());
    let rows = 64;
    let micro: Vec<CompletionBatch> = (0..rows / MICRO)
        .map(|_| batch(&model, 16, 64, MICRO))
        .collect();
    let reference = model.valid();
    let plain_micro: Vec<CompletionBatch> = (0..rows / MICRO)
        .map(|_| batch(&reference, 16, 64, MICRO))
        .collect();
    let old = log_probs_in_chunks(rows, MICRO, |r: Range<usize>| {
        Ok::<_, GrpoError>(completion_logprobs(
            &reference,
            &plain_micro[r.start / MICRO],
        ))
    })
    .expect("scored");
    let rollout = RolloutBatch {
        rewards: (0..rows).map(|i| f32::from(u8::from(i % 3 == 0))).collect(),
        old_log_probs: old.clone().into(),
        ref_log_probs: Some(old),
        mask: Tensor::ones([rows, 64], &plain),
    };
    let mut grpo = GrpoConfig::r_zero_solver();
    grpo.group_size = 8;
    grpo.global_batch = 8;
    grpo.settings.micro_batch_rows = MICRO;
    let mut trainer = GrpoTrainer::new(grpo).expect("config");
    report("ready");
    for _ in 0..steps {
        let policy = |m: &Qwen3, r: Range<usize>| {
            Ok::<_, GrpoError>(PolicyOutput::new(completion_logprobs(
                m,
                &micro[r.start / MICRO],
            )))
        };
        let (next, _) = trainer.update(model, &rollout, policy).expect("update");
        model = next;
    }
}

fn report(stage: &str) {
    let (peak, now) = rss_mib();
    println!("{stage}: peak RSS {peak:.1} MiB, current {now:.1} MiB");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (workload, model) = match (args.first(), args.get(1)) {
        (Some(w), Some(m)) => (w.as_str(), m.as_str()),
        _ => {
            println!("usage: peak_memory train|score|grpo S|M [STEPS]");
            std::process::exit(2);
        }
    };
    let steps = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let config = match model {
        "S" => Qwen3Config::s(),
        "M" => Qwen3Config::m(),
        other => panic!("unknown model {other}: S or M"),
    };
    report("start");
    match workload {
        "train" => train(config, steps),
        "score" => score(config, steps),
        "grpo" => grpo(config, steps),
        other => panic!("unknown workload {other}: train, score or grpo"),
    }
    report(&format!("after {steps} steps"));
}
