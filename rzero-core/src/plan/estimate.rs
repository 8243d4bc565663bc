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
use super::phases::Resident;
use super::shape::Trainable;

/// Bytes per f32 element (weights, activations, optimizer state).
pub const F32: u64 = 4;
/// Bytes per BF16 element.
pub const BF16: u64 = 2;

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
    /// Generation copies a tied LM head into a transposed `[d, V]` table
    /// for its small-row kernel (burn-flex on a CPU; [`decode_head`]).
    pub decode_head_copy: bool,
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
            decode_head_copy: cpu,
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

/// The frozen copies of `r`, each `P · 4`, or with BF16 matrices
/// `M · 2 + (P − M) · 4` (`M` the matrix elements; the norms stay f32):
/// the GRPO reference as `reference_bf16` says, the others as
/// `sampler_bf16` says.
pub fn frozen(shape: &ModelShape, r: &Resident) -> u64 {
    let copy = |bf16: bool| {
        let matrices = if bf16 { shape.matrix_params() } else { 0 };
        matrices * BF16 + (shape.params() - matrices) * F32
    };
    r.frozen * copy(r.sampler_bf16) + u64::from(r.reference) * copy(r.reference_bf16)
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
/// (nothing is kept across layers), the larger of:
/// - the MLP, `d + 3·f`: the residual input, gate, up and `silu(gate)·up`
///   (the fused kernel's output exists before gate and up are dropped);
/// - RoPE on the queries, `d + 3·q + 2·kv`: the residual input, the
///   normalised queries, their half-swapped copy (built from two
///   half-width copies), keys and values.
///
/// Read off the allocations of a flex prefill at the 0.6B widths; the
/// earlier `4·d + 4·q + 4·kv + 3·f` counted every intermediate of the layer
/// as alive at once and over-estimated a long prefill by about 2×.
pub fn inference_floats_per_token(shape: &ModelShape) -> u64 {
    let (d, q, kv, f) = (
        shape.hidden,
        shape.q_width(),
        shape.kv_width(),
        shape.intermediate,
    );
    (d + 3 * f).max(d + 3 * q + 2 * kv)
}

/// Elements of one `[rows, h, queries, keys]` attention tensor.
pub fn score_elements(shape: &ModelShape, rows: u64, queries: u64, keys: u64) -> u64 {
    rows * shape.heads * queries * keys
}

/// Floats per token that a recomputed layer rebuilds for its own backward
/// (`rzero_model::layer_op`'s `Activations`), `4·d + 4·q + 3·kv + 3·f + h`:
/// the two norms' `x / rms` and outputs; q and k normed and rotated, v; the
/// attention output and its merged-heads copy; gate, up and
/// `silu(gate)·up`; a log-sum-exp per head. Fewer than
/// [`layer_floats_per_token`]: the hand-written backward keeps no
/// intermediate that it can recompute from these.
pub fn recomputed_layer_floats_per_token(shape: &ModelShape) -> u64 {
    let (d, q, kv, f) = (
        shape.hidden,
        shape.q_width(),
        shape.kv_width(),
        shape.intermediate,
    );
    4 * d + 4 * q + 3 * kv + 3 * f + shape.heads
}

/// Activation bytes of a training micro-step, LM head aside, in two parts
/// that are alive at different moments of the backward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainActivations {
    /// What the forward keeps until the backward reaches it: all of it
    /// while the LM head runs backward first.
    pub kept: u64,
    /// The working set of one layer's backward, on top of `kept`.
    pub backward: u64,
}

/// Activation bytes of a training micro-step, LM head aside:
/// - kept: per layer `b·s ·` [`layer_floats_per_token`], and with
///   decomposed attention [`SAVED_SCORE_COPIES`]` · b·h·s²`; with
///   recomputation only each layer's input `b·s·d`; outside the layers the
///   final norm `3·b·s·d` (input, `x / rms`, output), the LM-head rows and
///   their gradient `2·b·c·d`, RoPE tables `2·b·s·head_dim`;
/// - backward, one layer at a time: with recomputation the rebuilt layer
///   ([`recomputed_layer_floats_per_token`]); the MLP's gradients
///   `b·s·(d + 3·f)` (the output gradient, and gate, up and their product's
///   gradients); the attention's temporaries:
///   [`BLOCK_SCORE_COPIES`]` · b·h·min(block, s)·s` with the op,
///   [`BACKWARD_SCORE_COPIES`]` · b·h·s²` without.
pub fn train_activations(shape: &ModelShape, step: &TrainStep) -> TrainActivations {
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
    let outside =
        3 * tokens * shape.hidden + 2 * b * c * shape.hidden + 2 * tokens * shape.head_dim;
    let gradients = tokens * (shape.hidden + 3 * shape.intermediate) + backward_scores;
    let (kept, backward) = if step.recompute {
        let rebuilt = tokens * recomputed_layer_floats_per_token(shape);
        (shape.layers * tokens * shape.hidden, rebuilt + gradients)
    } else {
        (shape.layers * (layer + kept_scores), gradients)
    };
    TrainActivations {
        kept: (kept + outside) * F32,
        backward: backward * F32,
    }
}

