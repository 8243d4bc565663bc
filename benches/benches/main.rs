//! rzero benches, one module per area.
//!
//! Run with: `cargo bench -p rzero-benches`

use criterion::{criterion_group, criterion_main};

mod reward_rep;

fn placeholder(_c: &mut criterion::Criterion) {}

criterion_group!(benches, placeholder, reward_rep::reward_rep);
criterion_main!(benches);
