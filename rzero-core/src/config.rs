//! `RunConfig`: every value of docs/DESIGN.md §2–§7 as a TOML field.
//!
//! Unknown keys are errors (a typo must not silently fall back to a default),
//! and [`RunConfig::validate`] names the offending key. [`RunConfig::layered`]
//! merges a partial file and `--set` overrides onto a preset.

use std::path::{Path, PathBuf};

use rzero_data::FilterConfig;
pub use rzero_grpo::GrpoSettings;
use serde::{Deserialize, Serialize};

pub use crate::config_merge::Override;
use crate::error::{CoreError, Result};
pub use crate::inference::InferenceConfig;
pub use crate::memory::{FrozenDtype, MemoryConfig, Recompute};

/// Which form of the Challenger reward to use (docs/DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengerRewardForm {
    /// Official code: `min(p̂, 1−p̂) − r_rep`, `−1 − r_rep` on format failure.
    Official,
    /// Paper: `max(0, (1 − 2|p̂ − ½|) − λ·r_rep)`, 0 on format failure.
    Paper,
}

/// Which form of the Solver reward to use (docs/DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolverRewardForm {
    /// `0.9·match + 0.1·format`.
    Official,
    /// `1` on a match, else `0`.
    Binary,
}

/// The three prompts of docs/DESIGN.md §2. Users change them, so they are config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Prompts {
    /// Challenger system message.
    pub challenger_system: String,
    /// Challenger user message.
    pub challenger_user: String,
    /// Solver system message (the user message is the question).
    pub solver_system: String,
}

/// Sampling settings of one phase (vLLM semantics: `top_k = -1` is off).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplingConfig {
    /// Softmax temperature; 0 means greedy.
    pub temperature: f32,
    /// Nucleus mass; 1.0 is off.
    pub top_p: f32,
    /// Top-k; -1 is off.
    pub top_k: i32,
    /// Completion budget in tokens.
    pub max_new_tokens: usize,
}

/// Challenger phase (docs/DESIGN.md §4, §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengerConfig {
    /// Rollout steps per iteration.
    pub rollout_steps: usize,
    /// Prompts per rollout step (copies of the fixed Challenger prompt).
    pub prompts_per_step: usize,
    /// Rollouts per prompt G.
    pub group_size: usize,
    /// Prompts per optimizer step.
    pub global_batch: usize,
    /// Challenger sampling.
    pub sampling: SamplingConfig,
    /// Solver samples per question for the uncertainty reward.
    pub m_reward: usize,
    /// Solver sampling for the uncertainty reward.
    pub reward_sampling: SamplingConfig,
    /// Reward form.
    pub reward_form: ChallengerRewardForm,
    /// λ on the repetition penalty r_rep in either reward form (the
    /// official code's and the paper's value is 1; 0 turns the penalty off,
    /// the paper's "w/o repetition penalty" ablation).
    pub repetition_lambda: f64,
    /// BLEU-distance threshold of the repetition clustering.
    pub cluster_threshold: f64,
    /// Train the Challenger (R-Zero). `false` keeps the base model as the
    /// Challenger of every iteration: the paper's "Base Challenger" ablation.
    #[serde(default = "yes")]
    pub train: bool,
}

fn yes() -> bool {
    true
}

/// Where the Solver's training labels come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelSource {
    /// The majority vote of the Solver's samples (R-Zero).
    #[default]
    Majority,
    /// The synthetic oracle's true answer: the ceiling of what Solver
    /// training can do with the run's budget. Questions the oracle cannot
    /// answer are dropped; the band still filters on the vote's p̂.
    Oracle,
}

/// Question-set construction (docs/DESIGN.md §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionSetConfig {
    /// Challenger samples N.
    pub n: usize,
    /// Challenger sampling.
    pub sampling: SamplingConfig,
    /// Solver samples per question m.
    pub m_label: usize,
    /// Solver sampling for labels.
    pub label_sampling: SamplingConfig,
    /// Consistency band and optional dedup (docs/DESIGN.md §5).
    pub filter: FilterConfig,
    /// Training labels: `majority` (R-Zero) or `oracle` (ceiling).
    #[serde(default)]
    pub labels: LabelSource,
}

