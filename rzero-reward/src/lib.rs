//! Answer checking and R-Zero rewards (work in progress).
//!
//! Will hold: `\boxed{}` extraction, math equivalence, majority vote,
//! uncertainty reward, BLEU repetition penalty and format gates.
#![warn(missing_docs)]
