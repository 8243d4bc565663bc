//! The byte formulae. Pure arithmetic over a [`ModelShape`]; every tensor
//! is f32 (4 bytes), and each function says which tensors it counts.
//!
//! Notation: `d` hidden, `q = heads·head_dim`, `kv = kv_heads·head_dim`,
//! `f` FFN width, `h` query heads, `L` layers, `V` vocabulary, `P`
//! parameters; `b` rows of a micro-batch, `s` its sequence (prompt +
//! completion), `c` its completion tokens.
//!
//! What autodiff keeps was read off burn 0.22.1's op implementations (each
//! op saves the inputs its backward needs; a tensor saved by several ops is
//! counted once) and rzero-model's decoder; `rzero plan --measure` checks the
//! totals against the process's peak RSS.

use serde::{Deserialize, Serialize};

use super::ModelShape;
use super::shape::Trainable;

/// Bytes per element: everything is f32 today.
pub const F32: u64 = 4;

/// `[b, h, s, s]` tensors per layer that autodiff keeps for the backward of
/// burn's decomposed attention (`attention_fallback`), used when the
/// memory-efficient op is off: the input of `exp` (scores − max), its
/// output (the softmax numerator, saved by the division) and the softmax
/// (saved by the matmul with V).
pub const SAVED_SCORE_COPIES: u64 = 3;

/// `[b, h, s, s]` tensors alive while one layer's decomposed attention runs
/// backward (the softmax gradient, the recomputed `exp`, the numerator gradient).
pub const BACKWARD_SCORE_COPIES: u64 = 3;

/// `[b, h, block, s]` tensors alive in the backward of one query block of
/// the memory-efficient attention op (scores, probabilities, their gradients).
pub const BLOCK_SCORE_COPIES: u64 = 4;

/// `[b, h, q, k]` tensors alive in a no-grad attention call of a backend
/// without a fused kernel (burn's fallback): the scores and their softmax.
pub const INFERENCE_SCORE_COPIES: u64 = 2;

/// Query rows per block of the training attention op
/// (`rzero_model::attention_op::DEFAULT_ATTENTION_BLOCK`).
pub const ATTENTION_BLOCK: u64 = rzero_model::attention_op::DEFAULT_ATTENTION_BLOCK as u64;

/// What the code and the device can do that changes memory; each flag is
/// the one line to flip when a feature lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Training attention keeps no `[b, h, s, s]` tensor for the backward
    /// (`rzero_model::attention_op`, on by default since it landed): a
    /// layer keeps q, k, v, the output and `b·h·s` log-sum-exps.
    pub memory_efficient_attention: bool,
    /// The device's no-grad attention holds no `[b, h, q, k]` scores and
    /// shares each KV head with its query heads (burn-flex on a CPU tiles
    /// per head); elsewhere burn's fallback materialises both.
    pub fused_inference_attention: bool,
    /// Layer recomputation (keep only each layer's input, recompute the
    /// layer in the backward: `rzero_model::layer_op`).
    pub recompute: bool,
    /// `rzero run` can set the LM-head log-prob chunk (`memory.logprob_chunk`).
    pub logprob_chunk: bool,
    /// `rzero run` can set the rows per generation call and per scoring
    /// pass (`memory.sampling_rows`, `memory.score_rows`).
    pub sampling_rows: bool,
}

impl Capabilities {
    /// What the code base has now, on a CPU (`cpu`) or another device.
    pub fn current(cpu: bool) -> Self {
        Self {
            memory_efficient_attention: true,
            fused_inference_attention: cpu,
            recompute: true,
            logprob_chunk: true,
            sampling_rows: true,
        }
    }
}

/// Shape and settings of one training micro-step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainStep {
    /// Rows `b`.
    pub rows: u64,
    /// Sequence `s` (prompt + completion).
    pub sequence: u64,
    /// Completion tokens `c` per row (positions that go through the LM head).
    pub completion: u64,
    /// LM-head chunk: positions whose logits exist at once.
    pub chunk: u64,
    /// Layer recomputation.
    pub recompute: bool,
    /// Memory-efficient attention.
    pub memory_efficient_attention: bool,
}

/// `copies` resident copies of the weights: `copies · P · 4`.
pub fn weights(shape: &ModelShape, copies: u64) -> u64 {
    copies * shape.params() * F32
}

/// AdamW's first and second moments of `t`'s trained elements: `2 · T · 4`.
pub fn optimizer_moments(t: &Trainable) -> u64 {
    2 * t.params * F32
}

/// Temporaries of one AdamW parameter update (new moments before the old
/// ones are dropped, the squared gradient, the denominator): at most 4
/// copies of the largest trained tensor.
pub fn optimizer_step_transient(t: &Trainable) -> u64 {
    4 * t.largest * F32
}

