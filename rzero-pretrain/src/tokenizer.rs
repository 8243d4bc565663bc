//! The tokenizer of a pretrained model: [`rzero_model::bpe`]'s byte-level
//! BPE (digits split one by one, as Qwen does) with its Hugging Face files,
//! plus the small helpers pretraining needs with errors that name the
//! output directory.

use std::path::Path;

pub use crate::bpe::ENDOFTEXT;
use crate::bpe::{BpeConfig, train_bpe, write_tokenizer_dir};
use tokenizers::Tokenizer;

use crate::error::{PretrainError, Result};

fn tok_error(path: &Path, e: impl std::fmt::Display) -> PretrainError {
    PretrainError::State {
        path: path.to_path_buf(),
        message: format!("tokenizer: {e}"),
    }
}

/// Trains a byte-level BPE of at most `vocab_size` ids on `texts`
/// (pairs seen once are never merged).
pub fn train_tokenizer(texts: &[String], vocab_size: usize) -> Result<Tokenizer> {
    let config = BpeConfig {
        vocab_size,
        min_frequency: 2,
    };
    train_bpe(texts.iter().map(String::as_str), config)
}

/// Writes `tokenizer.json`, `tokenizer_config.json` (Qwen3 chat template)
/// and `generation_config.json` into `dir`, atomically.
pub fn write_tokenizer_files(tokenizer: &Tokenizer, dir: &Path) -> Result<()> {
    write_tokenizer_dir(tokenizer, dir)
}

/// Token ids of `text` (special tokens recognised, nothing added).
pub fn encode(tokenizer: &Tokenizer, text: &str, dir: &Path) -> Result<Vec<u32>> {
    let encoding = tokenizer
        .encode(text, false)
        .map_err(|e| tok_error(dir, e))?;
    Ok(encoding.get_ids().to_vec())
}

/// The id of `token`, or an error naming `dir`.
pub fn token_id(tokenizer: &Tokenizer, token: &str, dir: &Path) -> Result<u32> {
    tokenizer
        .token_to_id(token)
        .ok_or_else(|| tok_error(dir, format!("no id for {token:?}")))
}

/// Loads `dir/tokenizer.json`.
pub fn load_tokenizer(dir: &Path) -> Result<Tokenizer> {
    let path = dir.join("tokenizer.json");
    Tokenizer::from_file(&path).map_err(|e| tok_error(&path, e))
}
