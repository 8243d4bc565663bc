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

/// Runs first: the allocator setting `rzero` itself runs with.
fn keep_freed_memory(_c: &mut criterion::Criterion) {
    rzero_model::allocator::keep_freed_memory();
}

criterion_group!(
    benches,
    keep_freed_memory,
    grpo::grpo,
    model::model,
    reward_check::reward_check,
    reward_rep::reward_rep,
    serve::serve,
    tokenize::tokenize
);
criterion_main!(benches);
