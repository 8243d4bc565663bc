//! Sampling through `rzero serve` against sampling locally, on the tiny
//! model (`rzero-core/models/tiny`): 8 prompts × n = 4, up to 32 new tokens,
//! temperature 1, the same seeds (so both draw the same samples). The
//! server runs in-process on 127.0.0.1 with the default batching; the
//! client is `RemoteSampler` (one request per prompt, 4 in flight).
//!
//! Run with: `cargo bench -p rzero-benches --bench main -- serve_`

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use burn::prelude::*;
use criterion::{Criterion, Throughput};
use rzero_core::config::SamplingConfig;
use rzero_core::inference::{Backend, ClientSettings};
use rzero_core::policy::{Policy, SampleRequest, Sampler, chat_prompt};
use rzero_core::remote::RemoteSampler;
use rzero_serve::{Server, ServerConfig};

const PROMPTS: usize = 8;
const N: usize = 4;

fn tiny() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rzero-core/models/tiny"
    ))
}

pub fn serve(c: &mut Criterion) {
    let device = Device::flex();
    let policy = Policy::load(&tiny(), &device).expect("rzero-core/models/tiny loads");
    let prompts: Vec<Vec<u32>> = (0..PROMPTS)
        .map(|i| {
            let q = format!("What is {} + {}?", 17 * i + 3, 29 * i + 11);
            chat_prompt(&policy.tokenizer, "Put the answer in \\boxed{}.", &q).expect("prompt")
        })
        .collect();
    let request = SampleRequest {
        prompts,
        n: N,
        sampling: SamplingConfig {
            temperature: 1.0,
            top_p: 1.0,
            top_k: -1,
            max_new_tokens: 32,
        },
        seed: 7,
    };
    let server = Server::start(ServerConfig::new(tiny(), "127.0.0.1:0".into(), device))
        .expect("server starts");
    let backend = Backend {
        endpoints: vec![server.url()],
        model: None,
    };
    let remote =
        RemoteSampler::new("bench", &backend, &ClientSettings::default(), false).expect("client");

    let mut group = c.benchmark_group("serve_tiny");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements((PROMPTS * N) as u64));
    group.bench_function("local", |b| {
        b.iter(|| policy.sample(black_box(&request)).map(|c| c.len()))
    });
    group.bench_function("rzero_serve", |b| {
        b.iter(|| remote.sample(black_box(&request)).map(|c| c.len()))
    });
    group.finish();
    server.shutdown();
}
