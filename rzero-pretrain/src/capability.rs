//! The capability profile of a base model on the synthetic tasks: greedy
//! Solver accuracy per held-out level, maj@m (the majority of m answers
//! sampled at temperature 1.0: the headroom self-evolution can turn into
//! greedy accuracy) and, sampled at temperature 1.0, how often the
//! Challenger prompt yields a well-formed question the oracle can answer.

use rzero_data::synthetic::{
    CHALLENGER_SYSTEM, CHALLENGER_USER, HeldOut, Level, SOLVER_SYSTEM, oracle,
};
use rzero_reward::{equivalent, extract_boxed, majority_vote, parse_challenger};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// One chat prompt: system and user message.
pub type Prompt = (String, String);

/// Generates one completion (decoded text, special tokens dropped) per
/// prompt, rendered with the model's chat template and the generation
/// prompt. `temperature == 0` means greedy.
pub trait Generate {
    /// Completions of `prompts`, in order; `seed` fixes the sampling RNGs.
    fn generate(
        &mut self,
        prompts: &[Prompt],
        temperature: f32,
        max_new_tokens: usize,
        seed: u64,
    ) -> Result<Vec<String>>;
}

/// How much to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilityConfig {
    /// Held-out questions per level (at most the set's size).
    pub per_level: usize,
    /// Challenger samples at temperature 1.0.
    pub challenger_samples: usize,
    /// New-token budget of every completion.
    pub max_new_tokens: usize,
    /// Seed of the Challenger samples.
    pub seed: u64,
    /// Samples per question for maj@m (0: greedy only).
    #[serde(default)]
    pub maj_m: usize,
}

impl Default for CapabilityConfig {
    /// 250 per level, 200 Challenger samples, 128 new tokens, seed 0, maj@8.
    fn default() -> Self {
        Self {
            per_level: 250,
            challenger_samples: 200,
            max_new_tokens: 128,
            seed: 0,
            maj_m: 8,
        }
    }
}

/// Greedy Solver results on one held-out level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LevelScore {
    /// The level (1 easiest … 6 hardest).
    pub level: u8,
    /// Questions asked.
    pub items: usize,
    /// Outputs with a non-empty `\boxed{}`.
    pub boxed: usize,
    /// Outputs whose boxed answer equals the true answer.
    pub correct: usize,
    /// Questions whose majority answer over `maj_m` samples is right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub majority_correct: Option<usize>,
}

/// Challenger samples at temperature 1.0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChallengerScore {
    /// Samples drawn.
    pub samples: usize,
    /// Samples passing the format gate (`parse_challenger`).
    pub well_formed: usize,
    /// Well-formed samples whose question the oracle answers.
    pub answerable: usize,
    /// Answerable samples whose own `\boxed{}` is the true answer.
    pub self_consistent: usize,
    /// Answerable samples per oracle level 1..=6.
    pub by_level: [usize; 6],
}

/// The whole profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapabilityReport {
    /// Per-level greedy Solver scores.
    pub levels: Vec<LevelScore>,
    /// Challenger sampling scores.
    pub challenger: ChallengerScore,
    /// What was evaluated.
    pub config: CapabilityConfig,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl LevelScore {
    /// Share of correct answers.
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct, self.items)
    }

    /// Share of questions the majority vote gets right.
    pub fn majority_accuracy(&self) -> Option<f64> {
        self.majority_correct.map(|c| ratio(c, self.items))
    }
}

impl CapabilityReport {
    /// Share of Solver outputs with a well-formed `\boxed{}`, all levels.
    pub fn boxed_rate(&self) -> f64 {
        let boxed = self.levels.iter().map(|l| l.boxed).sum();
        ratio(boxed, self.levels.iter().map(|l| l.items).sum())
    }

    /// The testbed's targets (issues 5 and 12): `(criterion, measured, passes)`.
    pub fn targets(&self) -> Vec<(String, f64, bool)> {
        let acc = |level: u8| {
            self.levels
                .iter()
                .find(|l| l.level == level)
                .map_or(0.0, LevelScore::accuracy)
        };
        let frontier = self
            .levels
            .iter()
            .filter(|l| (0.15..=0.85).contains(&l.accuracy()))
            .count();
        let headroom = self
            .levels
            .iter()
            .filter(|l| {
                (0.15..=0.85).contains(&l.accuracy())
                    && l.majority_accuracy()
                        .is_some_and(|m| m >= l.accuracy() + 0.10)
            })
            .count();
        let c = &self.challenger;
        let gate = ratio(c.well_formed, c.samples);
        let answerable = ratio(c.answerable, c.well_formed);
        vec![
            (
                "well-formed \\boxed{} (greedy, all levels) ≥ 90 %".into(),
                self.boxed_rate(),
                self.boxed_rate() >= 0.9,
            ),
            ("level 1 accuracy ≥ 80 %".into(), acc(1), acc(1) >= 0.8),
            ("level 6 accuracy ≤ 20 %".into(), acc(6), acc(6) <= 0.2),
            (
                "levels with greedy accuracy in [15 %, 85 %] ≥ 3 (count)".into(),
                frontier as f64,
                frontier >= 3,
            ),
            (
                "of those, maj@m ≥ greedy + 10 points on ≥ 2 (count)".into(),
                headroom as f64,
                headroom >= 2,
            ),
            (
                "Challenger format gate (T = 1.0) ≥ 60 %".into(),
                gate,
                gate >= 0.6,
            ),
            (
                "oracle-answerable among well-formed ≥ 80 %".into(),
                answerable,
                answerable >= 0.8,
            ),
        ]
    }
}

