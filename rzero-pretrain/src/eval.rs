//! `rzero pretrain --eval-only DIR`: the capability profile of a model
//! directory, written to `capability.json` and into the model card.

use std::path::Path;

use burn::prelude::*;
use rzero_data::synthetic::{HeldOut, HeldOutConfig, IM_END, render_prompt_chatml};
use rzero_model::GenerateOptions;
use serde::{Deserialize, Serialize};

use crate::capability::{CapabilityConfig, CapabilityReport, evaluate_capability};
use crate::card::{TrainingRecord, model_card};
use crate::error::{PretrainError, Result};
use crate::generate::LocalGenerator;
use crate::run::{RECORD_FILE, write_json};
use crate::tokenizer::{encode, load_tokenizer, token_id};

/// The profile's file in the model directory.
pub const CAPABILITY_FILE: &str = "capability.json";
/// Written by `check_transformers.py`: `{"max_abs_diff": ...}`.
pub const TRANSFORMERS_FILE: &str = "transformers_check.json";

/// Reads `dir/pretrain.json`, if the directory was made by `rzero pretrain`.
pub fn read_record(dir: &Path) -> Result<Option<TrainingRecord>> {
    read_optional_json(&dir.join(RECORD_FILE))
}

/// `path` parsed as JSON, or `None` when the file does not exist.
fn read_optional_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(rzero_data::jsonl::read_json(path)?))
}

/// What `check_transformers.py` computed with transformers (`expected.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct TransformersFixture {
    /// Solver system prompt.
    pub system: String,
    /// The question (user message).
    pub question: String,
    /// The fixed completion appended to the prompt.
    pub completion: String,
    /// `apply_chat_template(..., add_generation_prompt=True)`.
    pub prompt: String,
    /// Ids of prompt + completion.
    pub ids: Vec<u32>,
    /// transformers' logits at the last `logits.len()` positions.
    pub logits: Vec<Vec<f32>>,
    /// transformers' greedy continuation of the prompt.
    pub greedy: Vec<u32>,
}

/// rzero against transformers on the same directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformersCheck {
    /// Max |Δlogit| over the fixture's positions and the vocabulary.
    pub max_abs_diff: f64,
    /// The chat-template prompt is the same text.
    pub prompt_matches: bool,
    /// The tokenizers give the same ids.
    pub ids_match: bool,
    /// Greedy decoding gives the same ids.
    pub greedy_matches: bool,
}

fn read_transformers_diff(dir: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join(TRANSFORMERS_FILE)).ok()?;
    serde_json::from_str::<TransformersCheck>(&text)
        .ok()
        .map(|c| c.max_abs_diff)
}

/// Reads a fixture written by `check_transformers.py`.
pub fn read_fixture(path: &Path) -> Result<TransformersFixture> {
    let text = std::fs::read_to_string(path).map_err(|source| PretrainError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| PretrainError::State {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Loads `dir` with rzero-model and compares prompt, ids, logits and greedy
/// decoding with the transformers fixture.
pub fn compare_with_transformers(
    dir: &Path,
    fixture: &TransformersFixture,
    device: &Device,
) -> Result<TransformersCheck> {
    let (model, _) = rzero_model::load_pretrained(dir, device)?;
    let tokenizer = load_tokenizer(dir)?;
    let prompt = render_prompt_chatml(&fixture.system, &fixture.question);
    let ids = encode(&tokenizer, &format!("{prompt}{}", fixture.completion), dir)?;
    let n = fixture.ids.len();
    let tokens = fixture
        .ids
        .iter()
        .map(|&t| i64::from(t))
        .collect::<Vec<_>>();
    let int = |v: Vec<i64>| Tensor::<2, Int>::from_data(TensorData::new(v, [1, n]), device);
    let logits = model.forward(int(tokens), int((0..n as i64).collect()), None);
    let vocab = model.vocab_size();
    let values = logits
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| PretrainError::State {
            path: dir.to_path_buf(),
            message: format!("logits: {e:?}"),
        })?;
    let first = n.saturating_sub(fixture.logits.len());
    let mut max_abs_diff = 0f64;
    for (row, expected) in fixture.logits.iter().enumerate() {
        let ours = &values[(first + row) * vocab..(first + row + 1) * vocab];
        for (a, b) in ours.iter().zip(expected) {
            max_abs_diff = max_abs_diff.max(f64::from((a - b).abs()));
        }
    }
    let options = GenerateOptions {
        max_new_tokens: fixture.greedy.len(),
        eos_token_ids: vec![token_id(&tokenizer, IM_END, dir)?],
        ..GenerateOptions::default()
    };
    let prompt_ids = encode(&tokenizer, &prompt, dir)?;
    let greedy = rzero_model::generate(&model, &[prompt_ids], &options, None)?;
    Ok(TransformersCheck {
        max_abs_diff,
        prompt_matches: prompt == fixture.prompt,
        ids_match: ids == fixture.ids,
        greedy_matches: greedy
            .first()
            .is_some_and(|c| c.token_ids == fixture.greedy),
    })
}

/// Compares `dir` with the fixture, writes `transformers_check.json` and
/// rewrites the card (when `pretrain.json` is there).
pub fn record_transformers_check(
    dir: &Path,
    fixture: &Path,
    device: &Device,
) -> Result<TransformersCheck> {
    let check = compare_with_transformers(dir, &read_fixture(fixture)?, device)?;
    write_json(&dir.join(TRANSFORMERS_FILE), &check)?;
    if let Some(record) = read_record(dir)? {
        let report = read_capability(dir)?;
        write_card(dir, &record, report.as_ref())?;
    }
    Ok(check)
}

fn read_capability(dir: &Path) -> Result<Option<CapabilityReport>> {
    read_optional_json(&dir.join(CAPABILITY_FILE))
}

/// Loads the model in `dir` onto `device` (plain, not autodiff), measures
/// its profile on the held-out set it was trained without (from
/// `pretrain.json`, else the default), writes `capability.json` and
/// rewrites the model card when `pretrain.json` is there.
pub fn evaluate_model_dir(
    dir: &Path,
    config: &CapabilityConfig,
    device: &Device,
) -> Result<CapabilityReport> {
    let record = read_record(dir)?;
    let heldout_config = record
        .as_ref()
        .map_or_else(HeldOutConfig::default, |r| r.state.config.heldout);
    let heldout = HeldOut::generate(&heldout_config)?;
    let (model, _) = rzero_model::load_pretrained(dir, device)?;
    let tokenizer = load_tokenizer(dir)?;
    let eos = token_id(&tokenizer, IM_END, dir)?;
    let mut generator = LocalGenerator {
        model,
        tokenizer,
        eos,
        batch_size: 50,
        dir: dir.to_path_buf(),
    };
    let report = evaluate_capability(&mut generator, &heldout, config)?;
    write_json(&dir.join(CAPABILITY_FILE), &report)?;
    if let Some(record) = record {
        write_card(dir, &record, Some(&report))?;
    }
    Ok(report)
}

/// Rewrites `dir/README.md` from the record, a profile and the
/// transformers check (read from `transformers_check.json` when present).
pub fn write_card(
    dir: &Path,
    record: &TrainingRecord,
    report: Option<&CapabilityReport>,
) -> Result<()> {
    let card = model_card(record, report, read_transformers_diff(dir));
    Ok(rzero_data::atomic_write_bytes(
        dir.join("README.md"),
        card.as_bytes(),
    )?)
}
