//! ① Challenger phase: GRPO on the Challenger, rewarded by the Solver's
//! uncertainty on its questions minus a BLEU repetition penalty.

use std::time::Instant;

use rzero_data::ChallengerSample;
use rzero_grpo::GrpoTrainer;
use rzero_model::Qwen3;
use rzero_reward::rewards::{ChallengerForm, challenger_rewards};

use super::{seed, solver_prompts, vote_on};
use crate::config::{ChallengerRewardForm, RunConfig};
use crate::error::Result;
use crate::metrics::{MetricsRecord, histogram01, mean_std};
use crate::policy::{Policy, SampleRequest, Sampler};
use crate::train::{Rollouts, grpo_update};

/// What one Challenger rollout step produced.
#[derive(Debug)]
pub struct ChallengerStepOutput {
    /// Every Challenger output with its reward parts.
    pub samples: Vec<ChallengerSample>,
    /// The step's metrics.
    pub metrics: MetricsRecord,
}

fn form(config: &RunConfig) -> ChallengerForm {
    match config.challenger.reward_form {
        ChallengerRewardForm::Official => ChallengerForm::Official,
        ChallengerRewardForm::Paper => ChallengerForm::Paper {
            lambda: config.challenger.repetition_lambda,
        },
    }
}

/// Where a Challenger step samples, and who scores it.
#[derive(Clone, Copy)]
pub struct ChallengerSamplers<'a> {
    /// Servers holding the Challenger's current weights; `None` samples
    /// the local model.
    pub rollouts: Option<&'a dyn Sampler>,
    /// The frozen Solver whose votes give the uncertainty reward.
    pub solver: &'a dyn Sampler,
}

impl std::fmt::Debug for ChallengerSamplers<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChallengerSamplers")
            .field("remote_rollouts", &self.rollouts.is_some())
            .finish_non_exhaustive()
    }
}

