//! Answer checking and R-Zero rewards, in pure Rust (no tensor library).
//!
//! # Answers and equivalence
//!
//! - [`extract_boxed`]: the content of the last brace-balanced `\boxed{…}`
//!   (`\boxed {…}`, `\fbox{…}`); [`extract_answer`] adds math-verify's
//!   fallbacks behind [`ExtractOptions`]; [`choice_letter`] reads `(A)`,
//!   `A.`, `\text{(A)}`.
//! - [`parse_challenger`]: the last `<question>…</question>` and the last box
//!   of a Challenger output, or `None` when it fails the format gate.
//! - [`verify_texts`]: two whole texts (model outputs, reference solutions,
//!   sentences, `$…$` golds) compared like math-verify's
//!   `verify(parse(gold), parse(pred))`: [`text_answer`] finds each answer
//!   (last box, then math-verify's fallbacks), then [`verify`] compares.
//!   Its rules and deliberate differences are listed in [`text`].
//! - [`verify`] / [`equivalent`]: math-verify-compatible equivalence with a
//!   [`Verdict`] saying how it decided ([`Method`]) and whether its fixed
//!   work budget was hit. The rules, the budget and every deliberate
//!   difference from math-verify are listed in [`equiv`]; the parser lives
//!   in [`math`].
//!
//! ```
//! use rzero_reward::{Method, extract_boxed, parse_challenger, verify};
//! let solver_output = r"... so the total is \boxed{\dfrac{3}{4}}.";
//! let answer = extract_boxed(solver_output).unwrap_or("");
//! assert!(verify("0.75", answer).equal);
//! assert_eq!(verify("x = 3", "3").method, Method::Rational);
//! assert!(!verify(r"10^{10^{10}}", "1").equal); // bounded work, no hang
//! let full = r"Adding, we get $14{,}916$ in all. The answer is $\boxed{14{,}916}$.";
//! assert!(rzero_reward::verify_texts("$14916$", full).verdict.equal);
//! let challenger = "<question>\nWhat is 2+3?\n</question>\n\\boxed{5}";
//! assert_eq!(parse_challenger(challenger).map(|c| c.answer), Some("5".into()));
//! ```
//!
//! # Vote and rewards
//!
//! - [`vote::majority_vote`] groups a question's m sampled answers into
//!   equivalence classes and returns the pseudo-label and p̂ (empty answers
//!   count in m); [`majority_vote_with`] takes any checker.
//! - [`uncertainty_reward`]: `min(p̂, 1 − p̂)` (official) or `1 − 2|p̂ − ½|` (paper).
//! - [`repetition_penalty`]: `|cluster(i)| / B` over a batch, with sentence
//!   BLEU bit-identical to NLTK's and clusters identical to scikit-learn's
//!   average linkage ([`bleu`], [`cluster`]); parallel with rayon.
//! - [`challenger_reward`] and [`solver_reward`], official and paper forms
//!   ([`rewards`] states the formulas and ranges).
//!
//! ```
//! use rzero_reward::{ChallengerForm, challenger_reward, majority_vote_with, repetition_penalty};
//! // Four Solver answers to one question, one without a box.
//! let vote = majority_vote_with(&["4", "4", "", "5"], |a, b| a == b);
//! assert_eq!((vote.pseudo_label, vote.consistency), (Some("4"), 0.5));
//! // Two of the batch's three questions are the same.
//! let batch = ["how many primes are below one hundred"; 2];
//! let batch = [batch[0], batch[1], "find x"];
//! let r_rep = repetition_penalty(&batch);
//! let r = challenger_reward(ChallengerForm::Official, true, vote.consistency, r_rep[0]);
//! assert!((r - (0.5 - 2.0 / 3.0)).abs() < 1e-12);
//! ```
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
mod postings;
pub mod repetition;
pub mod rewards;
pub mod text;
pub mod uncertainty;
pub mod vote;

pub use challenger::{ChallengerOutput, parse_challenger};
pub use equiv::{Method, Verdict, equivalent, verify};
pub use error::RewardError;
pub use extract::{ExtractOptions, choice_letter, extract_answer, extract_boxed};
pub use repetition::repetition_penalty;
pub use rewards::{ChallengerForm, SolverForm, challenger_reward, solver_reward};
pub use text::{TextVerdict, text_answer, verify_texts};
pub use uncertainty::{UncertaintyForm, uncertainty_reward};
pub use vote::{Vote, majority_vote, majority_vote_with};
