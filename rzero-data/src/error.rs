//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in `rzero-data`; each variant says where.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Reading, writing, syncing or renaming a file failed.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file (or directory) involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Writing a file failed (the old file, if any, is unchanged).
    #[error(transparent)]
    Fs(#[from] rzero_fs::FsError),
    /// A JSONL line is not valid JSON or does not match the record type.
    #[error("malformed jsonl at {path}:{line}: {source}")]
    BadJsonl {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A JSON file is not valid JSON or does not match the expected type.
    #[error("malformed json in {path}: {source}")]
    BadJson {
        /// The file.
        path: PathBuf,
        /// The parse error (it carries line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A record could not be serialised to JSON.
    #[error("cannot serialise a record for {path}: {source}")]
    Serialize {
        /// The file being written.
        path: PathBuf,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// A benchmark name is not one of the known sets.
    #[error("unknown benchmark {name:?} (known: {known})")]
    UnknownBenchmark {
        /// The name asked for.
        name: String,
        /// Comma-separated known names.
        known: String,
    },
    /// An aggregate score needs a benchmark score that is missing.
    #[error("score for benchmark {bench} is missing")]
    MissingScore {
        /// The benchmark's name.
        bench: String,
    },
    /// A configuration value is out of its allowed range.
    #[error("invalid value for {key}: {reason}")]
    InvalidConfig {
        /// The field name.
        key: &'static str,
        /// Why it is rejected.
        reason: String,
    },
}

/// `Result` with [`DataError`].
pub type Result<T, E = DataError> = std::result::Result<T, E>;

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
