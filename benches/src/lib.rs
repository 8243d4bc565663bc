//! Shared inputs for rzero's criterion benches (docs/DESIGN.md §9 workloads).
//!
//! The benches live in `benches/benches/`; run them with
//! `cargo bench -p rzero-benches`.

pub mod questions;

/// Deterministic pseudo-random token rows (an LCG seeded by `seed`), ids in
/// `1..vocab`: the same inputs for a bench and its peer on every run.
pub fn token_rows(rows: usize, len: usize, vocab: usize, seed: u64) -> Vec<Vec<u32>> {
    let step = |s: u64| {
        s.wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407)
    };
    let mut state = step(seed);
    (0..rows)
        .map(|_| {
            (0..len)
                .map(|_| {
                    state = step(state);
                    1 + ((state >> 33) as usize % (vocab - 1)) as u32
                })
                .collect()
        })
        .collect()
}
