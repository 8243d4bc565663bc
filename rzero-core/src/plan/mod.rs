//! Memory planner (`rzero plan`): the estimated peak memory of every phase
//! of a run, split into weights, optimizer state, gradients, activations,
//! LM-head logits and KV cache, and the micro-batch rows, log-prob chunk
//! and recomputation setting that fit a memory budget.
//!
//! - [`ModelShape`]: the dimensions memory depends on (from `config.json`).
//! - [`PhaseSpec`] / [`phase_specs`]: what each phase runs and which model
//!   copies are resident while it runs (read off `run.rs` and `phases/`).
//! - [`estimate`]: the byte formulae (pure arithmetic, documented per
//!   tensor), summed per moment of a phase into a [`Breakdown`];
//!   [`choose`]: the largest settings that fit; [`plan_run`] does it all
//!   for a run config and a model directory.
//! - [`size`]: `20GiB`-style sizes, the host's memory, the process's RSS.
//! - [`measure`]: one micro-step or decode step of a phase on a device, for
//!   `rzero plan --measure` (the only part that runs burn).
//!
//! Everything is f32 today (weights, AdamW moments, gradients, activations).
//! The settings chosen go back into a run through
//! [`Plan::memory_settings`] (`[memory]`) and [`Plan::update_rows`].

mod choose;
mod error;
pub mod estimate;
pub mod measure;
mod moments;
mod phases;
mod shape;
pub mod size;

use std::path::Path;

pub use choose::{HEADROOM_DIVISOR, PhasePlan, Plan, PlanOptions, choose};
pub use error::PlanError;
pub use estimate::Capabilities;
pub use moments::{Breakdown, Moment};
pub use phases::{PhaseKind, PhaseSpec, PromptLengths, Resident, phase_specs};
pub use shape::{ModelShape, Trainable};

use crate::config::RunConfig;

/// Reads `model_dir/config.json` (and `tokenizer.json` for the prompt
/// lengths, when present) and plans every phase of `config` within
/// `options.budget_bytes`.
///
/// Without a tokenizer the prompt lengths are approximated from the prompt
/// texts and [`Plan::exact_prompts`] is false. No weights are read.
pub fn plan_run(
    config: &RunConfig,
    model_dir: &Path,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let path = model_dir.join("config.json");
    let hf = rzero_model::HfQwen3Config::from_file(&path)?;
    let shape = ModelShape::from_config(&hf.to_config(&path)?);
    let prompts = if model_dir.join("tokenizer.json").exists() {
        let tokenizer = rzero_model::tokenizer::Tokenizer::from_dir(model_dir)?;
        PromptLengths::from_tokenizer(config, &tokenizer)?
    } else {
        PromptLengths::approximate(config)
    };
    let specs = phase_specs(config, &prompts);
    let options = options.with_config(config);
    Ok(choose(&shape, &specs, &options, prompts.exact))
}
