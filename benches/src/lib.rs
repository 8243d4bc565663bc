//! Shared inputs for rzero's criterion benches (DESIGN.md §9 workloads).
//!
//! The benches live in `benches/benches/`; run them with
//! `cargo bench -p rzero-benches`.

pub mod questions;
