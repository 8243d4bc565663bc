//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong loading, running or saving a model.
///
/// Variants name the file and the tensor or field involved.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A JSON file is malformed.
    #[error("{path}: malformed JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser error.
        source: serde_json::Error,
    },
    /// A config field has a value this implementation does not support.
    #[error("{path}: unsupported `{field}`: {reason}")]
    Unsupported {
        /// The config file.
        path: PathBuf,
        /// The HF field name.
        field: String,
        /// Why it is rejected.
        reason: String,
    },
    /// `tokenizer.json` could not be parsed, or encoding or decoding failed.
    #[error("{path}: tokenizer: {source}")]
    Tokenizer {
        /// The `tokenizer.json` involved.
        path: PathBuf,
        /// The `tokenizers` crate's error.
        source: tokenizers::Error,
    },
    /// A chat template failed to compile or render.
    #[error("{path}: chat template: {source:#}")]
    Template {
        /// The file holding the template (`tokenizer_config.json`).
        path: PathBuf,
        /// The Jinja engine's error.
        source: minijinja::Error,
    },
    /// A special token named in a config file is not in the vocabulary.
    #[error("{path}: `{field}` names {token:?}, which is not in the vocabulary")]
    UnknownToken {
        /// The config file.
        path: PathBuf,
        /// The field naming the token (`eos_token`, `pad_token`, ...).
        field: String,
        /// The token's text.
        token: String,
    },
    /// Sampling parameters out of range.
    #[error("bad sampling parameters: {reason}")]
    BadSampling {
        /// Which parameter and why.
        reason: String,
    },
    /// Training a BPE tokenizer failed.
    #[error("training the BPE tokenizer: {source}")]
    BpeTrain {
        /// The `tokenizers` crate's error.
        source: tokenizers::Error,
    },
    /// A BPE training setting is out of range.
    #[error("bad BPE config: {reason}")]
    BadBpeConfig {
        /// Which setting and why.
        reason: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
