//! Checkpoints of a pretraining run: `checkpoints/step_000250/` holding
//! `model.safetensors` (F32), `optimizer.safetensors` (AdamW moments keyed by
//! parameter path) and `state.json` ([`TrainerState`]).
//!
//! A checkpoint is staged under a hidden name, sealed with `manifest.json`
//! and renamed into place (`rzero_fs::StagedDir`), so a crash leaves either
//! the whole checkpoint or none; a resume verifies it against the manifest
//! and falls back to an older one if it is damaged. Checkpoint files hold no
//! wall-clock time (equal runs give equal bytes): the times live in
//! `checkpoints/timings.json`, keyed by step. The batch
//! order is a function of `(seed, step)` and the model has no dropout, so the
//! step number is the whole RNG and data-position state.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::tensor::DType;
use rzero_fs::StagedDir;
use rzero_grpo::AdamW;
use rzero_model::Qwen3;
use serde::{Deserialize, Serialize};

use crate::config::PretrainConfig;
use crate::error::{PretrainError, Result};
use crate::weights::{load_weights, save_weights};

/// One row of the loss curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossPoint {
    /// Steps done.
    pub step: u64,
    /// Mean training loss over the steps since the previous row.
    pub train_loss: f32,
    /// Validation loss (completion tokens) after this step.
    pub val_loss: f32,
    /// Learning rate of the last step.
    pub lr: f64,
    /// Wall-clock seconds of training so far.
    pub elapsed_secs: f64,
}

/// Everything besides weights and optimizer needed to resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainerState {
    /// Steps done.
    pub step: u64,
    /// Loss tokens trained on so far.
    pub tokens_seen: u64,
    /// Wall-clock seconds of training so far (across resumes).
    pub elapsed_secs: f64,
    /// Sum and count of training losses since the last loss-curve row.
    pub pending_loss: (f64, u64),
    /// The loss curve.
    pub history: Vec<LossPoint>,
    /// The run's config; a resume must use the same.
    pub config: PretrainConfig,
}

impl TrainerState {
    /// The state before the first step.
    pub fn new(config: PretrainConfig) -> Self {
        Self {
            step: 0,
            tokens_seen: 0,
            elapsed_secs: 0.0,
            pending_loss: (0.0, 0),
            history: Vec::new(),
            config,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PretrainError + '_ {
    move |source| PretrainError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `dir/checkpoints/step_{step:06}`.
pub fn checkpoint_dir(dir: &Path, step: u64) -> PathBuf {
    dir.join("checkpoints").join(format!("step_{step:06}"))
}

/// Wall-clock times of one checkpoint, kept outside it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Times {
    elapsed_secs: f64,
    history: Vec<f64>,
}

fn timings_path(dir: &Path) -> PathBuf {
    dir.join("checkpoints").join("timings.json")
}

fn read_timings(dir: &Path) -> BTreeMap<u64, Times> {
    // Times are informative only: an unreadable file costs the card its minutes.
    fs::read(timings_path(dir))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// The state without its wall-clock times, and the times.
fn split_times(state: &TrainerState) -> (TrainerState, Times) {
    let mut timeless = state.clone();
    timeless.elapsed_secs = 0.0;
    let mut times = Times {
        elapsed_secs: state.elapsed_secs,
        history: Vec::new(),
    };
    for p in &mut timeless.history {
        times.history.push(p.elapsed_secs);
        p.elapsed_secs = 0.0;
    }
    (timeless, times)
}

/// Writes a checkpoint of `state.step` under `dir/checkpoints/` and deletes
/// all but it and the newest `keep` on the schedule (every
/// `checkpoint_every` steps, and the last), so an interrupted run ends with
/// the same checkpoints as an uninterrupted one; returns its directory.
pub fn save_checkpoint(
    dir: &Path,
    model: &Qwen3,
    optimizer: &AdamW,
    state: &TrainerState,
    keep: usize,
) -> Result<PathBuf> {
    let (timeless, times) = split_times(state);
    let mut timings = read_timings(dir);
    timings.insert(state.step, times);
    rzero_fs::write_json(timings_path(dir), &timings)?;
    let staged = StagedDir::create(checkpoint_dir(dir, state.step))?;
    let temp = staged.path();
    save_weights(model, &temp.join("model.safetensors"), DType::F32)?;
    optimizer.save(&temp.join("optimizer.safetensors"))?;
    rzero_fs::write_json(temp.join("state.json"), &timeless)?;
    let target = staged.commit()?;
    let config = &state.config;
    let scheduled = |s: u64| s.is_multiple_of(config.checkpoint_every) || s == config.steps;
    let mut kept = 0;
    for old in list_checkpoints(dir)?.into_iter().rev() {
        let keep_it = old == state.step || (scheduled(old) && kept < keep.max(1));
        kept += usize::from(scheduled(old) && keep_it);
        if !keep_it {
            rzero_fs::remove_dir(&checkpoint_dir(dir, old))?;
        }
    }
    Ok(target)
}

/// Steps of the sealed checkpoints under `dir/checkpoints/`, ascending.
pub fn list_checkpoints(dir: &Path) -> Result<Vec<u64>> {
    let root = dir.join("checkpoints");
    if !root.exists() {
        return Ok(Vec::new());
    }
    let mut steps = Vec::new();
    for entry in fs::read_dir(&root).map_err(io(&root))? {
        let entry = entry.map_err(io(&root))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(step) = name.strip_prefix("step_").and_then(|s| s.parse().ok())
            && entry.path().join(rzero_fs::MANIFEST).exists()
        {
            steps.push(step);
        }
    }
    steps.sort_unstable();
    Ok(steps)
}

/// The newest checkpoint that passes its manifest check; a damaged newer one
/// is reported and skipped. An error names the newest damage when none is good.
pub fn newest_good_checkpoint(dir: &Path) -> Result<Option<PathBuf>> {
    let mut first_damage = None;
    for step in list_checkpoints(dir)?.into_iter().rev() {
        let path = checkpoint_dir(dir, step);
        match rzero_fs::verify_dir(&path) {
            Ok(_) => return Ok(Some(path)),
            Err(e) => {
                tracing::warn!(error = %e, "damaged checkpoint; trying an older one");
                first_damage.get_or_insert(e);
            }
        }
    }
    match first_damage {
        Some(e) => Err(e.into()),
        None => Ok(None),
    }
}

/// Reads the state of checkpoint `checkpoint`.
pub fn load_state(checkpoint: &Path) -> Result<TrainerState> {
    let path = checkpoint.join("state.json");
    let text = fs::read_to_string(&path).map_err(io(&path))?;
    let mut state: TrainerState =
        serde_json::from_str(&text).map_err(|e| PretrainError::State {
            path,
            message: e.to_string(),
        })?;
    let root = checkpoint
        .parent()
        .and_then(Path::parent)
        .unwrap_or(checkpoint);
    if let Some(times) = read_timings(root).remove(&state.step) {
        state.elapsed_secs = times.elapsed_secs;
        for (p, t) in state.history.iter_mut().zip(times.history) {
            p.elapsed_secs = t;
        }
    }
    Ok(state)
}

/// Loads weights and optimizer of checkpoint `checkpoint` onto the model
/// `fresh` (same shape) and `device`.
pub fn load_checkpoint(checkpoint: &Path, fresh: Qwen3, device: &Device) -> Result<(Qwen3, AdamW)> {
    let model = load_weights(fresh, &checkpoint.join("model.safetensors"))?;
    let optimizer = AdamW::load(&checkpoint.join("optimizer.safetensors"), device)?;
    Ok((model, optimizer))
}
