//! ② Question set: the new Challenger writes N questions, the old Solver
//! answers each m times, the majority answer becomes the pseudo-label and
//! the official filters keep the questions inside the consistency band.

use std::time::Instant;

use rzero_data::filter::QuestionFilter;
use rzero_data::{ChallengerSample, FilterReport, QuestionRecord};

use super::{seed, solver_prompts, vote_on};
use crate::config::{LabelSource, RunConfig};
use crate::error::Result;
use crate::metrics::{MetricsRecord, histogram01, mean_std};
use crate::policy::{SampleRequest, Sampler, chat_prompt};
use rzero_data::synthetic::oracle::parse_integer_answer;
use rzero_model::tokenizer::Tokenizer;

/// The labelled questions of one iteration.
#[derive(Debug)]
pub struct QuestionSet {
    /// Every well-formed question with its vote, before the filters.
    pub all: Vec<QuestionRecord>,
    /// The questions kept for Solver training.
    pub kept: Vec<QuestionRecord>,
    /// What each filter dropped.
    pub report: FilterReport,
    /// The phase's metrics.
    pub metrics: MetricsRecord,
}

/// Builds the question set of iteration `t` from `challenger` (just trained;
/// its prompts rendered with `tokenizer`) and `solver` (the previous Solver).
pub fn build_question_set(
    config: &RunConfig,
    iteration: usize,
    tokenizer: &Tokenizer,
    challenger: &dyn Sampler,
    solver: &dyn Sampler,
) -> Result<QuestionSet> {
    let q = &config.question_set;
    let prompt = chat_prompt(
        tokenizer,
        &config.prompts.challenger_system,
        &config.prompts.challenger_user,
    )?;
    let started = Instant::now();
    let outputs = challenger.sample(&SampleRequest {
        prompts: vec![prompt; q.n],
        n: 1,
        sampling: q.sampling,
        seed: seed(config, iteration, "question_set", 0),
    })?;
    let seconds_generate = started.elapsed().as_secs_f64();
    let mut filter = QuestionFilter::new(q.filter)?;
    let samples: Vec<ChallengerSample> = outputs
        .into_iter()
        .map(|o| {
            ChallengerSample::from_output(
                iteration as u32,
                0,
                o.prompt_index as u32,
                0,
                o.text.unwrap_or_default(),
            )
        })
        .filter(|s| filter.admit_sample(s))
        .collect();
    let questions: Vec<&str> = samples
        .iter()
        .map(|s| s.question.as_deref().unwrap_or(""))
        .collect();
    let prompts = solver_prompts(config, tokenizer, &questions)?;
    let started = Instant::now();
    let votes = vote_on(
        solver,
        prompts,
        q.m_label,
        q.label_sampling,
        seed(config, iteration, "question_set_vote", 0),
    )?;
    let seconds_solver_sampling = started.elapsed().as_secs_f64();
    let all: Vec<QuestionRecord> = samples
        .iter()
        .enumerate()
        .map(|(k, s)| {
            QuestionRecord::from_vote(
                iteration as u32,
                format!("iter_{iteration:03}/{k:06}"),
                questions[k].to_string(),
                s.answer.clone(),
                &votes.answers[k],
                &votes.vote(k),
            )
        })
        .collect();
    let mut kept: Vec<QuestionRecord> = all
        .iter()
        .filter(|r| filter.admit_question(r).is_ok())
        .cloned()
        .collect();
    let report = filter.report();
    let mut metrics = MetricsRecord::new(iteration, "question_set", 0);
    // Metrics describe the majority vote, whichever labels train.
    set_metrics(&mut metrics, q.n, &all, &kept);
    if q.labels == LabelSource::Oracle {
        kept = oracle_labels(kept);
        metrics.set("kept_oracle_labelled", kept.len() as f64);
    }
    metrics.set("seconds_generate", seconds_generate);
    metrics.set("seconds_solver_sampling", seconds_solver_sampling);
    Ok(QuestionSet {
        all,
        kept,
        report,
        metrics,
    })
}

/// Replaces each pseudo-label by the oracle's answer; drops the questions
/// the oracle cannot answer.
fn oracle_labels(kept: Vec<QuestionRecord>) -> Vec<QuestionRecord> {
    kept.into_iter()
        .filter_map(|mut r| {
            r.pseudo_label = r.oracle_answer.clone()?;
            Some(r)
        })
        .collect()
}

fn label_is_true(r: &QuestionRecord) -> Option<bool> {
    let truth: i128 = r.oracle_answer.as_ref()?.parse().ok()?;
    Some(parse_integer_answer(&r.pseudo_label) == Some(truth))
}

fn solver_true_accuracy(records: &[QuestionRecord]) -> Option<f64> {
    let (mut right, mut total) = (0usize, 0usize);
    for r in records {
        let Some(truth) = r
            .oracle_answer
            .as_ref()
            .and_then(|a| a.parse::<i128>().ok())
        else {
            continue;
        };
        for a in &r.answers {
            total += 1;
            right += usize::from(parse_integer_answer(a) == Some(truth));
        }
    }
    (total > 0).then(|| right as f64 / total as f64)
}

fn set_metrics(m: &mut MetricsRecord, n: usize, all: &[QuestionRecord], kept: &[QuestionRecord]) {
    m.set("samples", n as f64);
    m.set("labelled", all.len() as f64);
    m.set("kept", kept.len() as f64);
    m.set("band_yield", kept.len() as f64 / all.len().max(1) as f64);
    // Diversity: the share of distinct (normalised) question texts.
    let distinct: std::collections::HashSet<String> = all
        .iter()
        .map(|r| rzero_data::filter::normalize_question(&r.question))
        .collect();
    m.set(
        "distinct_rate_all",
        distinct.len() as f64 / all.len().max(1) as f64,
    );
    let consistency: Vec<f64> = all.iter().map(|r| r.consistency).collect();
    for (b, count) in histogram01(&consistency, 5).into_iter().enumerate() {
        m.set(&format!("consistency_hist_{b}"), count as f64);
    }
    for (name, set) in [("all", all), ("kept", kept)] {
        let truths: Vec<f64> = set
            .iter()
            .filter_map(label_is_true)
            .map(f64::from)
            .collect();
        if !truths.is_empty() {
            m.set(
                &format!("pseudo_label_accuracy_{name}"),
                mean_std(&truths).0,
            );
        }
        let levels: Vec<f64> = set
            .iter()
            .filter_map(|r| r.oracle_level)
            .map(f64::from)
            .collect();
        if !levels.is_empty() {
            m.set(&format!("oracle_level_mean_{name}"), mean_std(&levels).0);
            m.set(
                &format!("oracle_known_rate_{name}"),
                levels.len() as f64 / set.len() as f64,
            );
        }
        if let Some(acc) = solver_true_accuracy(set) {
            m.set(&format!("solver_true_accuracy_{name}"), acc);
        }
    }
}
