//! Synthetic arithmetic tasks with a computable true answer, for the
//! built-in tiny model (docs/DESIGN.md §8, issue 5).
//!
//! - [`TaskGenerator`]: seeded draws of a [`Task`] at a [`Level`] (1–6, see
//!   [`level`] for the table), as an expression (`What is 3 + 4 * 2?`) or a
//!   templated [`WordProblem`].
//! - [`oracle()`]: any question text → its true answer and level, or `None`.
//! - [`Document`]: a Challenger or Solver pretraining document with the
//!   prompts of docs/DESIGN.md §2, rendered as Qwen3's chat template does
//!   ([`render_chatml`]).
//! - [`HeldOut`] and [`pretraining_corpus`]: a fixed-seed evaluation set per
//!   level and a corpus disjoint from it.

pub mod corpus;
pub mod expr;
pub mod generate;
pub mod level;
pub mod oracle;
pub mod parse;
pub mod render;
pub mod word;

pub use corpus::{
    Corpus, CorpusConfig, HELDOUT_SEED, HeldOut, HeldOutConfig, default_heldout_dir,
    pretraining_corpus, write_corpus,
};
pub use expr::{Expr, Op, Step};
pub use generate::{Surface, Task, TaskGenerator};
pub use level::{Features, Level, level_of};
pub use oracle::{OracleAnswer, oracle, parse_integer_answer};
pub use render::{
    CHALLENGER_SYSTEM, CHALLENGER_USER, Conversation, Document, IM_END, Role, SOLVER_SYSTEM,
    render_chatml, render_completion, render_prompt_chatml,
};
pub use word::WordProblem;
