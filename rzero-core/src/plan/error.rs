//! The planner's error type.

use std::path::PathBuf;

/// Why a plan or a measurement could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A memory size did not parse (`20GiB`, `80GB`, `512MiB`, bytes).
    #[error("bad memory size {text:?}: {reason} (examples: 20GiB, 80GB, 512MiB, 1048576)")]
    Size {
        /// What was given.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A `/proc` file could not be read or parsed.
    #[error("{path}: {message}")]
    Proc {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// No phase of this name in the plan.
    #[error("no phase named `{name}` (phases: {known})")]
    UnknownPhase {
        /// The name asked for.
        name: String,
        /// The phases of the plan, comma-separated.
        known: String,
    },
    /// A measurement that cannot run here.
    #[error("cannot measure `{phase}`: {reason}")]
    Unmeasurable {
        /// The phase.
        phase: String,
        /// Why.
        reason: String,
    },
    /// The model's config, tokenizer or weights could not be used.
    #[error(transparent)]
    Model(#[from] rzero_model::ModelError),
    /// The GRPO update of a measurement failed.
    #[error(transparent)]
    Grpo(#[from] rzero_grpo::GrpoError),
    /// Loading a model or updating it through the run's code failed.
    #[error(transparent)]
    Core(#[from] Box<crate::CoreError>),
}

impl From<crate::CoreError> for PlanError {
    fn from(e: crate::CoreError) -> Self {
        Self::Core(Box::new(e))
    }
}
