//! R-Zero's Challenger and Solver rewards, official and paper forms.
//!
//! Challenger output i of a batch of B, with Solver consistency p̂ on its
//! question and repetition penalty `r_rep = |cluster(i)| / B`
//! ([`crate::repetition`]):
//!
//! ```text
//! official: r = min(p̂, 1 − p̂) − r_rep            format ok     ∈ [−1, ½)
//!           r = −1 − r_rep                          format fails  ∈ [−2, −1)
//! paper:    r = max(0, (1 − 2|p̂ − ½|) − λ·r_rep)   format ok     ∈ [0, 1]
//!           r = 0                                   format fails
//! ```
//!
//! The format gate (a last `<question>…</question>` and a last `\boxed{…}`,
//! both non-empty) is decided by the caller, e.g. with
//! [`crate::parse_challenger`].
//!
//! Solver output with answer `a` (last `\boxed{}` after
//! [`crate::format::tighten_tags`]) against the pseudo-label `y`:
//!
//! ```text
//! official: r = 0.9·[a ≡ y] + 0.1·format   ∈ {0, 0.1, 0.9, 1}
//! binary:   r = [a ≡ y]                    ∈ {0, 1}
//! ```

use crate::format::{solver_format_reward, tighten_tags};
use crate::repetition::{penalties, question_clusters};
use crate::uncertainty::{UncertaintyForm, uncertainty_reward};

/// Which Challenger reward to compute.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum ChallengerForm {
    /// `r_unc − r_rep`, or `−1 − r_rep` on format failure.
    #[default]
    Official,
    /// `max(0, r_unc − λ·r_rep)` with the paper's r_unc, or 0 on format failure.
    Paper {
        /// Weight λ of the repetition penalty.
        lambda: f64,
    },
}

/// The Challenger reward of one output (formulas in the module docs).
///
/// ```
/// use rzero_reward::rewards::{ChallengerForm, challenger_reward};
/// let r = challenger_reward(ChallengerForm::Official, true, 0.3, 0.25);
/// assert!((r - 0.05).abs() < 1e-12);
/// assert_eq!(challenger_reward(ChallengerForm::Official, false, 0.3, 0.25), -1.25);
/// assert_eq!(challenger_reward(ChallengerForm::Paper { lambda: 1.0 }, false, 0.5, 0.1), 0.0);
/// ```
pub fn challenger_reward(
    form: ChallengerForm,
    format_ok: bool,
    consistency: f64,
    repetition: f64,
) -> f64 {
    match form {
        ChallengerForm::Official if format_ok => {
            uncertainty_reward(consistency, UncertaintyForm::Official) - repetition
        }
        ChallengerForm::Official => -1.0 - repetition,
        ChallengerForm::Paper { lambda } if format_ok => {
            let r_unc = uncertainty_reward(consistency, UncertaintyForm::Paper);
            (r_unc - lambda * repetition).max(0.0)
        }
        ChallengerForm::Paper { .. } => 0.0,
    }
}

/// One Challenger output of a batch, as the reward needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChallengerSample<'a> {
    /// The parsed question; `None` when the output failed the format gate.
    pub question: Option<&'a str>,
    /// The Solver's consistency p̂ on that question (ignored when `None`).
    pub consistency: f64,
}

/// One Challenger output's reward with the parts it was built from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChallengerRewardParts {
    /// `r_unc` of the output's p̂ in the form's own shape (0 when the format
    /// gate failed: p̂ = 0 there).
    pub uncertainty: f64,
    /// `r_rep = |cluster| / B`.
    pub repetition: f64,
    /// The reward GRPO sees ([`challenger_reward`]).
    pub total: f64,
}

impl ChallengerForm {
    /// The uncertainty term this form uses.
    pub fn uncertainty_form(self) -> UncertaintyForm {
        match self {
            ChallengerForm::Official => UncertaintyForm::Official,
            ChallengerForm::Paper { .. } => UncertaintyForm::Paper,
        }
    }
}

