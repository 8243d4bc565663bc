//! Answer checking and R-Zero rewards (work in progress).
//!
//! Will hold: `\boxed{}` extraction, math equivalence, majority vote,
//! uncertainty reward, BLEU repetition penalty and format gates.
#![warn(missing_docs)]

pub mod bleu;
pub mod challenger;
pub mod cluster;
pub mod equiv;
mod error;
pub mod extract;
pub mod format;
mod fsum;
mod linkage;
pub mod math;
pub mod repetition;
pub mod rewards;
pub mod uncertainty;
pub mod vote;

pub use challenger::{ChallengerOutput, parse_challenger};
pub use equiv::{Method, Verdict, equivalent, verify};
pub use error::RewardError;
pub use extract::extract_boxed;
pub use repetition::repetition_penalty;
pub use rewards::{ChallengerForm, SolverForm, challenger_reward, solver_reward};
pub use uncertainty::{UncertaintyForm, uncertainty_reward};
pub use vote::{Vote, majority_vote, majority_vote_with};
