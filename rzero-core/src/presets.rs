//! Named presets: `paper` (docs/DESIGN.md values), `tiny` (the built-in model on
//! 2 CPU cores) and `smoke` (CI, a minute or two).

use crate::config::{
    ChallengerConfig, ChallengerRewardForm, EvalConfig, FrozenDtype, GrpoSettings, InferenceConfig,
    LabelSource, MemoryConfig, Prompts, QuestionSetConfig, RunConfig, SamplingConfig, SolverConfig,
    SolverRewardForm,
};
use crate::error::{CoreError, Result};
use rzero_data::{Band, FilterConfig};

/// Preset names accepted by [`preset`].
pub const PRESETS: [&str; 3] = ["tiny", "smoke", "paper"];

/// The config of a named preset.
pub fn preset(name: &str) -> Result<RunConfig> {
    match name {
        "paper" => Ok(paper()),
        "tiny" => Ok(tiny()),
        "smoke" => Ok(smoke()),
        other => Err(CoreError::UnknownPreset {
            name: other.to_string(),
        }),
    }
}

fn sampling(temperature: f32, top_p: f32, top_k: i32, max_new_tokens: usize) -> SamplingConfig {
    SamplingConfig {
        temperature,
        top_p,
        top_k,
        max_new_tokens,
    }
}

/// docs/DESIGN.md §2–§7 for Qwen3-4B-class models on GPUs (official code's values).
pub fn paper() -> RunConfig {
    RunConfig {
        preset: "paper".into(),
        model: None,
        seed: 42,
        iterations: 3,
        prompts: Prompts::default(),
        grpo: GrpoSettings::r_zero(),
        challenger: ChallengerConfig {
            rollout_steps: 5,
            prompts_per_step: 512,
            group_size: 4,
            global_batch: 16,
            sampling: sampling(1.0, 0.99, -1, 4096),
            m_reward: 10,
            reward_sampling: sampling(1.0, 1.0, 40, 4096),
            reward_form: ChallengerRewardForm::Official,
            repetition_lambda: 1.0,
            cluster_threshold: 0.5,
            train: true,
        },
        question_set: QuestionSetConfig {
            n: 8000,
            sampling: sampling(1.0, 0.95, -1, 4096),
            m_label: 9,
            label_sampling: sampling(1.0, 1.0, 40, 4096),
            filter: FilterConfig::default(),
            labels: LabelSource::Majority,
        },
        solver: SolverConfig {
            rollout_steps: 15,
            prompts_per_step: 512,
            group_size: 5,
            global_batch: 128,
            sampling: sampling(1.0, 0.99, -1, 4096),
            reward_form: SolverRewardForm::Official,
        },
        eval: EvalConfig {
            benches: [
                "math500",
                "gsm8k",
                "amc23",
                "minerva_math",
                "olympiadbench",
                "aime24",
                "aime25",
                "mmlu_pro",
                "supergpqa",
                "bbeh",
            ]
            .map(String::from)
            .to_vec(),
            limit: 0,
            max_new_tokens: 4096,
            maj_m: 0,
        },
        inference: InferenceConfig::default(),
        // A BF16 base model loses nothing in BF16; vLLM samples in BF16 too.
        memory: MemoryConfig {
            reference_dtype: FrozenDtype::Bf16,
            sampler_dtype: FrozenDtype::Bf16,
            ..MemoryConfig::default()
        },
    }
}

/// The built-in tiny model on 2 CPU cores: every mechanism, scaled down so
/// three iterations take minutes. Departures from the paper's values beyond
/// the sizes, each measured on the built-in model (docs/RESULTS.md, seed 1):
/// - GRPO lr 1e-4 (paper 1e-6): at 2e-5 the KL to the reference stays below
///   0.002 and oracle-labelled training moves the held-out mean by 1 point
///   in an iteration; 1e-4 moves it by 39 (KL ≤ 0.02); 5e-4 by 31 (KL 0.05–0.08).
/// - Band 0.6 ≤ p̂ ≤ 0.9 (paper 0.3–0.8): on the paper's band the tiny
///   Solver's majority vote is right on 51 % of the kept questions in
///   iteration 1; on this one 78 % (over 3 seeds 68 ± 6 %, and the paper's
///   band gains more on this testbed: docs/RESULTS.md).
pub fn tiny() -> RunConfig {
    let mut c = paper();
    c.preset = "tiny".into();
    // f32 frozen copies: memory is plentiful, and every copy is exact.
    c.memory = MemoryConfig::default();
    c.grpo.optimizer.lr = 1e-4;
    c.question_set.filter.band = Band::Range { lo: 0.6, hi: 0.9 };
    c.grpo.micro_batch_rows = 32;
    c.challenger.rollout_steps = 4;
    c.challenger.prompts_per_step = 16;
    c.challenger.group_size = 4;
    c.challenger.global_batch = 8;
    c.challenger.sampling.max_new_tokens = 96;
    c.challenger.m_reward = 8;
    c.challenger.reward_sampling.max_new_tokens = 96;
    c.question_set.n = 256;
    c.question_set.sampling.max_new_tokens = 96;
    c.question_set.m_label = 8;
    c.question_set.label_sampling.max_new_tokens = 96;
    c.solver.rollout_steps = 6;
    c.solver.prompts_per_step = 32;
    c.solver.group_size = 5;
    c.solver.global_batch = 16;
    c.solver.sampling.max_new_tokens = 96;
    c.eval.benches = vec!["synthetic".into()];
    c.eval.limit = 0;
    c.eval.max_new_tokens = 96;
    c
}

/// CI smoke run: one or two minutes, same code path as `tiny`.
pub fn smoke() -> RunConfig {
    let mut c = tiny();
    c.preset = "smoke".into();
    c.iterations = 2;
    c.challenger.rollout_steps = 1;
    c.challenger.prompts_per_step = 4;
    c.challenger.global_batch = 2;
    c.challenger.m_reward = 4;
    c.challenger.sampling.max_new_tokens = 64;
    c.challenger.reward_sampling.max_new_tokens = 32;
    c.question_set.n = 16;
    c.question_set.m_label = 4;
    c.question_set.sampling.max_new_tokens = 64;
    c.question_set.label_sampling.max_new_tokens = 32;
    c.question_set.filter.band = Band::Range { lo: 0.0, hi: 1.0 };
    c.solver.rollout_steps = 1;
    c.solver.prompts_per_step = 4;
    c.solver.group_size = 2;
    c.solver.global_batch = 2;
    c.solver.sampling.max_new_tokens = 32;
    c.eval.limit = 6;
    c.eval.max_new_tokens = 32;
    c
}
