//! The phases of one R-Zero iteration (docs/DESIGN.md §1): each is a function of
//! the run config, the models it reads and the step it is at.

pub mod challenger;
pub mod eval;
pub mod question_set;
pub mod solver;

use rzero_model::Completion;
use rzero_reward::vote::{AnswerClass, Vote};
use rzero_reward::{extract_boxed, majority_vote};

use crate::config::RunConfig;
use crate::error::Result;
use crate::policy::{SampleRequest, Sampler, chat_prompt};
use crate::seeds::unit_seed;
use rzero_model::tokenizer::Tokenizer;

/// Solver votes on each question: the extracted answers (`""` when none) of
/// `m` samples at `sampling`, and their majority vote's label and p̂. Each
/// question is voted on once, in [`Votes::from_answers`].
#[derive(Debug, Clone)]
pub struct Votes {
    /// Extracted answers, `m` per question.
    pub answers: Vec<Vec<String>>,
    /// Pseudo-label per question (`""` when no sample had an answer).
    pub labels: Vec<String>,
    /// p̂ per question.
    pub consistency: Vec<f64>,
    /// Equivalence classes per question and the index of the largest.
    classes: Vec<(Vec<AnswerClass>, Option<usize>)>,
}

impl Votes {
    /// Takes the majority vote on each question's answers.
    pub fn from_answers(answers: Vec<Vec<String>>) -> Self {
        let mut votes = Votes {
            answers: Vec::with_capacity(answers.len()),
            labels: Vec::with_capacity(answers.len()),
            consistency: Vec::with_capacity(answers.len()),
            classes: Vec::with_capacity(answers.len()),
        };
        for group in answers {
            let vote = majority_vote(&group);
            votes
                .labels
                .push(vote.pseudo_label.unwrap_or_default().to_string());
            votes.consistency.push(vote.consistency);
            votes.classes.push((vote.classes, vote.majority));
            votes.answers.push(group);
        }
        votes
    }

    /// Question `k`'s vote, as [`majority_vote`] returned it.
    pub fn vote(&self, k: usize) -> Vote<'_> {
        let (classes, majority) = &self.classes[k];
        let answers = &self.answers[k];
        Vote {
            pseudo_label: majority.map(|c| answers[classes[c].members[0]].as_str()),
            consistency: self.consistency[k],
            classes: classes.clone(),
            majority: *majority,
            total: answers.len(),
        }
    }
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
    let answers = completions
        .chunks(m.max(1))
        .map(|group| group.iter().map(answer_of).collect())
        .collect();
    Ok(Votes::from_answers(answers))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_vote_is_the_vote_on_its_answers() {
        let answers: Vec<Vec<String>> = [
            vec!["2", "", "3", "2", "3"],
            vec!["", ""],
            vec!["1/2", "0.5", "7"],
        ]
        .iter()
        .map(|g| g.iter().map(|a| a.to_string()).collect())
        .collect();
        let votes = Votes::from_answers(answers.clone());
        for (k, group) in answers.iter().enumerate() {
            let vote = majority_vote(group);
            assert_eq!(votes.vote(k), vote);
            assert_eq!(votes.labels[k], vote.pseudo_label.unwrap_or_default());
            assert_eq!(votes.consistency[k], vote.consistency);
        }
        assert_eq!(votes.vote(2).pseudo_label, Some("1/2"));
        assert_eq!(votes.vote(1).pseudo_label, None);
    }
}
