//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can stop a run; variants name the file or key involved.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Writing a file or checking a checkpoint failed; names the file.
    #[error(transparent)]
    Fs(#[from] rzero_fs::FsError),
    /// The run config is malformed or out of range.
    #[error("{path}: {message}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong, starting with the key.
        message: String,
    },
    /// No preset has this name.
    #[error("unknown preset `{name}` (known: tiny, smoke, paper)")]
    UnknownPreset {
        /// The name asked for.
        name: String,
    },
    /// The run directory's state is unreadable or inconsistent.
    #[error("{path}: {message}")]
    State {
        /// The state file or checkpoint.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A model could not be loaded, run or saved.
    #[error(transparent)]
    Model(#[from] rzero_model::ModelError),
    /// Reading or writing records failed.
    #[error(transparent)]
    Data(#[from] rzero_data::DataError),
    /// The GRPO update failed.
    #[error(transparent)]
    Grpo(#[from] rzero_grpo::GrpoError),
    /// A role's inference servers failed (down, rejecting, malformed answers).
    #[error("inference for `{role}`: {source}")]
    Remote {
        /// The `[inference]` key of the role.
        role: &'static str,
        /// What the client saw (boxed: it lists every endpoint).
        #[source]
        source: Box<rzero_serve::ServeError>,
    },
    /// The weights hook failed; the run directory is unchanged.
    #[error("weights hook `{command}` for the {role} checkpoint {}: {message}; fix it and `rzero run --resume`", checkpoint.display())]
    Hook {
        /// The command line.
        command: String,
        /// `challenger` or `solver`.
        role: &'static str,
        /// The checkpoint it was handing over.
        checkpoint: PathBuf,
        /// Exit status and the end of its stderr, or why it did not start.
        message: String,
    },
    /// The user asked to stop (Ctrl-C); the run directory is consistent.
    #[error("interrupted at a safe point; resume with `rzero run --resume`")]
    Interrupted,
}

/// Shorthand for results of this crate.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
