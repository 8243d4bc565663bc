//! Typed records of an R-Zero run, one JSON object per JSONL line.
//!
//! Our own records reject unknown fields (a typo in a hand-edited file is an
//! error, not a silent default); [`EvalItem`] accepts extra fields so users
//! can bring benchmark files with more columns.

use rzero_reward::{Vote, parse_challenger};
use serde::{Deserialize, Serialize};

use crate::synthetic::oracle;

/// The true answer and difficulty of a question, known only for synthetic
/// tasks (see [`crate::synthetic::oracle()`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OracleLabel {
    /// The true answer, as a decimal integer.
    pub answer: String,
    /// Difficulty level, 1 (easiest) to 6.
    pub level: u8,
}

/// The reward parts of one Challenger output (docs/DESIGN.md §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengerReward {
    /// p̂: Solver consistency on the question over `m_reward` samples.
    pub consistency: f64,
    /// `r_unc = min(p̂, 1 − p̂)` (official) or `1 − 2|p̂ − ½|` (paper).
    pub uncertainty: f64,
    /// `r_rep = |cluster(i)| / B`.
    pub repetition: f64,
    /// The reward GRPO saw.
    pub total: f64,
}

/// One Challenger generation in a rollout step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengerSample {
    /// R-Zero iteration, from 1.
    pub iteration: u32,
    /// Rollout step within the Challenger phase.
    pub step: u32,
    /// Index of the prompt in the rollout batch.
    pub prompt_index: u32,
    /// Index of this rollout within its prompt's group (0..G).
    pub sample_index: u32,
    /// The raw completion text.
    pub text: String,
    /// Content of the last `<question>…</question>`, trimmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// Content of the last `\boxed{…}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Whether the output passed the format gate.
    pub format_ok: bool,
    /// Reward parts, once scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<ChallengerReward>,
    /// True answer and level of the question, for synthetic tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oracle: Option<OracleLabel>,
}

impl ChallengerSample {
    /// Parses a raw Challenger completion (format gate of docs/DESIGN.md §2) and,
    /// when its question is a synthetic task, attaches the oracle's label.
    /// `reward` is left empty for the caller to fill.
    pub fn from_output(
        iteration: u32,
        step: u32,
        prompt_index: u32,
        sample_index: u32,
        text: String,
    ) -> Self {
        let parsed = parse_challenger(&text);
        let oracle = parsed
            .as_ref()
            .and_then(|p| oracle(&p.question))
            .map(|o| o.label());
        Self {
            iteration,
            step,
            prompt_index,
            sample_index,
            format_ok: parsed.is_some(),
            question: parsed.as_ref().map(|p| p.question.clone()),
            answer: parsed.map(|p| p.answer),
            text,
            reward: None,
            oracle,
        }
    }
}

/// A question of the per-iteration question set with its pseudo-label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionRecord {
    /// R-Zero iteration that produced the question.
    pub iteration: u32,
    /// Stable id within the iteration (e.g. `iter_001/000042`).
    pub id: String,
    /// The question text.
    pub question: String,
    /// The Challenger's own `\boxed{}` answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenger_answer: Option<String>,
    /// First-seen member of the largest answer class; empty when no Solver
    /// sample had an extractable answer.
    pub pseudo_label: String,
    /// p̂ = |largest class| / votes (empty answers count in the denominator).
    pub consistency: f64,
    /// m: the number of Solver samples that voted.
    pub votes: u32,
    /// Sizes of the answer classes, in order of first appearance.
    pub class_sizes: Vec<u32>,
    /// The extracted answer of each Solver sample (`""` when none).
    #[serde(default)]
    pub answers: Vec<String>,
    /// True answer, for synthetic tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oracle_answer: Option<String>,
    /// True difficulty level, for synthetic tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oracle_level: Option<u8>,
}

