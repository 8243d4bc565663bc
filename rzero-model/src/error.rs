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
}

/// Shorthand for results of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
