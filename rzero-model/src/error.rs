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
    /// Writing a file failed (the old file, if any, is unchanged).
    #[error(transparent)]
    Fs(#[from] rzero_fs::FsError),
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
    /// A config file is missing a required field or has an impossible value.
    #[error("{path}: bad `{field}`: {reason}")]
    BadConfig {
        /// The config file.
        path: PathBuf,
        /// The HF field name.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A safetensors file is truncated or malformed.
    #[error("{path}: bad safetensors file: {source}")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// The parser error.
        source: safetensors::SafeTensorError,
    },
    /// The model has a tensor the checkpoint lacks.
    #[error("{file}: missing tensor `{name}`")]
    MissingTensor {
        /// HF tensor name.
        name: String,
        /// The checkpoint file (or index) that should hold it.
        file: PathBuf,
    },
    /// The checkpoint has a tensor the model does not use.
    #[error("{file}: unused tensor `{name}` (not part of this model)")]
    UnusedTensor {
        /// HF tensor name.
        name: String,
        /// The file holding it.
        file: PathBuf,
    },
    /// A checkpoint tensor has the wrong shape for the config.
    #[error("{file}: tensor `{name}` has shape {found:?}, the config implies {expected:?}")]
    ShapeMismatch {
        /// HF tensor name.
        name: String,
        /// The file holding it.
        file: PathBuf,
        /// Shape implied by `config.json` (HF layout).
        expected: Vec<usize>,
        /// Shape in the file.
        found: Vec<usize>,
    },
    /// A checkpoint tensor has a dtype other than F32, BF16 or F16.
    #[error("{file}: tensor `{name}` has dtype {dtype}; only F32, BF16 and F16 load")]
    UnsupportedDtype {
        /// HF tensor name.
        name: String,
        /// The file holding it.
        file: PathBuf,
        /// The dtype found.
        dtype: String,
    },
    /// A tensor could not be converted or applied to the module.
    #[error("{file}: tensor `{name}`: {reason}")]
    TensorData {
        /// HF tensor name.
        name: String,
        /// The file holding it.
        file: PathBuf,
        /// What burn reported.
        reason: String,
    },
    /// A prompt has no tokens.
    #[error("prompt {index} is empty")]
    EmptyPrompt {
        /// Index of the prompt in the batch.
        index: usize,
    },
    /// A sequence does not fit in the model's context.
    #[error("sequence {index} has {len} tokens, more than max_position_embeddings = {max}")]
    TooLong {
        /// Index of the sequence in the batch.
        index: usize,
        /// Its length in tokens.
        len: usize,
        /// The model's `max_position_embeddings`.
        max: usize,
    },
    /// A token id is outside the vocabulary.
    #[error("sequence {index}: token id {token} is outside the vocabulary of {vocab_size}")]
    TokenOutOfRange {
        /// Index of the sequence in the batch.
        index: usize,
        /// The offending id.
        token: u32,
        /// The model's `vocab_size`.
        vocab_size: usize,
    },
    /// A batch or generation request is malformed (mismatched lengths, `n == 0`, ...).
    #[error("bad request: {reason}")]
    BadRequest {
        /// What is wrong.
        reason: String,
    },
    /// The requested device cannot be used.
    #[error("device `{spec}`: {reason}")]
    Device {
        /// The device as the user wrote it.
        spec: String,
        /// Why it is unavailable.
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
    /// A LoRA config is invalid or does not fit the model's adapters.
    #[error("LoRA: {reason}")]
    Lora {
        /// What is wrong.
        reason: String,
    },
    /// Sampling parameters out of range.
    #[error("bad sampling parameters: {reason}")]
    BadSampling {
        /// Which parameter and why.
        reason: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
