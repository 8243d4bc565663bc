//! The R-Zero loop: a Challenger and a Solver co-evolve from one base model.
//!
//! Main types: [`RunConfig`] (every value of docs/DESIGN.md §2–§7, from TOML or a
//! preset), [`MetricsRecord`] (one line of `metrics.jsonl`),
//! [`policy::Sampler`] (local model or [`remote::RemoteSampler`] on
//! OpenAI-compatible servers, chosen per role by [`inference::InferenceConfig`]).
//! [`RunConfig::layered`] merges a partial TOML file and `--set` overrides
//! onto a preset.
//!
//! `examples/smoke.rs` runs the whole loop (`smoke` preset, built-in tiny
//! model) into a temporary directory and prints each iteration's evaluation:
//! `cargo run --release -p rzero-core --example smoke`.
#![warn(missing_docs)]

pub mod builtin;
pub mod config;
mod config_check;
pub mod config_merge;
pub mod error;
pub mod hook;
pub mod inference;
pub mod memory;
pub mod metrics;
pub mod phases;
pub mod plan;
pub mod policy;
pub mod presets;
pub mod progress;
pub mod remote;
pub mod report;
pub mod report_compare;
pub mod run;
pub mod rundir;
pub mod seeds;
mod serving;
pub mod state;
pub mod svg;
pub mod train;

pub use config::RunConfig;
pub use error::{CoreError, Result};
pub use metrics::MetricsRecord;
pub use presets::preset;
