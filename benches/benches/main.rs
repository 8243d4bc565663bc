//! rzero benches, one module per area.
//!
//! Run with: `cargo bench -p rzero-benches`

use criterion::{criterion_group, criterion_main};

mod grpo;
mod model;
mod reward_check;
mod reward_rep;
mod serve;
mod tokenize;

fn placeholder(_c: &mut criterion::Criterion) {}

criterion_group!(
    benches,
    placeholder,
    grpo::grpo,
    model::model,
    reward_check::reward_check,
    reward_rep::reward_rep,
    serve::serve,
    tokenize::tokenize
);
criterion_main!(benches);
