//! R-Zero's repetition penalty: BLEU distance matrix + average-linkage clustering.
//!
//! Run with: `cargo bench -p rzero-benches --bench main -- reward_rep`
//!
//! Inputs are `rzero_benches::questions::synthetic_questions(B, 2048)`, which
//! `benches/peers/reward_rep.py` regenerates for the NLTK + scikit-learn timing.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion};
use rzero_benches::questions::synthetic_questions;
use rzero_reward::cluster::average_linkage;
use rzero_reward::repetition::{DISTANCE_THRESHOLD, bleu_distance_matrix, repetition_penalty};

/// Seed shared with the Python peer script.
const SEED: u64 = 2048;

pub fn reward_rep(c: &mut Criterion) {
    let mut group = c.benchmark_group("reward_rep");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    for batch in [2048usize, 8000] {
        let questions = synthetic_questions(batch, SEED);
        group.measurement_time(Duration::from_secs(if batch > 4000 { 60 } else { 10 }));
        group.bench_with_input(
            BenchmarkId::new("bleu_matrix", batch),
            &questions,
            |b, q| b.iter(|| black_box(bleu_distance_matrix(q))),
        );
        let matrix = bleu_distance_matrix(&questions);
        group.bench_with_input(BenchmarkId::new("cluster", batch), &matrix, |b, m| {
            b.iter(|| black_box(average_linkage(m.clone(), DISTANCE_THRESHOLD)))
        });
        drop(matrix);
        group.bench_with_input(
            BenchmarkId::new("penalty_total", batch),
            &questions,
            |b, q| b.iter(|| black_box(repetition_penalty(q))),
        );
    }
    group.finish();
}