/// Solver phase (docs/DESIGN.md §4, §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolverConfig {
    /// Rollout steps per iteration.
    pub rollout_steps: usize,
    /// Prompts per rollout step, drawn from the question set.
    pub prompts_per_step: usize,
    /// Rollouts per prompt G.
    pub group_size: usize,
    /// Prompts per optimizer step.
    pub global_batch: usize,
    /// Solver sampling.
    pub sampling: SamplingConfig,
    /// Reward form.
    pub reward_form: SolverRewardForm,
}

/// Evaluation after each Solver phase (docs/DESIGN.md §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalConfig {
    /// Benchmark names (`math500`, …, `synthetic` for the six synthetic
    /// levels, `math`, `general`, `all`).
    pub benches: Vec<String>,
    /// Items per benchmark (0 = all).
    pub limit: usize,
    /// Greedy completion budget.
    pub max_new_tokens: usize,
    /// Also score maj@m: this many answers sampled per item with
    /// `question_set.label_sampling`, majority vote (0 = greedy only).
    #[serde(default)]
    pub maj_m: usize,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Preset this config started from.
    pub preset: String,
    /// Base model directory; `None` is the built-in tiny model.
    pub model: Option<PathBuf>,
    /// Master seed.
    pub seed: u64,
    /// Iterations T.
    pub iterations: usize,
    /// Prompts.
    #[serde(default)]
    pub prompts: Prompts,
    /// GRPO settings.
    pub grpo: GrpoSettings,
    /// Challenger phase.
    pub challenger: ChallengerConfig,
    /// Question set.
    pub question_set: QuestionSetConfig,
    /// Solver phase.
    pub solver: SolverConfig,
    /// Evaluation.
    pub eval: EvalConfig,
    /// Which roles sample on inference servers (default: all local).
    #[serde(default)]
    pub inference: InferenceConfig,
    /// Memory knobs (rows per call, log-prob chunk, layer recomputation).
    #[serde(default)]
    pub memory: MemoryConfig,
}

impl RunConfig {
    /// Reads a TOML file; unknown keys and bad values name the key.
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| CoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Parses TOML text; `path` only labels errors.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Self> {
        let config: RunConfig = toml::from_str(text).map_err(|e| CoreError::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.validate().map_err(|message| CoreError::Config {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(config)
    }

    /// A preset with a partial config file and `--set` overrides merged onto
    /// it key by key (see [`crate::config_merge`]).
    ///
    /// The preset is `preset`, else the file's own `preset` key, else `tiny`;
    /// a file naming another preset than `preset` is an error.
    pub fn layered(preset: Option<&str>, file: Option<&Path>, sets: &[Override]) -> Result<Self> {
        let label = file.map_or_else(|| PathBuf::from("<command line>"), Path::to_path_buf);
        let config_error = |message: String| CoreError::Config {
            path: label.clone(),
            message,
        };
        let table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| CoreError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
                Some(
                    toml::from_str::<toml::Table>(&text)
                        .map_err(|e| config_error(e.to_string()))?,
                )
            }
            None => None,
        };
        let named = table
            .as_ref()
            .and_then(|t| t.get("preset"))
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or("`preset` must be a string")
            })
            .transpose()
            .map_err(|e| config_error(e.to_string()))?;
        let name = match (preset, named.as_deref()) {
            (Some(a), Some(b)) if a != b => {
                return Err(config_error(format!(
                    "`preset` is {b:?} here but {a:?} was asked for"
                )));
            }
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => "tiny",
        };
        let base = crate::presets::preset(name)?;
        crate::config_merge::layered(&base, table, sets).map_err(config_error)
    }

    /// Serializes to TOML (written into each run directory).
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|e| CoreError::Config {
            path: PathBuf::from("<run config>"),
            message: e.to_string(),
        })
    }

    /// Checks ranges; the error names the key.
    pub fn validate(&self) -> std::result::Result<(), String> {
        crate::config_check::validate(self)
    }
}

impl Default for Prompts {
    fn default() -> Self {
        use rzero_data::synthetic::render::{CHALLENGER_SYSTEM, CHALLENGER_USER, SOLVER_SYSTEM};
        Self {
            challenger_system: CHALLENGER_SYSTEM.to_string(),
            challenger_user: CHALLENGER_USER.to_string(),
            solver_system: SOLVER_SYSTEM.to_string(),
        }
    }
}
