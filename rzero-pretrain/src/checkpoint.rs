//! Checkpoints of a pretraining run: `checkpoints/step_000250/` holding
//! `model.safetensors` (F32), `optimizer.safetensors` (AdamW moments keyed by
//! parameter path) and `state.json` ([`TrainerState`]).
//!
//! A checkpoint is written into a hidden temporary directory and renamed into
//! place, so a crash leaves either the whole checkpoint or none. The batch
//! order is a function of `(seed, step)` and the model has no dropout, so the
//! step number is the whole RNG and data-position state.

use std::fs;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::tensor::DType;
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

/// Writes a checkpoint of `state.step` under `dir/checkpoints/` and deletes
/// all but the newest `keep`; returns its directory.
pub fn save_checkpoint(
    dir: &Path,
    model: &Qwen3,
    optimizer: &AdamW,
    state: &TrainerState,
    keep: usize,
) -> Result<PathBuf> {
    let target = checkpoint_dir(dir, state.step);
    let root = dir.join("checkpoints");
    let temp = root.join(format!(".tmp_step_{:06}", state.step));
    if temp.exists() {
        fs::remove_dir_all(&temp).map_err(io(&temp))?;
    }
    fs::create_dir_all(&temp).map_err(io(&temp))?;
    save_weights(model, &temp.join("model.safetensors"), DType::F32)?;
    optimizer.save(&temp.join("optimizer.safetensors"))?;
    let json = serde_json::to_vec_pretty(state).map_err(|e| PretrainError::State {
        path: temp.join("state.json"),
        message: e.to_string(),
    })?;
    rzero_data::atomic_write_bytes(temp.join("state.json"), &json)?;
    if target.exists() {
        fs::remove_dir_all(&target).map_err(io(&target))?;
    }
    fs::rename(&temp, &target).map_err(io(&target))?;
    let steps = list_checkpoints(dir)?;
    for old in steps.iter().rev().skip(keep) {
        let old = checkpoint_dir(dir, *old);
        fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    Ok(target)
}

/// Steps of the complete checkpoints under `dir/checkpoints/`, ascending.
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
            && entry.path().join("state.json").exists()
        {
            steps.push(step);
        }
    }
    steps.sort_unstable();
    Ok(steps)
}

/// Reads the state of checkpoint `checkpoint`.
pub fn load_state(checkpoint: &Path) -> Result<TrainerState> {
    let path = checkpoint.join("state.json");
    let text = fs::read_to_string(&path).map_err(io(&path))?;
    serde_json::from_str(&text).map_err(|e| PretrainError::State {
        path,
        message: e.to_string(),
    })
}

/// Loads weights and optimizer of checkpoint `checkpoint` onto the model
/// `fresh` (same shape) and `device`.
pub fn load_checkpoint(checkpoint: &Path, fresh: Qwen3, device: &Device) -> Result<(Qwen3, AdamW)> {
    let model = load_weights(fresh, &checkpoint.join("model.safetensors"))?;
    let optimizer = AdamW::load(&checkpoint.join("optimizer.safetensors"), device)?;
    Ok((model, optimizer))
}
