//! The crate's one error type.

use std::path::PathBuf;

/// What can go wrong writing or checking files; each variant names the path.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// An operating-system call failed on `path`.
    #[error("{action} {path}")]
    Io {
        /// What was being done ("writing", "renaming", ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file does not match the manifest of its directory.
    #[error("damaged checkpoint {path}: {problem}")]
    Damaged {
        /// The file (or the manifest) at fault.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A value could not be written as JSON.
    #[error("cannot serialise {path} as JSON")]
    Json {
        /// The file being written.
        path: PathBuf,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
}

impl FsError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| FsError::Io {
            action,
            path,
            source,
        }
    }

    pub(crate) fn damaged(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        FsError::Damaged {
            path: path.into(),
            problem: problem.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = FsError> = std::result::Result<T, E>;
