//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong computing a GRPO loss or running an update.
///
/// Variants name the tensor, field or file involved.
#[derive(Debug, thiserror::Error)]
pub enum GrpoError {
    /// A tensor does not have the shape the computation needs.
    #[error("tensor `{tensor}` has shape {found:?}, expected {expected:?}")]
    Shape {
        /// Which input.
        tensor: &'static str,
        /// The shape required.
        expected: Vec<usize>,
        /// The shape given.
        found: Vec<usize>,
    },
    /// The number of rollouts is not a whole number of groups.
    #[error("{rows} rollouts do not split into groups of {group_size}")]
    Groups {
        /// Number of rollouts (rewards).
        rows: usize,
        /// Rollouts per prompt.
        group_size: usize,
    },
    /// A configuration value is out of range.
    #[error("config field `{field}`: {reason}")]
    Config {
        /// The field name.
        field: &'static str,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// An input the configuration requires was not given.
    #[error("missing input `{name}`: {reason}")]
    MissingInput {
        /// The input's name.
        name: &'static str,
        /// Why it is needed.
        reason: &'static str,
    },
    /// The log-prob closure failed on a micro-batch.
    #[error("policy log-probs for rows {start}..{end}: {source}")]
    Policy {
        /// First row of the micro-batch.
        start: usize,
        /// One past the last row.
        end: usize,
        /// The closure's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The policy's log-probs carry no autodiff graph, so nothing can be trained.
    #[error(
        "policy log-probs for rows {start}..{end} are not tracked by autodiff: \
         run the model on an autodiff device (`Device::autodiff`)"
    )]
    NotTracked {
        /// First row of the micro-batch.
        start: usize,
        /// One past the last row.
        end: usize,
    },
    /// The backend failed to run queued work.
    #[error("backend execution failed during {during}: {source}")]
    Execution {
        /// What was running.
        during: &'static str,
        /// The backend's error (burn does not re-export its type).
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Tensor data could not be read back in the expected element type.
    #[error("reading tensor `{tensor}` back from the device: {source}")]
    ReadBack {
        /// Which tensor.
        tensor: &'static str,
        /// The conversion error.
        source: burn::tensor::DataError,
    },
    /// Writing a file failed (the old file, if any, is unchanged).
    #[error(transparent)]
    Fs(#[from] rzero_fs::FsError),
    /// An optimizer-state file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An optimizer-state file is not valid safetensors.
    #[error("{path}: {source}")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// The parser error.
        source: safetensors::SafeTensorError,
    },
    /// An optimizer-state file does not match the module or this format.
    #[error("{path}: optimizer state `{name}`: {reason}")]
    StateMismatch {
        /// The file.
        path: PathBuf,
        /// The tensor or metadata key.
        name: String,
        /// What is wrong.
        reason: String,
    },
}