/// Measures the profile of the model behind `generator` on `heldout`.
pub fn evaluate_capability(
    generator: &mut dyn Generate,
    heldout: &HeldOut,
    config: &CapabilityConfig,
) -> Result<CapabilityReport> {
    let mut levels = Vec::new();
    for level in Level::all() {
        let items = heldout.items(level);
        let items = &items[..config.per_level.min(items.len())];
        let prompts: Vec<Prompt> = items
            .iter()
            .map(|i| (SOLVER_SYSTEM.to_string(), i.question.clone()))
            .collect();
        let outputs = generator.generate(&prompts, 0.0, config.max_new_tokens, config.seed)?;
        let mut score = LevelScore {
            level: level.get(),
            items: items.len(),
            boxed: 0,
            correct: 0,
            majority_correct: None,
        };
        for (item, output) in items.iter().zip(&outputs) {
            let Some(answer) = extract_boxed(output)
                .map(str::trim)
                .filter(|a| !a.is_empty())
            else {
                continue;
            };
            score.boxed += 1;
            score.correct += usize::from(answer == item.answer || equivalent(&item.answer, answer));
        }
        if config.maj_m > 0 {
            score.majority_correct = Some(majority_correct(generator, items, &prompts, config)?);
        }
        tracing::info!(
            level = score.level,
            correct = score.correct,
            majority_correct = score.majority_correct,
            items = score.items,
            "solver level"
        );
        levels.push(score);
    }
    let prompt = (CHALLENGER_SYSTEM.to_string(), CHALLENGER_USER.to_string());
    let prompts = vec![prompt; config.challenger_samples];
    let outputs = generator.generate(&prompts, 1.0, config.max_new_tokens, config.seed)?;
    Ok(CapabilityReport {
        levels,
        challenger: score_challenger(&outputs),
        config: *config,
    })
}

/// How many of `items` the majority of `maj_m` samples (temperature 1.0)
/// answers right.
fn majority_correct(
    generator: &mut dyn Generate,
    items: &[rzero_data::EvalItem],
    prompts: &[Prompt],
    config: &CapabilityConfig,
) -> Result<usize> {
    let m = config.maj_m;
    let repeated: Vec<Prompt> = prompts
        .iter()
        .flat_map(|p| std::iter::repeat_n(p.clone(), m))
        .collect();
    let outputs = generator.generate(&repeated, 1.0, config.max_new_tokens, config.seed)?;
    let right = items
        .iter()
        .zip(outputs.chunks(m))
        .filter(|(item, group)| {
            let answers: Vec<String> = group
                .iter()
                .map(|o| extract_boxed(o).map(str::trim).unwrap_or("").to_string())
                .collect();
            majority_vote(&answers)
                .pseudo_label
                .is_some_and(|label| equivalent(&item.answer, label))
        })
        .count();
    Ok(right)
}

/// Scores Challenger outputs with the format gate and the oracle.
pub fn score_challenger(outputs: &[String]) -> ChallengerScore {
    let mut score = ChallengerScore {
        samples: outputs.len(),
        well_formed: 0,
        answerable: 0,
        self_consistent: 0,
        by_level: [0; 6],
    };
    for output in outputs {
        let Some(parsed) = parse_challenger(output) else {
            continue;
        };
        score.well_formed += 1;
        let Some(known) = oracle(&parsed.question) else {
            continue;
        };
        score.answerable += 1;
        score.self_consistent += usize::from(parsed.answer == known.answer_text());
        if let Some(slot) = score.by_level.get_mut(usize::from(known.level.get()) - 1) {
            *slot += 1;
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenger_outputs_are_gated_then_checked_by_the_oracle() {
        let outputs = [
            "<think>\n\n</think>\n\n<question>\nWhat is 3 + 4?\n</question>\n\n\\boxed{7}",
            "<question>\nWhat is 2 * 9 - 1?\n</question>\n\n\\boxed{16}",
            "<question>\nWho wrote Hamlet?\n</question>\n\n\\boxed{Shakespeare}",
            "<question>\nWhat is 3 + 4?\n</question>",
        ]
        .map(String::from);
        let score = score_challenger(&outputs);
        assert_eq!(
            (score.samples, score.well_formed, score.answerable),
            (4, 3, 2)
        );
        assert_eq!(score.self_consistent, 1);
        // 3 + 4 is level 1; 2 * 9 - 1 (a product) is level 3.
        assert_eq!((score.by_level[0], score.by_level[2]), (1, 1));
    }
}
