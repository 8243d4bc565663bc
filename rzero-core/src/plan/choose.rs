//! The chooser: for each phase, the largest micro-batch (or generation
//! batch) that fits the budget, with the log-prob chunk and recomputation
//! setting that allow it, and the estimate at that choice.

use serde::Serialize;

use super::estimate::Capabilities;
use super::moments::{Breakdown, Moment, UpdateChoice, sampling_estimate, update_estimate};
use super::size::format_size;
use super::{ModelShape, PhaseKind, PhaseSpec, PlanError};
use crate::config::RunConfig;
use crate::memory::{MemoryConfig, Recompute};

/// The chooser packs rows up to all but `1 / HEADROOM_DIVISOR` of the
/// budget: measured at Qwen3-0.6B shapes, estimates fall up to 5 % short of
/// the peak resident set on some phases (BENCHMARKS.md), so rows packed to
/// the last byte could overshoot.
pub const HEADROOM_DIVISOR: u64 = 25;

/// Budget and what may be changed to meet it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanOptions {
    /// Memory available, bytes.
    pub budget_bytes: u64,
    /// What the code can do.
    pub capabilities: Capabilities,
    /// The log-prob chunk the run uses (the largest the chooser may pick).
    pub logprob_chunk: u64,
    /// The run's recomputation setting: `Off` forbids it, `On` forces it,
    /// `Auto` lets the chooser use it when rows would otherwise be lost.
    pub recompute: Recompute,
}

impl PlanOptions {
    /// Today's capabilities on a CPU and `DEFAULT_LOGPROB_CHUNK`.
    pub fn new(budget_bytes: u64) -> Self {
        Self::for_device(budget_bytes, true)
    }

    /// Today's capabilities on a CPU (`cpu`) or another device.
    pub fn for_device(budget_bytes: u64, cpu: bool) -> Self {
        Self {
            budget_bytes,
            capabilities: Capabilities::current(cpu),
            logprob_chunk: rzero_model::DEFAULT_LOGPROB_CHUNK as u64,
            recompute: Recompute::Auto,
        }
    }

    /// The bytes the chooser packs rows up to: the budget less
    /// [`HEADROOM_DIVISOR`]'s share, kept for what the estimate does not
    /// model (allocator slack, thread stacks). A phase whose smallest
    /// setting lies between this and the budget still fits.
    pub fn packing_bytes(&self) -> u64 {
        self.budget_bytes - self.budget_bytes / HEADROOM_DIVISOR
    }

    /// These options with `config`'s `[memory]` log-prob chunk and
    /// recomputation setting.
    pub fn with_config(self, config: &RunConfig) -> Self {
        Self {
            logprob_chunk: config.memory.logprob_chunk.max(1) as u64,
            recompute: config.memory.recompute,
            ..self
        }
    }
}

/// The plan of one phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhasePlan {
    /// Phase name (contains `challenger`, `solver` or `eval`).
    pub name: String,
    /// Training or generation.
    pub kind: PhaseKind,
    /// Sampled on inference servers.
    pub remote: bool,
    /// Estimated peak bytes (the breakdown's total).
    pub estimate_bytes: u64,
    /// Peak measured by `rzero plan --measure` (process RSS on a CPU).
    pub measured_peak_bytes: Option<u64>,
    /// The process's RSS before the measured phase loaded anything.
    pub measured_baseline_bytes: Option<u64>,
    /// Rows chosen: an update's micro-batch, a sampler's rows per call.
    pub micro_batch_rows: u64,
    /// Rows the run's config would use.
    pub max_rows: u64,
    /// Longest sequence: prompt + `max_new_tokens`, capped at the model's context.
    pub sequence: u64,
    /// Longest prompt, tokens.
    pub prompt_tokens: u64,
    /// Completion budget.
    pub new_tokens: u64,
    /// Update: the LM-head log-prob chunk.
    pub logprob_chunk: Option<u64>,
    /// Update: rows per no-grad scoring pass (old and reference log-probs).
    pub score_rows: Option<u64>,
    /// Update: whether layer recomputation is used.
    pub recompute: Option<bool>,
    /// Which moment holds the peak.
    pub moment: Moment,
    /// The peak by kind of tensor.
    pub breakdown: Breakdown,
    /// Fits the budget.
    pub fits: bool,
    /// Bytes over the budget (0 when it fits).
    pub shortfall_bytes: u64,
    /// What was lowered, what is not implemented, what would help.
    pub notes: Vec<String>,
    /// What the phase runs (for `--measure`).
    #[serde(skip)]
    pub spec: PhaseSpec,
}