/// One rollout step: sample `P × G` Challenger outputs, score them against
/// the Solver, and update `challenger` with GRPO.
pub fn challenger_step(
    config: &RunConfig,
    iteration: usize,
    step: usize,
    challenger: &mut Policy,
    trainer: &mut GrpoTrainer,
    reference: Option<&Qwen3>,
    samplers: ChallengerSamplers<'_>,
) -> Result<ChallengerStepOutput> {
    let c = &config.challenger;
    let prompt = challenger.chat_prompt(
        &config.prompts.challenger_system,
        &config.prompts.challenger_user,
    )?;
    let request = SampleRequest {
        prompts: vec![prompt.clone(); c.prompts_per_step],
        n: c.group_size,
        sampling: c.sampling,
        seed: seed(config, iteration, "challenger", step),
    };
    let started = Instant::now();
    let outputs = match samplers.rollouts {
        Some(remote) => remote.sample(&request)?,
        None => challenger.sample(&request)?,
    };
    let seconds_generate = started.elapsed().as_secs_f64();
    let mut samples: Vec<ChallengerSample> = outputs
        .iter()
        .map(|o| {
            let text = o.text.clone().unwrap_or_default();
            ChallengerSample::from_output(
                iteration as u32,
                step as u32,
                o.prompt_index as u32,
                o.sample_index as u32,
                text,
            )
        })
        .collect();

    // Solver uncertainty on every well-formed question.
    let valid: Vec<usize> = (0..samples.len())
        .filter(|&i| samples[i].format_ok)
        .collect();
    let questions: Vec<&str> = valid
        .iter()
        .map(|&i| samples[i].question.as_deref().unwrap_or(""))
        .collect();
    let prompts = solver_prompts(config, &challenger.tokenizer, &questions)?;
    let started = Instant::now();
    let votes = vote_on(
        samplers.solver,
        prompts,
        c.m_reward,
        c.reward_sampling,
        seed(config, iteration, "challenger_vote", step),
    )?;
    let seconds_solver_sampling = started.elapsed().as_secs_f64();
    let mut consistency = vec![0.0; samples.len()];
    for (k, &i) in valid.iter().enumerate() {
        consistency[i] = votes.consistency[k];
    }

    // Repetition over all B outputs; failed ones cluster as empty strings.
    let batch: Vec<rzero_reward::rewards::ChallengerSample<'_>> = samples
        .iter()
        .zip(&consistency)
        .map(|(s, &p)| rzero_reward::rewards::ChallengerSample {
            question: s.question.as_deref(),
            consistency: p,
        })
        .collect();
    let mut parts = challenger_rewards(form(config), c.cluster_threshold, &batch);
    if c.reward_form == ChallengerRewardForm::Official {
        // The official form has no λ (it is 1); scaling r_rep here too lets
        // `repetition_lambda = 0` switch the penalty off in either form.
        for part in &mut parts {
            part.total += (1.0 - c.repetition_lambda) * part.repetition;
        }
    }
    let r_rep: Vec<f64> = parts.iter().map(|p| p.repetition).collect();
    let mut rollouts = Rollouts::default();
    for ((s, o), (part, &p)) in samples
        .iter_mut()
        .zip(&outputs)
        .zip(parts.iter().zip(&consistency))
    {
        s.reward = Some(rzero_data::ChallengerReward {
            consistency: p,
            uncertainty: part.uncertainty,
            repetition: part.repetition,
            total: part.total,
        });
        rollouts.prompts.push(prompt.clone());
        rollouts.completions.push(o.token_ids.clone());
        rollouts.sampled_logprobs.push(o.logprobs.clone());
        rollouts.rewards.push(part.total as f32);
    }
    let outcome = grpo_update(challenger, trainer, reference, &rollouts, &config.memory)?;

    let mut m = MetricsRecord::new(iteration, "challenger", step);
    crate::phases::solver::trainer_metrics(&mut m, &outcome);
    m.set("seconds_generate", seconds_generate);
    m.set("seconds_solver_sampling", seconds_solver_sampling);
    let rewards: Vec<f64> = rollouts.rewards.iter().map(|&r| f64::from(r)).collect();
    let (mean, std) = mean_std(&rewards);
    m.set("reward_mean", mean).set("reward_std", std);
    m.set(
        "format_rate",
        valid.len() as f64 / samples.len().max(1) as f64,
    );
    m.set("repetition_mean", mean_std(&r_rep).0);
    m.set("consistency_mean", mean_std(&votes.consistency).0);
    for (b, count) in histogram01(&votes.consistency, 5).into_iter().enumerate() {
        m.set(&format!("consistency_hist_{b}"), count as f64);
    }
    oracle_metrics(&mut m, &samples, &votes.answers, &valid);
    Ok(ChallengerStepOutput {
        samples,
        metrics: m,
    })
}

/// What only synthetic tasks can tell: how many questions the oracle
/// understands, their true level, and how often the Solver is truly right.
fn oracle_metrics(
    m: &mut MetricsRecord,
    samples: &[ChallengerSample],
    answers: &[Vec<String>],
    valid: &[usize],
) {
    let known: Vec<(usize, &rzero_data::OracleLabel)> = valid
        .iter()
        .enumerate()
        .filter_map(|(k, &i)| samples[i].oracle.as_ref().map(|o| (k, o)))
        .collect();
    m.set(
        "oracle_known_rate",
        known.len() as f64 / valid.len().max(1) as f64,
    );
    if known.is_empty() {
        return;
    }
    let levels: Vec<f64> = known.iter().map(|(_, o)| f64::from(o.level)).collect();
    m.set("oracle_level_mean", mean_std(&levels).0);
    let (mut right, mut total) = (0usize, 0usize);
    for (k, o) in &known {
        for a in &answers[*k] {
            total += 1;
            right += usize::from(
                rzero_data::synthetic::oracle::parse_integer_answer(a).map(|v| v.to_string())
                    == Some(o.answer.clone()),
            );
        }
    }
    m.set("solver_true_accuracy", right as f64 / total.max(1) as f64);
}