/// Rewards of a whole batch: the repetition penalty clusters all B questions
/// at BLEU-distance `threshold` (the official value is
/// [`DISTANCE_THRESHOLD`](crate::repetition::DISTANCE_THRESHOLD)), failed
/// outputs entering the clustering as empty strings, as in the official code.
///
/// ```
/// use rzero_reward::repetition::DISTANCE_THRESHOLD;
/// use rzero_reward::rewards::{ChallengerForm, ChallengerSample, challenger_rewards};
/// let q = "how many primes are below one hundred";
/// let batch = [
///     ChallengerSample { question: Some(q), consistency: 0.5 },
///     ChallengerSample { question: Some(q), consistency: 0.5 },
///     ChallengerSample { question: None, consistency: 0.0 },
/// ];
/// let r = challenger_rewards(ChallengerForm::Official, DISTANCE_THRESHOLD, &batch);
/// assert!((r[0].total - (0.5 - 2.0 / 3.0)).abs() < 1e-12);
/// assert_eq!(r[0].uncertainty, 0.5);
/// assert!((r[2].total - (-1.0 - 1.0 / 3.0)).abs() < 1e-12);
/// assert_eq!(r[2].repetition, 1.0 / 3.0);
/// ```
pub fn challenger_rewards(
    form: ChallengerForm,
    threshold: f64,
    batch: &[ChallengerSample<'_>],
) -> Vec<ChallengerRewardParts> {
    let questions: Vec<&str> = batch.iter().map(|s| s.question.unwrap_or("")).collect();
    let r_rep = penalties(&question_clusters(&questions, threshold));
    batch
        .iter()
        .zip(r_rep)
        .map(|(s, repetition)| {
            let consistency = if s.question.is_some() {
                s.consistency
            } else {
                0.0
            };
            ChallengerRewardParts {
                uncertainty: uncertainty_reward(consistency, form.uncertainty_form()),
                repetition,
                total: challenger_reward(form, s.question.is_some(), consistency, repetition),
            }
        })
        .collect()
}

/// Which Solver reward to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SolverForm {
    /// `0.9·[answer ≡ pseudo-label] + 0.1·format`.
    #[default]
    Official,
    /// `[answer ≡ pseudo-label]`.
    Binary,
}

/// Weight of the answer match in the official Solver reward.
pub const SOLVER_ACCURACY_WEIGHT: f64 = 0.9;
/// Weight of the format term in the official Solver reward.
pub const SOLVER_FORMAT_WEIGHT: f64 = 0.1;

/// The Solver reward of one output against the pseudo-label, with any
/// checker `equivalent(gold, pred)`. No `\boxed{}` means no match.
///
/// ```
/// use rzero_reward::rewards::{SolverForm, solver_reward_with};
/// let same = |a: &str, b: &str| a == b;
/// let out = "<think>2+2</think> so \\boxed{4}";
/// assert_eq!(solver_reward_with(SolverForm::Official, out, "4", same), 1.0);
/// assert_eq!(solver_reward_with(SolverForm::Official, out, "5", same), 0.1);
/// assert_eq!(solver_reward_with(SolverForm::Binary, "\\boxed{4}", "4", same), 1.0);
/// ```
pub fn solver_reward_with<F>(
    form: SolverForm,
    output: &str,
    pseudo_label: &str,
    equivalent: F,
) -> f64
where
    F: Fn(&str, &str) -> bool,
{
    let text = tighten_tags(output);
    let matched =
        crate::extract_boxed(&text).is_some_and(|answer| equivalent(pseudo_label, answer));
    let accuracy = if matched { 1.0 } else { 0.0 };
    match form {
        SolverForm::Official => {
            SOLVER_ACCURACY_WEIGHT * accuracy + SOLVER_FORMAT_WEIGHT * solver_format_reward(output)
        }
        SolverForm::Binary => accuracy,
    }
}

/// [`solver_reward_with`] using this crate's checker, [`crate::equivalent`].
pub fn solver_reward(form: SolverForm, output: &str, pseudo_label: &str) -> f64 {
    solver_reward_with(form, output, pseudo_label, crate::equivalent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_challenger_penalizes_failures_below_any_valid_output() {
        let worst_valid = challenger_reward(ChallengerForm::Official, true, 1.0, 1.0);
        let best_invalid = challenger_reward(ChallengerForm::Official, false, 0.5, 1.0 / 2048.0);
        assert!(worst_valid >= -1.0 && best_invalid < -1.0);
    }

    #[test]
    fn paper_challenger_is_clipped_at_zero() {
        let form = ChallengerForm::Paper { lambda: 2.0 };
        assert_eq!(challenger_reward(form, true, 0.5, 0.75), 0.0);
        assert!((challenger_reward(form, true, 0.5, 0.25) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn solver_answer_is_read_after_tag_tightening() {
        let same = |a: &str, b: &str| a == b;
        // The official code strips spaces around '/', so "1 / 2" is read as "1/2".
        let out = "<think>half</think> \\boxed{1 / 2}";
        assert_eq!(
            solver_reward_with(SolverForm::Official, out, "1/2", same),
            1.0
        );
        assert_eq!(
            solver_reward_with(SolverForm::Official, "no box", "1/2", same),
            0.0
        );
    }
}
