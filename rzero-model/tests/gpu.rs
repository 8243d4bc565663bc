//! A GPU backend against the plain CPU (`flex`) path on the transformers
//! fixtures: logits, completion log-probs and their gradients, greedy and
//! seeded sampling. Built only with `--features wgpu` or `cuda`, so the
//! default `cargo test` needs no GPU; `scripts/check-gpu-paths` runs it.
//! The device is `RZERO_GPU_DEVICE` (default `wgpu`; any Vulkan device works,
//! mesa's software lavapipe included).
//!
//! Tolerance: both sides compute in F32 (the BF16 fixture is widened on load),
//! so they differ only by summation order; 1e-4 on logits and log-probs, the
//! same bound the CPU path meets against transformers. Lavapipe measured 3e-6.
#![cfg(any(feature = "wgpu", feature = "cuda"))]

use std::path::PathBuf;

use burn::prelude::*;
use rzero_model::sampling::Sampling;
use rzero_model::{
    CompletionBatch, DeviceSpec, GenerateOptions, Qwen3, completion_logprobs, generate,
    load_pretrained,
};
use serde::Deserialize;

/// Max |CPU - wgpu| on logits and log-probs (F32 on both sides).
const TOLERANCE: f32 = 1e-4;

/// GQA + tied embeddings, BF16 weights + untied head, sharded safetensors.
const FIXTURES: [&str; 3] = ["qwen3_s_tied", "qwen3_bf16_untied", "qwen3_sharded"];

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn cpu() -> Device {
    DeviceSpec::Cpu.device().unwrap()
}

fn gpu() -> Device {
    let spec = std::env::var("RZERO_GPU_DEVICE").unwrap_or_else(|_| "wgpu".into());
    let spec: DeviceSpec = spec.parse().unwrap();
    spec.device().unwrap()
}

fn load(name: &str, device: &Device) -> Qwen3 {
    load_pretrained(&fixture(name), device).unwrap().0
}

#[derive(Debug, Deserialize)]
struct Case {
    input_ids: Vec<u32>,
}

#[derive(Debug, Deserialize)]
struct Expected {
    cases: Vec<Case>,
}