/// Logits of one chunk of the chunked LM head, `min(chunk, b·c) · V · 4`.
/// Its forward (and a scoring pass) holds two of them at once, the logits
/// and `exp(logits − max)`; its backward one, turned into the softmax and
/// the logit gradient in place.
pub fn train_logits(shape: &ModelShape, step: &TrainStep) -> u64 {
    let positions = (step.rows * step.completion).max(1);
    let chunk = step.chunk.clamp(1, positions);
    chunk * shape.vocab * F32
}

/// One `[V, d]` gradient of the LM head (the embedding when tied), `V·d·4`,
/// when it is trained (0 with LoRA, which freezes it). The chunked head's
/// backward holds two (the running sum over chunks and the newest chunk's
/// part), and a tied embedding's backward briefly holds its own beside the
/// head's before they are summed.
pub fn head_gradient(shape: &ModelShape, trained: bool) -> u64 {
    if trained {
        shape.vocab * shape.hidden * F32
    } else {
        0
    }
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
/// `rows·s·d`; logits `2 · min(chunk, rows·c) · V` (a chunk's logits and
/// their exponentials, as in [`train_logits`]).
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
    let logits = 2 * chunk.clamp(1, positions) * shape.vocab;
    (activations * F32, logits * F32)
}

/// Bytes of a KV cache of `rows` rows and `len` positions:
/// `2 (K, V) · L · rows · kv · len · 4` (stored before the GQA repeat).
pub fn kv_cache(shape: &ModelShape, rows: u64, len: u64) -> u64 {
    2 * shape.layers * rows * shape.kv_width() * len * F32
}

/// Bytes of one K (or V) tensor of one layer of a cache of `rows` rows
/// and `len` positions: `kv_cache / (2·L)`. `KvCache::select_rows` copies
/// one such tensor at a time and drops the old one before the next, so
/// replicating or dropping rows holds one of them twice.
pub fn kv_tensor(shape: &ModelShape, rows: u64, len: u64) -> u64 {
    rows * shape.kv_width() * len * F32
}

/// The transposed copy of a tied LM head that generation makes on a CPU
/// (`rzero_model::generate::DecodeHead`: the small-row kernel cannot read
/// the embedding table transposed in place): `V · d · 4`; 0 for an untied
/// head or when `copied` is false (other devices use burn's matmul);
/// `V · d · 2` for a sampler with BF16 matrices (`bf16`).
pub fn decode_head(shape: &ModelShape, copied: bool, bf16: bool) -> u64 {
    let bytes = if bf16 { BF16 } else { F32 };
    if copied && shape.tied {
        shape.vocab * shape.hidden * bytes
    } else {
        0
    }
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

/// The prefill of `prompts` prompts of `prompt_len` tokens into a cache
/// reserved for `capacity` positions (the generator reserves
/// `max_new_tokens` up front, so the whole cache exists from the prefill
/// on), replicated to `rows` rows (`n` samples each). The larger of:
/// - the forward: one layer's [`inference_floats_per_token`] for
///   `prompts·p` tokens, the attention's temporaries (none with a fused
///   kernel), the RoPE tables `2·prompts·p·head_dim`, the key-padding mask
///   of ragged prompts (`prompts·p²` one-byte bools), the last position's
///   logits `prompts·V` on the device and on the host; the prompts' cache;
/// - the replication (when `rows > prompts`): the replicated cache and one
///   [`kv_tensor`] of the prompts' cache not yet released.
pub fn prefill(
    shape: &ModelShape,
    fused_attention: bool,
    prompts: u64,
    (prompt_len, capacity): (u64, u64),
    rows: u64,
) -> GenerationBytes {
    let tokens = prompts * prompt_len;
    let floats = tokens * inference_floats_per_token(shape)
        + inference_attention(shape, fused_attention, prompts, prompt_len, prompt_len)
        + 2 * tokens * shape.head_dim;
    let mask = prompts * prompt_len * prompt_len;
    let forward = GenerationBytes {
        activations: floats * F32 + mask,
        logits: 2 * prompts * shape.vocab * F32,
        kv_cache: kv_cache(shape, prompts, capacity),
    };
    let replicated = kv_cache(shape, rows, capacity) + kv_tensor(shape, prompts, capacity);
    if rows > prompts && replicated > forward.kv_cache + forward.activations {
        GenerationBytes {
            activations: 0,
            kv_cache: replicated,
            ..forward
        }
    } else {
        forward
    }
}

/// One decode step of `rows` rows with a cache of `capacity` positions
/// (full: the last step):
/// - activations: one layer's [`inference_floats_per_token`] per row and
///   the attention's temporaries (none with a fused kernel; the cache is
///   written and read in place, nothing is concatenated);
/// - logits: `rows·V` on the device and on the host (×2);
/// - KV cache: the cache and one [`kv_tensor`] copied while a finished
///   row is dropped (`KvCache::select_rows`).
pub fn decode(
    shape: &ModelShape,
    fused_attention: bool,
    rows: u64,
    capacity: u64,
) -> GenerationBytes {
    let activations = rows * inference_floats_per_token(shape)
        + inference_attention(shape, fused_attention, rows, 1, capacity);
    GenerationBytes {
        activations: activations * F32,
        logits: 2 * rows * shape.vocab * F32,
        kv_cache: kv_cache(shape, rows, capacity) + kv_tensor(shape, rows, capacity),
    }
}
