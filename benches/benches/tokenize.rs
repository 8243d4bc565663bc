//! Token sampling from one row of logits, and tokenizer encode/decode.
//!
//! Run with: `cargo bench -p rzero-benches --bench main -- tokenize`
//!
//! Vocab sizes are docs/DESIGN.md §9's S (512) and M (2048) and Qwen3's 151 936.
//! No peer figure exists for these parts alone (transformers' sampling is
//! inside `generate`); they bound the per-token overhead of generation.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion};
use rzero_model::sampling::{Sampler, Sampling};
use rzero_pretrain::bpe::{BpeConfig, train_bpe};

/// Smooth pseudo-random logits in about [-4, 4].
fn logits(vocab: usize) -> Vec<f32> {
    (0..vocab)
        .map(|i| 4.0 * ((i as f32) * 0.618_034).sin() * ((i as f32) * 0.1).cos())
        .collect()
}

pub fn tokenize(c: &mut Criterion) {
    let mut group = c.benchmark_group("tokenize");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    let rules = [
        ("greedy", Sampling::Greedy),
        ("temperature", Sampling::Temperature { temperature: 1.0 }),
        (
            "top_k50",
            Sampling::TopK {
                k: 50,
                temperature: 1.0,
            },
        ),
        (
            "top_p0.95",
            Sampling::TopP {
                p: 0.95,
                temperature: 1.0,
            },
        ),
    ];
    for vocab in [512usize, 2048, 151_936] {
        let row = logits(vocab);
        for (name, rule) in rules {
            let mut sampler = Sampler::new(rule, 0);
            group.bench_with_input(
                BenchmarkId::new(format!("sample_{name}"), vocab),
                &row,
                |b, row| b.iter(|| black_box(sampler.sample(row))),
            );
        }
    }
    let lines: Vec<String> = (0..2000u32)
        .map(|i| {
            format!(
                "Question: What is {} + {}? Answer: {}",
                i * 7 % 1000,
                i * 13 % 1000,
                i * 20 % 2000
            )
        })
        .collect();
    let config = BpeConfig {
        vocab_size: 1024,
        ..BpeConfig::default()
    };
    let tok = train_bpe(lines.iter().map(String::as_str), config).expect("training a tokenizer");
    group.bench_function("encode_2000_lines", |b| {
        b.iter(|| {
            for line in &lines {
                black_box(tok.encode_fast(line.as_str(), false).expect("encode"));
            }
        })
    });
    group.bench_function("train_bpe_2000_lines", |b| {
        b.iter(|| black_box(train_bpe(lines.iter().map(String::as_str), config).expect("train")))
    });
    group.finish();
}
