//! Answer checking and R-Zero rewards (work in progress).
//!
//! Will hold: `\boxed{}` extraction, math equivalence, majority vote,
//! uncertainty reward, BLEU repetition penalty and format gates.
#![warn(missing_docs)]

pub mod challenger;
pub mod equiv;
pub mod extract;

pub use challenger::{ChallengerOutput, parse_challenger};
pub use equiv::{Method, Verdict, equivalent, verify};
pub use extract::extract_boxed;
