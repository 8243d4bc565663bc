//! What each phase of an iteration runs, and which model copies are
//! resident meanwhile (read off `run.rs` and `phases/`).

use serde::Serialize;

use super::PlanError;
use crate::config::{RunConfig, SamplingConfig};
use crate::inference::InferenceRole;
use crate::policy::chat_prompt;
use rzero_grpo::LoraSettings;
use rzero_model::tokenizer::Tokenizer;

/// Training or generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    /// A GRPO update: scoring passes, micro-steps with backward, AdamW steps.
    Update,
    /// KV-cache generation (prefill, then one token per step).
    Sampling,
}

/// Model copies resident while a phase runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Resident {
    /// The policy being trained in this phase's GRPO phase is loaded: one
    /// copy while it samples or scores, two during its update (the `Policy`
    /// keeps the pre-update weights until `grpo_update` returns, beside the
    /// updated ones).
    pub policy: bool,
    /// The policy's AdamW moments are resident (from its first step on).
    pub optimizer: bool,
    /// The frozen GRPO reference (loaded when β > 0).
    pub reference: bool,
    /// The reference stores its matrices in BF16 (`reference_dtype`).
    pub reference_bf16: bool,
    /// The other frozen models store theirs in BF16 (`sampler_dtype`).
    pub sampler_bf16: bool,
    /// Other frozen models loaded locally: the Solver that rewards the
    /// Challenger, the question set's Challenger and Solver, the evaluated Solver.
    pub frozen: u64,
}

impl Resident {
    /// Frozen copies, the reference included.
    pub fn frozen_copies(&self) -> u64 {
        self.frozen + u64::from(self.reference)
    }
}

/// One phase of an iteration as the planner sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseSpec {
    /// `challenger_update`, `solver_rollouts`, `eval`, …
    pub name: &'static str,
    /// Training or generation.
    pub kind: PhaseKind,
    /// Longest prompt, tokens.
    pub prompt_tokens: u64,
    /// Completion budget (`max_new_tokens`).
    pub new_tokens: u64,
    /// Most rows the run would use: an update's `micro_batch_rows` (capped
    /// by the rollouts of one optimizer step), a sampler's rows per call.
    pub max_rows: u64,
    /// The samples per prompt of a sampler (a call holds whole prompts' samples,
    /// or fewer rows of one prompt), 1 for an update.
    pub granularity: u64,
    /// Update: rollouts per optimizer step (`global_batch × G`).
    pub rows_per_step: u64,
    /// Update: rows per no-grad scoring pass.
    pub score_rows: u64,
    /// Who else is in memory.
    pub resident: Resident,
    /// Sampled on inference servers: nothing is generated locally.
    pub remote: bool,
    /// The trained policy is the sampler (its LoRA adapters, if any, are
    /// merged into a copy to sample).
    pub policy_samples: bool,
    /// `[grpo.lora]`: the policy trains adapters only.
    pub lora: Option<LoraSettings>,
}

impl PhaseSpec {
    /// `prompt + new_tokens`, capped at the model's context.
    pub fn sequence(&self, max_positions: u64) -> u64 {
        (self.prompt_tokens + self.new_tokens).min(max_positions)
    }

    /// Completion tokens that fit after the prompt in [`Self::sequence`].
    pub fn completion(&self, max_positions: u64) -> u64 {
        self.sequence(max_positions)
            .saturating_sub(self.prompt_tokens)
            .min(self.new_tokens)
    }
}

/// Prompt lengths in tokens: the Challenger prompt, and the Solver prompt
/// without its question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PromptLengths {
    /// The rendered Challenger prompt.
    pub challenger: u64,
    /// The rendered Solver prompt with an empty question.
    pub solver_overhead: u64,
    /// Counted with the model's tokenizer (else approximated from the text).
    pub exact: bool,
}

