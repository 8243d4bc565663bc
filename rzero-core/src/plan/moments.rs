//! The estimate of a phase at one setting: the peak bytes of each of its
//! moments (scoring pass, forward and backward, optimizer step; prefill,
//! decode step), by kind of tensor, from the formulae of [`estimate`].

use serde::Serialize;

use super::estimate::{self, Capabilities, TrainStep};
use super::{ModelShape, PhaseSpec, Trainable};

/// Peak bytes of one moment of a phase, by kind of tensor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Breakdown {
    /// Resident model weights.
    pub weights: u64,
    /// AdamW moments (and, at the optimizer step, its temporaries).
    pub optimizer: u64,
    /// Parameter gradients.
    pub gradients: u64,
    /// Activations (kept for the backward, or a forward's temporaries).
    pub activations: u64,
    /// LM-head logits.
    pub logits: u64,
    /// KV cache.
    pub kv_cache: u64,
}

impl Breakdown {
    /// Both breakdowns' parts added.
    pub fn plus(&self, other: &Breakdown) -> Breakdown {
        Breakdown {
            weights: self.weights + other.weights,
            optimizer: self.optimizer + other.optimizer,
            gradients: self.gradients + other.gradients,
            activations: self.activations + other.activations,
            logits: self.logits + other.logits,
            kv_cache: self.kv_cache + other.kv_cache,
        }
    }

    /// The sum of the parts.
    pub fn total(&self) -> u64 {
        [
            self.weights,
            self.optimizer,
            self.gradients,
            self.activations,
            self.logits,
            self.kv_cache,
        ]
        .iter()
        .fold(0u64, |a, &b| a.saturating_add(b))
    }
}

/// Which moment of a phase holds its peak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Moment {
    /// An update's no-grad pass over the old and reference log-probs.
    Scoring,
    /// An update's micro-step, during the backward.
    Backward,
    /// An update's AdamW step.
    OptimizerStep,
    /// A sampler's prompt pass.
    Prefill,
    /// A sampler's decode step with a full cache.
    Decode,
    /// Nothing runs locally (remote sampling): the resident models only.
    Resident,
}

/// One candidate setting of an update phase.
#[derive(Debug, Clone, Copy)]
pub(super) struct UpdateChoice {
    /// Micro-batch rows.
    pub rows: u64,
    /// LM-head log-prob chunk.
    pub chunk: u64,
    /// Layer recomputation.
    pub recompute: bool,
    /// Rows per no-grad scoring pass.
    pub score_rows: u64,
}

/// The estimate of an update phase at `choice`: the largest of its
/// scoring pass, backward and optimizer step. `T` is what is trained
/// ([`ModelShape::trainable`]: every weight, or LoRA adapters).
///
/// - scoring: the policy and the frozen copies, AdamW moments, one no-grad
///   pass over the choice's score rows ([`estimate::score_pass`]);
/// - backward: the policy (moved into the trainer, so one copy) and the
///   frozen copies; moments; the running gradient sum while micro-batches
///   accumulate; with LoRA the adapted weights `W + s·A·B` recomposed by
///   the forward; then the largest of its forward and backward moments
///   ([`backward_moments`]);
/// - optimizer step: the same weights, moments and their update
///   temporaries, 1 gradient set.
pub(super) fn update_estimate(
    shape: &ModelShape,
    spec: &PhaseSpec,
    choice: UpdateChoice,
    caps: Capabilities,
) -> (Moment, Breakdown) {
    let (seq, completion) = (
        spec.sequence(shape.max_positions),
        spec.completion(shape.max_positions),
    );
    let t = shape.trainable(spec.lora.as_ref());
    let weights = t.model * estimate::F32 + estimate::frozen(shape, &spec.resident);
    let moments = estimate::optimizer_moments(&t);
    let (score_acts, score_logits) = estimate::score_pass(
        shape,
        caps.fused_inference_attention,
        choice.score_rows,
        (seq, completion),
        choice.chunk,
    );
    let scoring = Breakdown {
        weights,
        optimizer: moments,
        activations: score_acts,
        logits: score_logits,
        ..Breakdown::default()
    };
    let step = TrainStep {
        rows: choice.rows,
        sequence: seq,
        completion,
        chunk: choice.chunk,
        recompute: choice.recompute,
        memory_efficient_attention: caps.memory_efficient_attention,
    };
    let accumulating = spec.rows_per_step.div_ceil(choice.rows.max(1)) > 1;
    let base = Breakdown {
        weights,
        optimizer: moments,
        gradients: if accumulating {
            estimate::gradients(&t, 1)
        } else {
            0
        },
        activations: t.adapted * estimate::F32,
        ..Breakdown::default()
    };
    let backward = backward_moments(shape, &t, spec.lora.is_none(), &step)
        .into_iter()
        .map(|m| base.plus(&m))
        .max_by_key(Breakdown::total)
        .unwrap_or(base);
    let optimizer_step = Breakdown {
        weights,
        optimizer: moments + estimate::optimizer_step_transient(&t),
        gradients: estimate::gradients(&t, 1),
        ..Breakdown::default()
    };
    [
        (Moment::Backward, backward),
        (Moment::Scoring, scoring),
        (Moment::OptimizerStep, optimizer_step),
    ]
    .into_iter()
    .max_by_key(|(_, b)| b.total())
    .unwrap_or((Moment::Backward, backward))
}