impl QuestionRecord {
    /// The record of `question` labelled by the Solver: `answers` are the m
    /// extracted answers (`""` for none) and `vote` their majority vote
    /// (`rzero_reward::majority_vote`). The oracle fields are filled when the
    /// question is a synthetic task.
    pub fn from_vote(
        iteration: u32,
        id: String,
        question: String,
        challenger_answer: Option<String>,
        answers: &[String],
        vote: &Vote<'_>,
    ) -> Self {
        let known = oracle(&question);
        Self {
            iteration,
            id,
            challenger_answer,
            pseudo_label: vote.pseudo_label.unwrap_or_default().to_string(),
            consistency: vote.consistency,
            votes: u32::try_from(vote.total).unwrap_or(u32::MAX),
            class_sizes: vote
                .class_sizes()
                .into_iter()
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
                .collect(),
            answers: answers.to_vec(),
            oracle_answer: known.as_ref().map(|o| o.answer_text()),
            oracle_level: known.map(|o| o.level.get()),
            question,
        }
    }

    /// Whether the pseudo-label is the true answer (`None` when no oracle
    /// answer is known).
    pub fn pseudo_label_correct(&self) -> Option<bool> {
        let truth = self.oracle_answer.as_deref()?;
        let truth = crate::synthetic::parse_integer_answer(truth)?;
        Some(crate::synthetic::parse_integer_answer(&self.pseudo_label) == Some(truth))
    }
}

/// One Solver rollout during the Solver phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolverSample {
    /// R-Zero iteration, from 1.
    pub iteration: u32,
    /// Rollout step within the Solver phase.
    pub step: u32,
    /// [`QuestionRecord::id`] of the question answered.
    pub question_id: String,
    /// Index of this rollout within its group (0..G).
    pub sample_index: u32,
    /// The raw completion text.
    pub text: String,
    /// Extracted `\boxed{}` answer (`""` when none).
    pub answer: String,
    /// The pseudo-label it was scored against.
    pub pseudo_label: String,
    /// Whether `answer ≡ pseudo_label`.
    pub correct: bool,
    /// Whether the output matched the Solver format.
    pub format_ok: bool,
    /// `0.9·correct + 0.1·format` (official) or the configured form.
    pub reward: f64,
    /// Whether the answer equals the true answer, for synthetic tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oracle_correct: Option<bool>,
}

/// One model answer to one benchmark item, as an evaluation writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalPrediction {
    /// Benchmark name (`gsm8k`, `synthetic_l3`, …).
    pub bench: String,
    /// [`EvalItem::id`].
    pub id: String,
    /// R-Zero iteration of the evaluated Solver (`0` = base model).
    pub iteration: u32,
    /// The raw completion.
    pub output: String,
    /// The extracted answer (`""` when none).
    pub prediction: String,
    /// The gold answer.
    pub gold: String,
    /// Whether the prediction was scored correct.
    pub correct: bool,
}

/// One benchmark item: `{"id","question","answer"[,"choices"]}`. For multiple
/// choice, `choices[i]` belongs to letter `"ABCDEFGHIJ"[i]` and `answer` is
/// the letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalItem {
    /// Unique, stable id within its file.
    pub id: String,
    /// The question (without the options).
    pub question: String,
    /// The gold answer, verbatim.
    pub answer: String,
    /// Options of a multiple-choice item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_item_round_trips_the_bench_format() {
        let free = r#"{"id": "gsm8k/1", "question": "q", "answer": "3"}"#;
        let item: EvalItem = serde_json::from_str(free).unwrap();
        assert_eq!(item.choices, None);
        assert_eq!(
            serde_json::to_string(&item).unwrap(),
            r#"{"id":"gsm8k/1","question":"q","answer":"3"}"#
        );
        let mc = r#"{"id": "m/1", "question": "q", "choices": ["x", "y"], "answer": "B"}"#;
        let item: EvalItem = serde_json::from_str(mc).unwrap();
        assert_eq!(
            item.choices.as_deref(),
            Some(&["x".to_string(), "y".to_string()][..])
        );
    }

    #[test]
    fn own_records_reject_unknown_fields() {
        let line = r#"{"answer":"4","level":2,"levle":3}"#;
        assert!(serde_json::from_str::<OracleLabel>(line).is_err());
    }
}