/// The plan of every phase of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The budget, bytes.
    pub budget_bytes: u64,
    /// Model parameters.
    pub params: u64,
    /// Model dimensions.
    pub shape: ModelShape,
    /// What the code could do.
    pub capabilities: Capabilities,
    /// Prompt lengths were counted with the model's tokenizer.
    pub exact_prompts: bool,
    /// Phases in run order.
    pub phases: Vec<PhasePlan>,
    /// Every phase fits.
    pub fits: bool,
}

impl Plan {
    /// The phase called `name`.
    pub fn phase(&self, name: &str) -> Result<&PhasePlan, PlanError> {
        self.phases
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| PlanError::UnknownPhase {
                name: name.to_string(),
                known: self
                    .phases
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The phase that misses the budget by the most, if any misses it.
    pub fn worst(&self) -> Option<&PhasePlan> {
        self.phases
            .iter()
            .filter(|p| !p.fits)
            .max_by_key(|p| p.shortfall_bytes)
    }

    /// Why the run cannot start, naming the phase and the shortfall in GiB;
    /// `None` when it fits.
    pub fn refusal(&self) -> Option<String> {
        let worst = self.worst()?;
        let others = self.phases.iter().filter(|p| !p.fits).count() - 1;
        let also = if others > 0 {
            format!(" ({others} other phase(s) do not fit either)")
        } else {
            String::new()
        };
        Some(format!(
            "does not fit in {}: phase `{}` needs {} at {} row(s) of {} tokens, {} more than available{also}",
            gib(self.budget_bytes),
            worst.name,
            gib(worst.estimate_bytes),
            worst.micro_batch_rows,
            worst.sequence,
            gib(worst.shortfall_bytes),
        ))
    }

    /// The micro-batch rows to train with when memory is what limits them:
    /// the smallest choice over the update phases whose choice is below
    /// what the config asks (the run config has one `micro_batch_rows`);
    /// `None` when no update phase is limited by memory.
    pub fn update_rows(&self) -> Option<u64> {
        self.phases
            .iter()
            .filter(|p| p.kind == PhaseKind::Update && p.micro_batch_rows < p.max_rows)
            .map(|p| p.micro_batch_rows)
            .min()
    }

    /// `current` lowered to what this plan chose: the fewest rows per
    /// generation call and per scoring pass over the local phases, the
    /// smallest log-prob chunk, and recomputation on when an update phase
    /// needs it (unless `current` turns it off).
    pub fn memory_settings(&self, current: &MemoryConfig) -> MemoryConfig {
        let local = || self.phases.iter().filter(|p| !p.remote);
        let lowest = |kind, pick: fn(&PhasePlan) -> Option<u64>, now: usize| {
            local()
                .filter(|p| p.kind == kind)
                .filter_map(pick)
                .map(|v| v as usize)
                .fold(now, usize::min)
                .max(1)
        };
        let rows = |p: &PhasePlan| Some(p.micro_batch_rows).filter(|&r| r < p.max_rows);
        let needs_recompute = local().any(|p| p.recompute == Some(true));
        MemoryConfig {
            sampling_rows: lowest(PhaseKind::Sampling, rows, current.sampling_rows),
            score_rows: lowest(PhaseKind::Update, |p| p.score_rows, current.score_rows),
            logprob_chunk: lowest(
                PhaseKind::Update,
                |p| p.logprob_chunk,
                current.logprob_chunk,
            ),
            recompute: match current.recompute {
                Recompute::Auto if needs_recompute => Recompute::On,
                other => other,
            },
            reference_dtype: current.reference_dtype,
            sampler_dtype: current.sampler_dtype,
        }
    }
}

/// `bytes` in GiB with two decimals, and in a smaller unit too when that
/// reads as 0.0x GiB.
fn gib(bytes: u64) -> String {
    let g = bytes as f64 / (1u64 << 30) as f64;
    if g < 0.1 {
        format!("{g:.2} GiB ({})", format_size(bytes))
    } else {
        format!("{g:.2} GiB")
    }
}

/// The largest rows up to `max` for which `fits` holds (estimates grow
/// with rows, so the first one found going down).
fn largest_fitting(max: u64, fits: impl Fn(u64) -> bool) -> Option<u64> {
    (1..=max).rev().find(|&r| fits(r))
}

/// Rows per generation call to try, most first: whole prompts' `n`
/// samples (multiples of `n` up to `max`), then fewer rows of one prompt.
fn sampling_rows(max: u64, n: u64) -> impl Iterator<Item = u64> {
    let n = n.max(1);
    let whole = (1..=max / n).rev().map(move |k| k * n);
    whole.chain((1..n.min(max + 1)).rev())
}

/// Log-prob chunks to try, largest first: the run's, then halvings down
/// to 64 when the chunk can be set.
fn chunks(options: &PlanOptions) -> Vec<u64> {
    let first = options.logprob_chunk.max(1);
    if !options.capabilities.logprob_chunk {
        return vec![first];
    }
    std::iter::successors(Some(first), |&c| (c > 64).then_some(c / 2)).collect()
}

/// Halvings of `first` down to 1, largest first.
fn halvings(first: u64) -> impl Iterator<Item = u64> {
    std::iter::successors(Some(first.max(1)), |&r| (r > 1).then_some(r / 2))
}

/// The best update setting under `caps` and the run's recomputation
/// setting: most rows, then no recomputation, then the larger chunk, then
/// the most rows per scoring pass. `None` when not even one row fits.
fn best_update(
    shape: &ModelShape,
    spec: &PhaseSpec,
    options: &PlanOptions,
    caps: Capabilities,
) -> Option<UpdateChoice> {
    let budget = options.packing_bytes();
    let recomputes: &[bool] = match (caps.recompute, options.recompute) {
        (false, _) | (true, Recompute::Off) => &[false],
        (true, Recompute::On) => &[true],
        (true, Recompute::Auto) => &[false, true],
    };
    let fits = |choice| update_estimate(shape, spec, choice, caps).1.total() <= budget;
    let mut best: Option<UpdateChoice> = None;
    for &recompute in recomputes {
        for chunk in chunks(&PlanOptions {
            capabilities: caps,
            ..*options
        }) {
            let at = |rows, score_rows| UpdateChoice {
                rows,
                chunk,
                recompute,
                score_rows,
            };
            // Score rows only move the scoring pass: the most that fit
            // beside one training row.
            let score_rows = if caps.sampling_rows {
                halvings(spec.score_rows).find(|&r| fits(at(1, r)))
            } else {
                Some(spec.score_rows).filter(|&r| fits(at(1, r)))
            };
            let Some(score_rows) = score_rows else {
                continue;
            };
            if let Some(rows) = largest_fitting(spec.max_rows, |rows| fits(at(rows, score_rows)))
                && best.is_none_or(|b| rows > b.rows)
            {
                best = Some(at(rows, score_rows));
            }
        }
    }
    best
}

/// What a feature that is not there yet would allow, for the notes.
fn would_allow(
    shape: &ModelShape,
    spec: &PhaseSpec,
    options: &PlanOptions,
    caps: Capabilities,
) -> String {
    match best_update(shape, spec, options, caps) {
        Some(c) => format!("would allow {} row(s)", c.rows),
        None => "would still not fit one row".to_string(),
    }
}

fn plan_update(shape: &ModelShape, spec: &PhaseSpec, options: &PlanOptions) -> PhasePlan {
    let caps = options.capabilities;
    let best = best_update(shape, spec, options, caps);
    let fallback = UpdateChoice {
        rows: 1,
        chunk: chunks(options).last().copied().unwrap_or(1),
        recompute: caps.recompute && options.recompute != Recompute::Off,
        score_rows: 1,
    };
    let choice = best.unwrap_or(fallback);
    let (moment, breakdown) = update_estimate(shape, spec, choice, caps);
    let mut plan = phase_plan(spec, options, shape, choice.rows, moment, breakdown);
    plan.logprob_chunk = Some(choice.chunk);
    plan.recompute = Some(choice.recompute);
    plan.score_rows = Some(choice.score_rows);
    if choice.rows < spec.max_rows && plan.fits {
        plan.notes.push(format!(
            "micro_batch_rows lowered from {} to {} to fit",
            spec.max_rows, choice.rows
        ));
    }
    if moment == Moment::Scoring {
        plan.notes.push(format!(
            "the peak is the no-grad pass over the old and reference log-probs, {} rows at a \
             time (memory.score_rows)",
            choice.score_rows
        ));
    }
    if choice.score_rows < spec.score_rows && plan.fits {
        plan.notes.push(format!(
            "memory.score_rows lowered from {} to {} to fit",
            spec.score_rows, choice.score_rows
        ));
    }
    if choice.chunk < options.logprob_chunk && plan.fits {
        plan.notes.push(format!(
            "memory.logprob_chunk lowered from {} to {} to fit",
            options.logprob_chunk, choice.chunk
        ));
    }
    let constrained = !plan.fits || choice.rows < spec.max_rows;
    if constrained && (!caps.recompute || options.recompute == Recompute::Off) {
        let with = would_allow(
            shape,
            spec,
            &PlanOptions {
                recompute: Recompute::Auto,
                ..*options
            },
            Capabilities {
                recompute: true,
                ..caps
            },
        );
        plan.notes.push(format!(
            "layer recomputation (memory.recompute is off) {with}"
        ));
    }
    if constrained && !caps.memory_efficient_attention {
        let with = would_allow(
            shape,
            spec,
            options,
            Capabilities {
                memory_efficient_attention: true,
                ..caps
            },
        );
        plan.notes
            .push(format!("memory-efficient attention (off here) {with}"));
    }
    plan
}

fn plan_sampling(shape: &ModelShape, spec: &PhaseSpec, options: &PlanOptions) -> PhasePlan {
    let budget = options.packing_bytes();
    let caps = options.capabilities;
    let fits = |rows| sampling_estimate(shape, spec, rows, caps).1.total() <= budget;
    let fitting = sampling_rows(spec.max_rows, spec.granularity).find(|&r| fits(r));
    let rows = if options.capabilities.sampling_rows {
        fitting.unwrap_or(1)
    } else {
        spec.max_rows
    };
    let (moment, breakdown) = sampling_estimate(shape, spec, rows, caps);
    let mut plan = phase_plan(spec, options, shape, rows, moment, breakdown);
    if spec.remote {
        plan.micro_batch_rows = 0;
        plan.notes
            .push("sampled on inference servers: only the resident models count here".into());
    } else if !plan.fits && !options.capabilities.sampling_rows {
        plan.notes.push(match fitting {
            Some(r) => format!(
                "would fit with {r} rows per generation call, but this device's rows per \
                 call cannot be lowered (up to {})",
                spec.max_rows
            ),
            None => "does not fit even one row per generation call".into(),
        });
    }
    plan
}

fn phase_plan(
    spec: &PhaseSpec,
    options: &PlanOptions,
    shape: &ModelShape,
    rows: u64,
    moment: Moment,
    breakdown: Breakdown,
) -> PhasePlan {
    let total = breakdown.total();
    let mut notes = Vec::new();
    if spec.prompt_tokens + spec.new_tokens > shape.max_positions {
        notes.push(format!(
            "sequence capped at the model's context of {} positions",
            shape.max_positions
        ));
    }
    PhasePlan {
        name: spec.name.to_string(),
        kind: spec.kind,
        remote: spec.remote,
        estimate_bytes: total,
        measured_peak_bytes: None,
        measured_baseline_bytes: None,
        micro_batch_rows: rows,
        max_rows: spec.max_rows,
        sequence: spec.sequence(shape.max_positions),
        prompt_tokens: spec.prompt_tokens,
        new_tokens: spec.new_tokens,
        logprob_chunk: None,
        score_rows: None,
        recompute: None,
        moment,
        breakdown,
        fits: total <= options.budget_bytes,
        shortfall_bytes: total.saturating_sub(options.budget_bytes),
        notes,
        spec: spec.clone(),
    }
}

/// Plans every phase of `specs` for a model of `shape` within `options`.
pub fn choose(
    shape: &ModelShape,
    specs: &[PhaseSpec],
    options: &PlanOptions,
    exact_prompts: bool,
) -> Plan {
    let phases: Vec<PhasePlan> = specs
        .iter()
        .map(|spec| match spec.kind {
            PhaseKind::Update => plan_update(shape, spec, options),
            PhaseKind::Sampling => plan_sampling(shape, spec, options),
        })
        .collect();
    Plan {
        budget_bytes: options.budget_bytes,
        params: shape.params(),
        shape: *shape,
        capabilities: options.capabilities,
        exact_prompts,
        fits: phases.iter().all(|p| p.fits),
        phases,
    }
}
