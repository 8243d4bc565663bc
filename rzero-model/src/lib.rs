//! Qwen3 decoder in burn (work in progress: see the workspace issues).
//!
//! Will hold: the Hugging Face `config.json` type, safetensors load/save,
//! the tokenizer with its chat template, KV-cache batched sampling and
//! token log-probs.
#![warn(missing_docs)]

pub mod bpe;
pub mod chat;
pub mod error;
pub mod generation_config;
pub mod sampling;
pub mod tokenizer;

pub use error::{ModelError, Result};
