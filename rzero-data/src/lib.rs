//! R-Zero records and data (work in progress).
//!
//! Will hold: typed records, streaming JSONL, question-set filters,
//! benchmark loaders and synthetic tasks with an oracle.
#![warn(missing_docs)]