impl PromptLengths {
    /// Counts with `tokenizer` and its chat template.
    pub fn from_tokenizer(config: &RunConfig, tokenizer: &Tokenizer) -> Result<Self, PlanError> {
        let p = &config.prompts;
        let count = |system: &str, user: &str| -> Result<u64, PlanError> {
            Ok(chat_prompt(tokenizer, system, user)?.len() as u64)
        };
        Ok(Self {
            challenger: count(&p.challenger_system, &p.challenger_user)?,
            solver_overhead: count(&p.solver_system, "")?,
            exact: true,
        })
    }

    /// Without a tokenizer: one token per 3 bytes of prompt text, plus 16
    /// for the chat template's markers (an over-estimate for English BPE).
    pub fn approximate(config: &RunConfig) -> Self {
        let p = &config.prompts;
        let tokens = |text: usize| (text as u64).div_ceil(3) + 16;
        Self {
            challenger: tokens(p.challenger_system.len() + p.challenger_user.len()),
            solver_overhead: tokens(p.solver_system.len()),
            exact: false,
        }
    }

    /// The Solver prompt of a question of `question_tokens` tokens.
    pub fn solver(&self, question_tokens: usize) -> u64 {
        self.solver_overhead + question_tokens as u64
    }
}

/// A sampling phase of `prompts` prompts × `n` samples at `sampling`, at
/// most `rows_per_call` rows per generation call (`memory.sampling_rows`).
fn sampling(
    rows_per_call: usize,
    name: &'static str,
    prompt_tokens: u64,
    (prompts, n): (usize, usize),
    sampling: &SamplingConfig,
    resident: Resident,
    remote: bool,
) -> PhaseSpec {
    let n = n.max(1) as u64;
    let rows_per_call = (rows_per_call as u64).max(1);
    // Whole prompts with their `n` samples per call, or one prompt's
    // samples over several calls (`Policy::sample`).
    let max_rows = if rows_per_call >= n {
        (rows_per_call / n).min(prompts.max(1) as u64) * n
    } else {
        rows_per_call
    };
    PhaseSpec {
        name,
        kind: PhaseKind::Sampling,
        prompt_tokens,
        new_tokens: sampling.max_new_tokens as u64,
        max_rows,
        granularity: n,
        rows_per_step: 0,
        score_rows: 0,
        resident,
        remote,
        policy_samples: false,
        lora: None,
    }
}

/// A GRPO update phase.
fn update(
    name: &'static str,
    config: &RunConfig,
    prompt_tokens: u64,
    new_tokens: usize,
    (prompts_per_step, group_size, global_batch): (usize, usize, usize),
    resident: Resident,
) -> PhaseSpec {
    let rows_per_step = (global_batch * group_size).max(1) as u64;
    let rollouts = (prompts_per_step * group_size).max(1) as u64;
    PhaseSpec {
        name,
        kind: PhaseKind::Update,
        prompt_tokens,
        new_tokens: new_tokens as u64,
        max_rows: (config.grpo.micro_batch_rows.max(1) as u64)
            .min(rows_per_step)
            .min(rollouts),
        granularity: 1,
        rows_per_step: rows_per_step.min(rollouts),
        score_rows: (config.memory.score_rows.max(1) as u64).min(rollouts),
        resident,
        remote: false,
        policy_samples: false,
        lora: config.grpo.lora,
    }
}

