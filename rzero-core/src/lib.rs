//! The R-Zero loop (work in progress).
//!
//! Will hold: run configuration, the Challenger → question set → Solver →
//! evaluation state machine, checkpoints and resume.
#![warn(missing_docs)]