fn cases(name: &str) -> Vec<Vec<u32>> {
    let text = std::fs::read_to_string(fixture(name).join("expected.json")).unwrap();
    let expected: Expected = serde_json::from_str(&text).unwrap();
    expected.cases.into_iter().map(|c| c.input_ids).collect()
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn logits(model: &Qwen3, ids: &[u32], device: &Device) -> Vec<f32> {
    let n = ids.len();
    let tokens: Vec<i64> = ids.iter().map(|&t| i64::from(t)).collect();
    let positions: Vec<i64> = (0..n as i64).collect();
    let tokens = Tensor::from_data(TensorData::new(tokens, [1, n]), device);
    let positions = Tensor::from_data(TensorData::new(positions, [1, n]), device);
    to_vec(model.forward(tokens, positions, None))
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn logits_on_gpu_match_cpu() {
    for name in FIXTURES {
        let (on_cpu, on_gpu) = (load(name, &cpu()), load(name, &gpu()));
        let mut worst = 0.0f32;
        for ids in cases(name) {
            let want = logits(&on_cpu, &ids, &cpu());
            let got = logits(&on_gpu, &ids, &gpu());
            worst = worst.max(max_abs_diff(&got, &want));
        }
        eprintln!("{name}: max |logit cpu - gpu| = {worst:.3e}");
        assert!(worst < TOLERANCE, "{name}: {worst}");
    }
}

/// Ragged prompts and completions, so padding and masking are exercised too.
fn ragged() -> (Vec<Vec<u32>>, Vec<Vec<u32>>) {
    let prompts = vec![vec![1, 2, 3, 4, 5, 6, 7], vec![11], vec![200, 201, 202]];
    let completions = vec![vec![7, 8, 9, 10], vec![12], vec![40, 41, 42, 43, 44, 45]];
    (prompts, completions)
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn completion_logprobs_on_gpu_match_cpu() {
    let (prompts, completions) = ragged();
    for name in FIXTURES {
        let mut out = Vec::new();
        for device in [cpu(), gpu()] {
            let model = load(name, &device);
            let batch = CompletionBatch::new(&model, &prompts, &completions, &device).unwrap();
            out.push(to_vec(completion_logprobs(&model, &batch)));
        }
        let worst = max_abs_diff(&out[0], &out[1]);
        eprintln!("{name}: max |logprob cpu - gpu| = {worst:.3e}");
        assert!(worst < TOLERANCE, "{name}: {worst}");
        // Padding positions are exactly zero on both.
        assert_eq!(out[1].iter().filter(|&&x| x == 0.0).count(), 3 * 6 - 11);
    }
}

/// d(sum of completion log-probs)/d(q_proj of layer 0) and d/d(embeddings).
fn gradients(name: &str, device: &Device) -> (Vec<f32>, Vec<f32>) {
    let ad = device.clone().autodiff();
    let model = load(name, &ad);
    let (prompts, completions) = ragged();
    let batch = CompletionBatch::new(&model, &prompts, &completions, &ad).unwrap();
    let grads = completion_logprobs(&model, &batch).sum().backward();
    let q = model.layers[0]
        .self_attn
        .q_proj
        .weight
        .grad(&grads)
        .unwrap();
    let embed = model.embed_tokens.weight.grad(&grads).unwrap();
    (to_vec(q), to_vec(embed))
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn logprob_gradients_on_gpu_match_cpu() {
    for name in ["qwen3_s_tied", "qwen3_bf16_untied"] {
        let (q_cpu, e_cpu) = gradients(name, &cpu());
        let (q_gpu, e_gpu) = gradients(name, &gpu());
        let scale = q_cpu.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(scale > 0.0, "{name}: zero gradient");
        let worst = max_abs_diff(&q_cpu, &q_gpu).max(max_abs_diff(&e_cpu, &e_gpu));
        eprintln!("{name}: max |grad cpu - gpu| = {worst:.3e} (max |grad| {scale:.3e})");
        assert!(worst < TOLERANCE, "{name}: {worst}");
    }
}

fn sample(name: &str, device: &Device, sampling: Sampling) -> Vec<(Vec<u32>, Vec<f32>)> {
    let model = load(name, device);
    let prompts: Vec<Vec<u32>> = vec![vec![1, 2, 3, 4, 5, 6, 7], vec![200, 201, 202]];
    let options = GenerateOptions {
        max_new_tokens: 16,
        samples_per_prompt: 2,
        sampling,
        seed: 7,
        ..GenerateOptions::default()
    };
    let out = generate(&model, &prompts, &options, None).unwrap();
    out.into_iter().map(|c| (c.token_ids, c.logprobs)).collect()
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn greedy_and_seeded_sampling_give_the_cpu_tokens() {
    let samplings = [
        Sampling::Greedy,
        Sampling::Temperature { temperature: 1.0 },
        Sampling::from_vllm(0.8, 0.9, 20).unwrap(),
    ];
    for name in FIXTURES {
        for sampling in samplings {
            let want = sample(name, &cpu(), sampling);
            let got = sample(name, &gpu(), sampling);
            let mut worst = 0.0f32;
            for ((t_cpu, l_cpu), (t_gpu, l_gpu)) in want.iter().zip(&got) {
                assert_eq!(t_cpu, t_gpu, "{name} {sampling:?}");
                worst = worst.max(max_abs_diff(l_cpu, l_gpu));
            }
            eprintln!("{name} {sampling:?}: max |logprob cpu - gpu| = {worst:.3e}");
            assert!(worst < TOLERANCE, "{name} {sampling:?}: {worst}");
        }
    }
}