/// The phases of one iteration of `config`, in run order.
///
/// Phase names: `challenger_rollouts`, `challenger_solver_votes`,
/// `challenger_update` (absent when the Challenger is not trained),
/// `question_set_challenger`, `question_set_solver_labels`,
/// `solver_rollouts`, `solver_update`, `eval` and `eval_majority` (when
/// maj@m is on). Solver prompts are counted with the longest question the
/// Challenger can write (its `max_new_tokens`); evaluation prompts are
/// assumed no longer than the question set's.
pub fn phase_specs(config: &RunConfig, prompts: &PromptLengths) -> Vec<PhaseSpec> {
    let local = |role| !config.inference.backend(role).is_remote();
    let lora = config.grpo.lora;
    // A sampling phase while a policy trains: its adapters are resident,
    // and merged into a copy when it is the sampler.
    let training = |spec: PhaseSpec, samples: bool| PhaseSpec {
        policy_samples: samples,
        lora,
        ..spec
    };
    let reference = config.grpo.loss.kl.beta != 0.0;
    let bf16 = |d| d == crate::memory::FrozenDtype::Bf16;
    let reference_bf16 = bf16(config.memory.reference_dtype);
    let sampler_bf16 = bf16(config.memory.sampler_dtype);
    let c = &config.challenger;
    let q = &config.question_set;
    let s = &config.solver;
    let e = &config.eval;
    let sampling = |name, prompt_tokens, prompts, n, s: &SamplingConfig, resident, remote| {
        let rows = config.memory.sampling_rows;
        sampling(rows, name, prompt_tokens, (prompts, n), s, resident, remote)
    };
    let mut out = Vec::new();
    if c.train {
        let resident = Resident {
            policy: true,
            optimizer: true,
            reference,
            reference_bf16,
            sampler_bf16,
            frozen: u64::from(local(InferenceRole::SolverReward)),
        };
        out.push(training(
            sampling(
                "challenger_rollouts",
                prompts.challenger,
                c.prompts_per_step,
                c.group_size,
                &c.sampling,
                resident,
                !local(InferenceRole::ChallengerRollouts),
            ),
            true,
        ));
        out.push(training(
            sampling(
                "challenger_solver_votes",
                prompts.solver(c.sampling.max_new_tokens),
                c.prompts_per_step * c.group_size,
                c.m_reward,
                &c.reward_sampling,
                resident,
                !local(InferenceRole::SolverReward),
            ),
            false,
        ));
        out.push(update(
            "challenger_update",
            config,
            prompts.challenger,
            c.sampling.max_new_tokens,
            (c.prompts_per_step, c.group_size, c.global_batch),
            resident,
        ));
    }
    let question_set = Resident {
        policy: false,
        optimizer: false,
        reference: false,
        reference_bf16,
        sampler_bf16,
        frozen: u64::from(local(InferenceRole::ChallengerRollouts))
            + u64::from(local(InferenceRole::Labelling)),
    };
    out.push(sampling(
        "question_set_challenger",
        prompts.challenger,
        q.n,
        1,
        &q.sampling,
        question_set,
        !local(InferenceRole::ChallengerRollouts),
    ));
    out.push(sampling(
        "question_set_solver_labels",
        prompts.solver(q.sampling.max_new_tokens),
        q.n,
        q.m_label,
        &q.label_sampling,
        question_set,
        !local(InferenceRole::Labelling),
    ));
    let solver = Resident {
        policy: true,
        optimizer: true,
        reference,
        reference_bf16,
        sampler_bf16,
        frozen: 0,
    };
    let solver_prompt = prompts.solver(q.sampling.max_new_tokens);
    out.push(training(
        sampling(
            "solver_rollouts",
            solver_prompt,
            s.prompts_per_step,
            s.group_size,
            &s.sampling,
            solver,
            false,
        ),
        true,
    ));
    out.push(update(
        "solver_update",
        config,
        solver_prompt,
        s.sampling.max_new_tokens,
        (s.prompts_per_step, s.group_size, s.global_batch),
        solver,
    ));
    let eval = Resident {
        policy: false,
        optimizer: false,
        reference: false,
        reference_bf16,
        sampler_bf16,
        frozen: u64::from(local(InferenceRole::Eval)),
    };
    let items = if e.limit > 0 { e.limit } else { usize::MAX };
    let greedy = SamplingConfig {
        temperature: 0.0,
        top_p: 1.0,
        top_k: -1,
        max_new_tokens: e.max_new_tokens,
    };
    out.push(sampling(
        "eval",
        solver_prompt,
        items,
        1,
        &greedy,
        eval,
        !local(InferenceRole::Eval),
    ));
    if e.maj_m > 0 {
        out.push(sampling(
            "eval_majority",
            solver_prompt,
            items,
            e.maj_m,
            &q.label_sampling,
            eval,
            !local(InferenceRole::Eval),
        ));
    }
    out
}