/// What one micro-step adds to the resident state at the candidate peaks
/// of its forward and backward (the gradient sum of earlier micro-batches
/// is counted apart; `head` says whether the LM head is trained):
/// - the LM head's forward: every kept activation and two chunks of
///   logits ([`estimate::train_logits`]);
/// - its backward, which runs first: every kept activation, one chunk and
///   two head gradients (the sum over chunks and the newest part,
///   [`estimate::head_gradient`]);
/// - a layer: every kept activation, the layer's working set
///   ([`estimate::train_activations`]) and the finished head gradient;
/// - the end: this micro-batch's whole gradient set and, for a tied head,
///   the embedding's own gradient beside the head's before they are summed.
///
/// Counting them apart matters: the head's temporaries are gone before the
/// layer gradients exist, and the activations are gone before the last
/// gradients are.
fn backward_moments(
    shape: &ModelShape,
    t: &Trainable,
    head: bool,
    step: &TrainStep,
) -> [Breakdown; 4] {
    let acts = estimate::train_activations(shape, step);
    let head_grad = estimate::head_gradient(shape, head);
    let chunk = estimate::train_logits(shape, step);
    let head_forward = Breakdown {
        activations: acts.kept,
        logits: 2 * chunk,
        ..Breakdown::default()
    };
    let head_backward = Breakdown {
        gradients: 2 * head_grad,
        activations: acts.kept,
        logits: chunk,
        ..Breakdown::default()
    };
    let in_layers = Breakdown {
        gradients: head_grad,
        activations: acts.kept + acts.backward,
        ..Breakdown::default()
    };
    let tied = if shape.tied { head_grad } else { 0 };
    let at_end = Breakdown {
        gradients: estimate::gradients(t, 1) + tied,
        ..Breakdown::default()
    };
    [head_forward, head_backward, in_layers, at_end]
}

/// The estimate of a sampling phase at `rows` rows per call: the larger of
/// its prefill and its last decode step ([`estimate::prefill`],
/// [`estimate::decode`]), with the resident weights (a training policy's
/// adapters included, and their merged copy when it samples), the
/// generator's copy of a tied head ([`estimate::decode_head`]) and moments.
pub(super) fn sampling_estimate(
    shape: &ModelShape,
    spec: &PhaseSpec,
    rows: u64,
    caps: Capabilities,
) -> (Moment, Breakdown) {
    let r = &spec.resident;
    let t = shape.trainable(spec.lora.as_ref());
    let policy = if r.policy {
        t.model + if spec.policy_samples { t.adapted } else { 0 }
    } else {
        0
    };
    // A frozen sampler's copy of the head is in its matrix dtype.
    let bf16_sampler = r.sampler_bf16 && !spec.policy_samples;
    let head = estimate::decode_head(shape, caps.decode_head_copy && !spec.remote, bf16_sampler);
    let base = Breakdown {
        weights: policy * estimate::F32 + estimate::frozen(shape, r) + head,
        optimizer: if r.optimizer {
            estimate::optimizer_moments(&t)
        } else {
            0
        },
        ..Breakdown::default()
    };
    if spec.remote {
        return (Moment::Resident, base);
    }
    let fused = caps.fused_inference_attention;
    let prompts = (rows / spec.granularity.max(1)).max(1);
    let seq = spec.sequence(shape.max_positions);
    let prompt = spec.prompt_tokens.min(seq);
    let with = |g: estimate::GenerationBytes| Breakdown {
        activations: g.activations,
        logits: g.logits,
        kv_cache: g.kv_cache,
        ..base
    };
    let prefill = with(estimate::prefill(
        shape,
        fused,
        prompts,
        (prompt, seq),
        rows,
    ));
    let decode = with(estimate::decode(shape, fused, rows, seq));
    if prefill.total() > decode.total() {
        (Moment::Prefill, prefill)
    } else {
        (Moment::Decode, decode)
    }
}
