//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can stop pretraining; variants name the file or key involved.
#[derive(Debug, thiserror::Error)]
pub enum PretrainError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The pretraining config or options are malformed or out of range.
    #[error("{path}: {message}")]
    Config {
        /// The config file or output directory.
        path: PathBuf,
        /// What is wrong, starting with the key.
        message: String,
    },
    /// A checkpoint, tokenizer or record is unreadable or inconsistent.
    #[error("{path}: {message}")]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
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
    /// Writing a file or checking a checkpoint failed; names the file.
    #[error(transparent)]
    Fs(#[from] rzero_fs::FsError),
    /// A model could not be loaded, run or saved.
    #[error(transparent)]
    Model(#[from] rzero_model::ModelError),
    /// Building the corpus or held-out set failed.
    #[error(transparent)]
    Data(#[from] rzero_data::DataError),
    /// The optimizer step failed.
    #[error(transparent)]
    Grpo(#[from] rzero_grpo::GrpoError),
}

/// Shorthand for results of this crate.
pub type Result<T, E = PretrainError> = std::result::Result<T, E>;