/// `copies` gradient sets of `t`'s trained elements: `copies · T · 4` (2
/// while micro-batches accumulate: the running sum and the newest
/// micro-batch's gradients).
pub fn gradients(t: &Trainable, copies: u64) -> u64 {
    copies * t.params * F32
}

/// Floats per token per decoder layer that autodiff keeps, decomposed
/// attention scores aside (burn saves only the inputs a backward needs:
/// a product with a constant such as the RoPE tables saves nothing of `x`).
///
/// With the memory-efficient attention op, `6·d + 5·q + 4·kv + 5·f + h`:
/// - `6·d`: the layer input, the residual sum after attention, and for each
///   of the two RMSNorms `x / rms` and the output;
/// - `5·q`: q_proj's output, q_norm's `x / rms`, the rotated queries, the
///   op's output and its merged-heads copy (o_proj's input);
/// - `4·kv`: k_proj's output, k_norm's `x / rms`, the rotated keys, the values;
/// - `5·f`: gate, sigmoid(gate), silu(gate), up, silu(gate)·up;
/// - `h`: the op's log-sum-exp per query head.
///
/// With burn's decomposed attention, `6·d + 6·q + 2·kv + 5·f`: keys and
/// values are repeated to the query heads (GQA) and kept at that width,
/// the output is not kept, and [`SAVED_SCORE_COPIES`] score tensors are
/// counted apart.
pub fn layer_floats_per_token(shape: &ModelShape, memory_efficient_attention: bool) -> u64 {
    let (d, q, kv, f) = (
        shape.hidden,
        shape.q_width(),
        shape.kv_width(),
        shape.intermediate,
    );
    if memory_efficient_attention {
        6 * d + 5 * q + 4 * kv + 5 * f + shape.heads
    } else {
        6 * d + 6 * q + 2 * kv + 5 * f
    }
}

/// Floats per token alive at once inside one layer of a no-grad forward
/// (nothing is kept across layers): at most `4·d + 4·q + 4·kv + 3·f`.
pub fn inference_floats_per_token(shape: &ModelShape) -> u64 {
    4 * shape.hidden + 4 * shape.q_width() + 4 * shape.kv_width() + 3 * shape.intermediate
}

/// Elements of one `[rows, h, queries, keys]` attention tensor.
pub fn score_elements(shape: &ModelShape, rows: u64, queries: u64, keys: u64) -> u64 {
    rows * shape.heads * queries * keys
}

/// Activation bytes of a training micro-step (forward kept for the
/// backward, plus the backward's own temporaries), LM head aside:
/// - per layer: `b·s ·` [`layer_floats_per_token`], and with decomposed
///   attention [`SAVED_SCORE_COPIES`]` · b·h·s²`;
/// - the backward of one layer at a time: activation gradients
///   `b·s·(2·d + 2·f)` and the attention's temporaries:
///   [`BLOCK_SCORE_COPIES`]` · b·h·min(block, s)·s` with the op,
///   [`BACKWARD_SCORE_COPIES`]` · b·h·s²` without;
/// - with recomputation the layers keep only their input `b·s·d` each, and
///   one layer is rebuilt whole during the backward;
/// - outside the layers: the final norm `3·b·s·d` (input, `x / rms`,
///   output), the LM-head rows and their gradient `2·b·c·d`, RoPE tables `2·b·s·head_dim`.
pub fn train_activations(shape: &ModelShape, step: &TrainStep) -> u64 {
    let (b, s, c) = (step.rows, step.sequence, step.completion);
    let tokens = b * s;
    let efficient = step.memory_efficient_attention;
    let layer = tokens * layer_floats_per_token(shape, efficient);
    let (kept_scores, backward_scores) = if efficient {
        let block = ATTENTION_BLOCK.min(s);
        (0, BLOCK_SCORE_COPIES * score_elements(shape, b, block, s))
    } else {
        let one = score_elements(shape, b, s, s);
        (SAVED_SCORE_COPIES * one, BACKWARD_SCORE_COPIES * one)
    };
    let kept_layer = layer + kept_scores;
    let backward = tokens * (2 * shape.hidden + 2 * shape.intermediate) + backward_scores;
    let layers = if step.recompute {
        shape.layers * tokens * shape.hidden + kept_layer + backward
    } else {
        shape.layers * kept_layer + backward
    };
    let outside =
        3 * tokens * shape.hidden + 2 * b * c * shape.hidden + 2 * tokens * shape.head_dim;
    (layers + outside) * F32
}

