//! The phases of one R-Zero iteration (DESIGN.md §1): each is a function of
//! the run config, the models it reads and the step it is at.

pub mod challenger;
pub mod eval;
pub mod question_set;
pub mod solver;

use rzero_model::Completion;
use rzero_reward::{extract_boxed, majority_vote};

use crate::config::RunConfig;
use crate::error::Result;
use crate::policy::{SampleRequest, Sampler, chat_prompt};
use crate::seeds::unit_seed;
use rzero_model::tokenizer::Tokenizer;

/// Solver votes on each question: the extracted answers (`""` when none) of
/// `m` samples at `sampling`, and their majority vote's label and p̂.
#[derive(Debug, Clone)]
pub struct Votes {
    /// Extracted answers, `m` per question.
    pub answers: Vec<Vec<String>>,
    /// Pseudo-label per question (`""` when no sample had an answer).
    pub labels: Vec<String>,
    /// p̂ per question.
    pub consistency: Vec<f64>,
}

/// The Solver prompt of each question, rendered with `tokenizer`'s template.
pub fn solver_prompts(
    config: &RunConfig,
    tokenizer: &Tokenizer,
    questions: &[&str],
) -> Result<Vec<Vec<u32>>> {
    questions
        .iter()
        .map(|q| chat_prompt(tokenizer, &config.prompts.solver_system, q))
        .collect()
}

/// Asks `solver` `m` times per question and takes the majority vote.
pub fn vote_on(
    solver: &dyn Sampler,
    prompts: Vec<Vec<u32>>,
    m: usize,
    sampling: crate::config::SamplingConfig,
    seed: u64,
) -> Result<Votes> {
    let count = prompts.len();
    let completions = if count == 0 {
        Vec::new()
    } else {
        solver.sample(&SampleRequest {
            prompts,
            n: m,
            sampling,
            seed,
        })?
    };
    let mut votes = Votes {
        answers: Vec::with_capacity(count),
        labels: Vec::with_capacity(count),
        consistency: Vec::with_capacity(count),
    };
    for group in completions.chunks(m.max(1)) {
        let answers: Vec<String> = group.iter().map(answer_of).collect();
        let vote = majority_vote(&answers);
        votes
            .labels
            .push(vote.pseudo_label.unwrap_or_default().to_string());
        votes.consistency.push(vote.consistency);
        votes.answers.push(answers);
    }
    Ok(votes)
}

/// The extracted `\boxed{}` answer of a completion, `""` when none.
pub fn answer_of(c: &Completion) -> String {
    c.text
        .as_deref()
        .and_then(extract_boxed)
        .map(|a| a.trim().to_string())
        .unwrap_or_default()
}

/// Seed of a unit of work in this run.
pub fn seed(config: &RunConfig, iteration: usize, phase: &str, step: usize) -> u64 {
    unit_seed(config.seed, iteration, phase, step)
}
