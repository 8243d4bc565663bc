//! [`pretrain`]: corpus → tokenizer → model → training loop → HF directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use burn::prelude::*;
use rzero_data::synthetic::{CorpusConfig, Document, HeldOut, IM_END, pretraining_corpus};
use rzero_grpo::AdamW;
use rzero_model::hf_config::TokenIds;
use rzero_model::{HfQwen3Config, Qwen3Config, SaveDtype, SaveOptions};
use tokenizers::Tokenizer;

use crate::card::{TrainingRecord, model_card};
use crate::checkpoint::{
    TrainerState, list_checkpoints, load_checkpoint, load_state, newest_good_checkpoint,
};
use crate::config::PretrainConfig;
use crate::data::TokenizedDoc;
use crate::error::{PretrainError, Result};
use crate::init::seeded_init;
use crate::progress::PretrainProgress;
use crate::tokenizer::{
    ENDOFTEXT, encode, load_tokenizer, token_id, train_tokenizer, write_tokenizer_files,
};
use crate::train::{TrainInputs, train_loop};

/// Where and how a run goes.
#[derive(Debug, Clone)]
pub struct PretrainOptions {
    /// Output directory: the HF model, `checkpoints/`, `pretrain.json`.
    pub out: PathBuf,
    /// Continue from the newest checkpoint in `out` (starts fresh if none).
    pub resume: bool,
    /// Device to train on (the autodiff wrapper is added here).
    pub device: Device,
    /// Stop after this many steps, with a checkpoint, as an interruption would.
    pub stop_after: Option<u64>,
    /// The command line, for the model card.
    pub command: String,
    /// Set (e.g. by a Ctrl-C handler) to stop after the current step, with a
    /// checkpoint; the outcome is then not `finished`.
    pub stop: Arc<AtomicBool>,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct PretrainOutcome {
    /// The final trainer state (loss curve included).
    pub state: TrainerState,
    /// True when all steps ran and the model was exported.
    pub finished: bool,
}

/// The file of the training record in the output directory.
pub const RECORD_FILE: &str = "pretrain.json";

/// The training and validation documents of `config` (validation: drawn
/// like the corpus from `corpus.seed + 1`; both disjoint from the held-out
/// set).
pub fn corpus_documents(config: &PretrainConfig) -> Result<(Vec<Document>, Vec<Document>)> {
    let heldout = HeldOut::generate(&config.heldout)?;
    let train: Vec<Document> = pretraining_corpus(&config.corpus, &heldout)?.collect();
    let validation_config = CorpusConfig {
        seed: config.corpus.seed.wrapping_add(1),
        documents: config.validation_documents,
        ..config.corpus.clone()
    };
    let validation = pretraining_corpus(&validation_config, &heldout)?.collect();
    Ok((train, validation))
}

/// Encodes prompt and completion separately (the prompt ends with
/// `<|im_start|>assistant\n`, the completion starts with `<think>`, so the
/// boundary is a token boundary); drops documents over `max_len` tokens.
pub fn tokenize_documents(
    tokenizer: &Tokenizer,
    docs: &[Document],
    max_len: usize,
    dir: &Path,
) -> Result<Vec<TokenizedDoc>> {
    let mut out = Vec::with_capacity(docs.len());
    for doc in docs {
        let mut ids = encode(tokenizer, &doc.prompt, dir)?;
        let prompt_len = ids.len();
        ids.extend(encode(tokenizer, &doc.completion, dir)?);
        if ids.len() <= max_len {
            out.push(TokenizedDoc { ids, prompt_len });
        }
    }
    Ok(out)
}

/// The checkpoint to resume from, if any; refuses to overwrite a run
/// without `resume`.
fn starting_state(options: &PretrainOptions) -> Result<Option<PathBuf>> {
    let removed = rzero_fs::sweep(&options.out)?;
    if removed > 0 {
        tracing::info!(removed, "removed what an interrupted run left behind");
    }
    if !options.resume {
        return match list_checkpoints(&options.out)?.is_empty() {
            true => Ok(None),
            false => Err(PretrainError::Config {
                path: options.out.clone(),
                message:
                    "already holds checkpoints: pass --resume, or choose another output directory"
                        .into(),
            }),
        };
    }
    match newest_good_checkpoint(&options.out)? {
        Some(dir) => Ok(Some(dir)),
        None => {
            tracing::warn!(out = %options.out.display(), "nothing to resume; starting fresh");
            Ok(None)
        }
    }
}

/// Trains a tiny Qwen3 base model as `config` says and writes an HF
/// directory to `options.out`.
pub fn pretrain(
    config: &PretrainConfig,
    options: &PretrainOptions,
    progress: &mut dyn PretrainProgress,
) -> Result<PretrainOutcome> {
    let out = options.out.as_path();
    config.validate(&out.join(RECORD_FILE))?;
    fs::create_dir_all(out).map_err(|source| PretrainError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let resume_from = starting_state(options)?;
    let state = match &resume_from {
        Some(dir) => {
            let state = load_state(dir)?;
            if state.config != *config {
                return Err(PretrainError::Config {
                    path: dir.join("state.json"),
                    message:
                        "the checkpoint was made with another config; resume with the same one"
                            .into(),
                });
            }
            state
        }
        None => TrainerState::new(config.clone()),
    };
    progress.stage("corpus");
    let (train_docs, validation_docs) = corpus_documents(config)?;
    progress.stage("tokenizer");
    let tokenizer = match (&resume_from, &config.init_from) {
        (Some(_), _) => load_tokenizer(out)?,
        (None, Some(init)) => {
            let tokenizer = load_tokenizer(init)?;
            write_tokenizer_files(&tokenizer, out)?;
            tokenizer
        }
        (None, None) => {
            let texts: Vec<String> = train_docs
                .iter()
                .take(config.tokenizer_documents)
                .map(Document::text)
                .collect();
            let tokenizer = train_tokenizer(&texts, config.vocab_size)?;
            write_tokenizer_files(&tokenizer, out)?;
            tokenizer
        }
    };
    let train = tokenize_documents(&tokenizer, &train_docs, config.max_seq_len, out)?;
    let validation = tokenize_documents(&tokenizer, &validation_docs, config.max_seq_len, out)?;
    progress.stage("model");
    let model_config = config.model.to_config(tokenizer.get_vocab_size(true));
    let device = options.device.clone().autodiff();
    let mut fresh = seeded_init(
        model_config.init(&device),
        config.seed,
        model_config.initializer_range,
    );
    if let (None, Some(init)) = (&resume_from, &config.init_from) {
        rzero_model::weights::load_weights(&mut fresh, init)?;
    }
    let (model, optimizer) = match &resume_from {
        Some(dir) => load_checkpoint(dir, fresh, &options.device.clone().inner())?,
        None => (fresh, AdamW::new(config.optimizer)),
    };
    let inputs = TrainInputs {
        config,
        train: &train,
        validation: &validation,
        out,
        stop_after: options.stop_after,
        stop: &options.stop,
    };
    let (model, state) = train_loop(&inputs, model, optimizer, state, progress)?;
    let finished = state.step >= config.steps;
    if finished {
        let record = TrainingRecord {
            command: options.command.clone(),
            state: state.clone(),
            vocab_size: model_config.vocab_size,
            num_params: model_config.num_params(),
            documents: (train.len(), validation.len()),
        };
        export(&model.valid(), &model_config, &tokenizer, &record, out)?;
    }
    Ok(PretrainOutcome { state, finished })
}

/// Writes `config.json`, `model.safetensors` (BF16), `pretrain.json` and
/// the model card into `dir` (the tokenizer files are already there).
pub fn export(
    model: &rzero_model::Qwen3,
    model_config: &Qwen3Config,
    tokenizer: &Tokenizer,
    record: &TrainingRecord,
    dir: &Path,
) -> Result<()> {
    let mut hf = HfQwen3Config::from_config(model_config);
    hf.torch_dtype = Some("bfloat16".into());
    let eos = token_id(tokenizer, IM_END, dir)?;
    let pad = token_id(tokenizer, ENDOFTEXT, dir)?;
    hf.eos_token_id = Some(TokenIds::One(eos));
    hf.bos_token_id = Some(TokenIds::One(pad));
    hf.pad_token_id = Some(pad);
    let options = SaveOptions {
        dtype: SaveDtype::BF16,
        ..SaveOptions::default()
    };
    rzero_model::save_pretrained(model, &hf, dir, &options)?;
    write_json(&dir.join(RECORD_FILE), record)?;
    let card = model_card(record, None, None);
    rzero_data::atomic_write_bytes(dir.join("README.md"), card.as_bytes())?;
    Ok(())
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub(crate) fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| PretrainError::State {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(rzero_data::atomic_write_bytes(path, text.as_bytes())?)
}