/// LM-head bytes of a training micro-step with chunked log-probs:
/// `3 · min(chunk, b·c) · V` (a chunk's logits, shifted logits and softmax,
/// or its logit gradient in the backward) `+ 2 · V · d` (the head-gradient
/// partial sum and its accumulator in the backward).
pub fn train_logits(shape: &ModelShape, step: &TrainStep) -> u64 {
    let positions = (step.rows * step.completion).max(1);
    let chunk = step.chunk.clamp(1, positions);
    (3 * chunk * shape.vocab + 2 * shape.vocab * shape.hidden) * F32
}

/// No-grad attention temporaries of `rows` rows, `queries` new positions
/// against `keys` positions: none with a fused kernel; else
/// [`INFERENCE_SCORE_COPIES`] score tensors and K and V repeated to the
/// query heads (`2·rows·h·keys·head_dim`). Elements.
fn inference_attention(shape: &ModelShape, fused: bool, rows: u64, queries: u64, keys: u64) -> u64 {
    if fused {
        0
    } else {
        INFERENCE_SCORE_COPIES * score_elements(shape, rows, queries, keys)
            + 2 * rows * shape.heads * keys * shape.head_dim
    }
}

/// Activation and logits bytes of one no-grad scoring pass over `rows`
/// rows (the old and reference log-probs before an update): one layer's
/// [`inference_floats_per_token`] for `rows·s` tokens, the attention's
/// temporaries (none with a fused kernel), the final hidden states
/// `rows·s·d`; logits `3 · min(chunk, rows·c) · V`.
pub fn score_pass(
    shape: &ModelShape,
    fused_attention: bool,
    rows: u64,
    (sequence, completion): (u64, u64),
    chunk: u64,
) -> (u64, u64) {
    let tokens = rows * sequence;
    let activations = tokens * inference_floats_per_token(shape)
        + inference_attention(shape, fused_attention, rows, sequence, sequence)
        + tokens * shape.hidden;
    let positions = (rows * completion).max(1);
    let logits = 3 * chunk.clamp(1, positions) * shape.vocab;
    (activations * F32, logits * F32)
}

/// Bytes of a KV cache of `rows` rows and `len` positions:
/// `2 (K, V) · L · rows · kv · len · 4` (stored before the GQA repeat).
pub fn kv_cache(shape: &ModelShape, rows: u64, len: u64) -> u64 {
    2 * shape.layers * rows * shape.kv_width() * len * F32
}

/// One moment of generation: activations, logits and KV-cache bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerationBytes {
    /// Activation temporaries.
    pub activations: u64,
    /// Logits on the device and their host copy.
    pub logits: u64,
    /// KV cache(s).
    pub kv_cache: u64,
}

/// The prefill of `prompts` prompts of `prompt_len` tokens, replicated to
/// `rows` rows (`n` samples each):
/// - activations: one layer's [`inference_floats_per_token`] for
///   `prompts·p` tokens and the attention's temporaries (none with a fused kernel);
/// - logits: the last position's `prompts·V`, on the device and on the host (×2);
/// - KV cache: the prompts' cache and, when `rows > prompts`, its
///   replicated copy ([`kv_cache`] of both).
pub fn prefill(
    shape: &ModelShape,
    fused_attention: bool,
    prompts: u64,
    prompt_len: u64,
    rows: u64,
) -> GenerationBytes {
    let tokens = prompts * prompt_len;
    let activations = tokens * inference_floats_per_token(shape)
        + inference_attention(shape, fused_attention, prompts, prompt_len, prompt_len);
    let replicated = if rows > prompts {
        kv_cache(shape, rows, prompt_len)
    } else {
        0
    };
    GenerationBytes {
        activations: activations * F32,
        logits: 2 * prompts * shape.vocab * F32,
        kv_cache: kv_cache(shape, prompts, prompt_len) + replicated,
    }
}

/// One decode step of `rows` rows with `len` cached positions:
/// - activations: one layer's [`inference_floats_per_token`] per row, the
///   attention's temporaries (none with a fused kernel), and the layer's K
///   and V being concatenated with the new position `2·rows·kv·len`;
/// - logits: `rows·V` on the device and on the host (×2);
/// - KV cache: twice [`kv_cache`] — the cache, and its copy while finished
///   rows are dropped (`KvCache::select_rows` builds the new cache before
///   the old one is released).
pub fn decode(shape: &ModelShape, fused_attention: bool, rows: u64, len: u64) -> GenerationBytes {
    let activations = rows * inference_floats_per_token(shape)
        + inference_attention(shape, fused_attention, rows, 1, len)
        + 2 * rows * shape.kv_width() * len;
    GenerationBytes {
        activations: activations * F32,
        logits: 2 * rows * shape.vocab * F32,
        kv_cache: 2 * kv_cache(shape, rows, len),
    }
}
