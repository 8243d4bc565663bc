//! ③ Solver phase: GRPO on the Solver over the question set, rewarded by
//! agreement with the pseudo-label.

use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rzero_data::{QuestionRecord, SolverSample};
use rzero_grpo::GrpoTrainer;
use rzero_model::Qwen3;
use rzero_reward::format::solver_format_ok;
use rzero_reward::rewards::{SolverForm, solver_reward};

use super::{answer_of, seed, solver_prompts};
use crate::config::{RunConfig, SolverRewardForm};
use crate::error::Result;
use crate::metrics::{MetricsRecord, mean_std};
use crate::policy::{Policy, SampleRequest, Sampler};
use crate::train::{Rollouts, TrainOutcome, grpo_update};
use rzero_data::synthetic::oracle::parse_integer_answer;

/// What one Solver rollout step produced.
#[derive(Debug)]
pub struct SolverStepOutput {
    /// Every rollout with its reward.
    pub samples: Vec<SolverSample>,
    /// The step's metrics.
    pub metrics: MetricsRecord,
}

/// Indices of the questions of rollout step `step`: a seeded permutation of
/// the set, walked `per_step` at a time and wrapped around.
pub fn step_questions(
    config: &RunConfig,
    iteration: usize,
    step: usize,
    set_len: usize,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..set_len).collect();
    let mut rng =
        rand_chacha::ChaCha8Rng::seed_from_u64(seed(config, iteration, "solver_order", 0));
    order.shuffle(&mut rng);
    let per_step = config.solver.prompts_per_step;
    (0..per_step)
        .map(|k| order[(step * per_step + k) % set_len])
        .collect()
}

/// Reads one value off an optimizer step's metrics.
type StepField = dyn Fn(&rzero_grpo::StepMetrics) -> Option<f64>;

/// Adds the trainer's metrics (means over the update's optimizer steps).
pub fn trainer_metrics(m: &mut MetricsRecord, outcome: &TrainOutcome) {
    let steps = &outcome.report.steps;
    let mean = |f: &StepField| {
        let xs: Vec<f64> = steps.iter().filter_map(f).collect();
        (!xs.is_empty()).then(|| mean_std(&xs).0)
    };
    let fields: [(&str, &StepField); 9] = [
        ("loss", &|s| Some(f64::from(s.loss))),
        ("policy_loss", &|s| Some(f64::from(s.policy_loss))),
        ("kl", &|s| s.kl.map(f64::from)),
        ("clip_low", &|s| Some(f64::from(s.clip_low))),
        ("clip_high", &|s| Some(f64::from(s.clip_high))),
        ("clip_dual", &|s| Some(f64::from(s.clip_dual))),
        ("grad_norm", &|s| Some(f64::from(s.grad_norm))),
        ("neg_log_prob", &|s| Some(f64::from(s.neg_log_prob))),
        ("train_tokens_per_second", &|s| {
            Some(f64::from(s.tokens_per_second))
        }),
    ];
    for (name, f) in fields {
        if let Some(v) = mean(f) {
            m.set(name, v);
        }
    }
    m.set("optimizer_steps", steps.len() as f64);
    m.set(
        "zero_std_group_fraction",
        f64::from(outcome.report.rewards.zero_std_fraction),
    );
    m.set("max_logprob_gap", f64::from(outcome.max_logprob_gap));
    m.set("seconds_score", outcome.score_seconds);
    m.set("seconds_train", outcome.train_seconds);
}

/// One rollout step over `questions` (non-empty).
pub fn solver_step(
    config: &RunConfig,
    iteration: usize,
    step: usize,
    solver: &mut Policy,
    trainer: &mut GrpoTrainer,
    reference: Option<&Qwen3>,
    questions: &[QuestionRecord],
) -> Result<SolverStepOutput> {
    let s = &config.solver;
    let picked: Vec<&QuestionRecord> = step_questions(config, iteration, step, questions.len())
        .into_iter()
        .map(|i| &questions[i])
        .collect();
    let texts: Vec<&str> = picked.iter().map(|q| q.question.as_str()).collect();
    let prompts = solver_prompts(config, &solver.tokenizer, &texts)?;
    let started = Instant::now();
    let outputs = solver.sample(&SampleRequest {
        prompts: prompts.clone(),
        n: s.group_size,
        sampling: s.sampling,
        seed: seed(config, iteration, "solver", step),
    })?;
    let seconds_generate = started.elapsed().as_secs_f64();
    let form = match s.reward_form {
        SolverRewardForm::Official => SolverForm::Official,
        SolverRewardForm::Binary => SolverForm::Binary,
    };
    let mut rollouts = Rollouts::default();
    let mut samples = Vec::with_capacity(outputs.len());
    for o in &outputs {
        let q = picked[o.prompt_index];
        let text = o.text.clone().unwrap_or_default();
        let reward = solver_reward(form, &text, &q.pseudo_label);
        let answer = answer_of(o);
        let oracle_correct = q
            .oracle_answer
            .as_ref()
            .and_then(|a| a.parse::<i128>().ok())
            .map(|truth| parse_integer_answer(&answer) == Some(truth));
        samples.push(SolverSample {
            iteration: iteration as u32,
            step: step as u32,
            question_id: q.id.clone(),
            sample_index: o.sample_index as u32,
            correct: rzero_reward::equivalent(&q.pseudo_label, &answer) && !answer.is_empty(),
            format_ok: solver_format_ok(&text),
            answer,
            pseudo_label: q.pseudo_label.clone(),
            text,
            reward,
            oracle_correct,
        });
        rollouts.prompts.push(prompts[o.prompt_index].clone());
        rollouts.completions.push(o.token_ids.clone());
        rollouts.sampled_logprobs.push(o.logprobs.clone());
        rollouts.rewards.push(reward as f32);
    }
    let outcome = grpo_update(solver, trainer, reference, &rollouts, &config.memory)?;
    let mut m = MetricsRecord::new(iteration, "solver", step);
    trainer_metrics(&mut m, &outcome);
    m.set("seconds_generate", seconds_generate);
    let rewards: Vec<f64> = samples.iter().map(|x| x.reward).collect();
    let (mean, std) = mean_std(&rewards);
    m.set("reward_mean", mean).set("reward_std", std);
    let frac = |f: &dyn Fn(&SolverSample) -> bool| {
        samples.iter().filter(|x| f(x)).count() as f64 / samples.len().max(1) as f64
    };
    m.set("format_rate", frac(&|x| x.format_ok));
    m.set("label_match_rate", frac(&|x| x.correct));
    let known: Vec<f64> = samples
        .iter()
        .filter_map(|x| x.oracle_correct)
        .map(f64::from)
        .collect();
    if !known.is_empty() {
        m.set("solver_true_accuracy", mean_std(&known).0);
    }
    Ok(SolverStepOutput {
        samples,
        metrics: m,
    })
}
