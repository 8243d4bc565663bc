//! Records, JSONL I/O, question-set filters, benchmarks and synthetic tasks
//! for R-Zero (arXiv 2508.05004).
//!
//! - [`records`]: typed serde records of a run — [`ChallengerSample`],
//!   [`QuestionRecord`] (question, pseudo-label, p̂, votes), [`SolverSample`],
//!   and [`EvalItem`] (`{"id","question","answer"[,"choices"]}`).
//! - [`jsonl`]: streaming [`JsonlReader`] (a malformed line is an error naming
//!   file and line, or is skipped and counted), [`AtomicJsonlWriter`], and
//!   [`read_json`] / [`write_json`] for single-document state files.
//! - Every file this crate writes goes through `rzero_fs` (temp file in the
//!   same directory, fsync, rename); [`atomic_write_bytes`] re-exports its writer.
//! - [`filter`]: the official question-set filters and consistency band
//!   (docs/DESIGN.md §5) with a [`FilterReport`].
//! - [`mod@bench`]: the ten benchmarks of the paper, their loader, the
//!   general-domain prompt and the Math AVG / Overall formulas.
//! - [`synthetic`]: graded arithmetic tasks with an [`synthetic::oracle()`],
//!   pretraining documents and a held-out set for the built-in tiny model.
//!
//! ```
//! use rzero_data::synthetic::{Level, Surface, TaskGenerator, oracle};
//! use rzero_data::filter::{Band, FilterConfig, filter_question_set};
//!
//! // A level-2 task and its true answer, recovered from the text alone.
//! let task = TaskGenerator::new(42).task(Level::new(2).unwrap(), Surface::Expression);
//! let known = oracle(&task.question).unwrap();
//! assert_eq!(known.answer, task.answer);
//! assert_eq!(known.level, task.level);
//! assert_eq!(oracle("Who wrote Hamlet?"), None);
//!
//! // The official band keeps 0.3 ≤ p̂ ≤ 0.8.
//! assert!(Band::OFFICIAL.contains(0.3) && !Band::OFFICIAL.contains(0.9));
//! let (kept, report) = filter_question_set(Vec::new(), FilterConfig::default()).unwrap();
//! assert!(kept.is_empty() && report.seen == 0);
//! ```
#![warn(missing_docs)]

pub mod bench;
pub mod error;
pub mod filter;
pub mod jsonl;
pub mod records;
pub mod synthetic;

pub use bench::{Benchmark, load_benchmark};
pub use error::{DataError, Result};
pub use filter::{Band, Dedup, FilterConfig, FilterReport, QuestionFilter};
pub use jsonl::{
    AtomicJsonlWriter, JsonlReader, OnMalformed, read_json, read_jsonl, write_json, write_jsonl,
};
pub use records::{
    ChallengerReward, ChallengerSample, EvalItem, EvalPrediction, OracleLabel, QuestionRecord,
    SolverSample,
};
pub use rzero_fs::{AtomicFile, write_atomic as atomic_write_bytes};
