//! The decoder layer on backend primitives: the forward pass, which also
//! returns what its backward needs, and that backward, written out.
//!
//! Rows are flattened: `x` `[b, s, d]` is worked on as `[n, d]`, `n = b·s`,
//! so every projection is one 2-D matmul.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;

use super::parts::{self, Normed, reshape};
use super::{LayerSpec, LayerWeights, NUM_WEIGHTS, RopeTables};
use crate::attention_op::kernel::{self as attention, Saved};
// Every backend here runs its products through `matmul_t` (the packed
// kernel on flex); `KernelBackend` is a `Backend` with that op
// and a vectorised `exp`.
use crate::kernels::KernelBackend as Backend;

// Positions in [`LayerWeights::into_array`].
const INPUT_NORM: usize = 0;
const Q: usize = 1;
const K: usize = 2;
const V: usize = 3;
const Q_NORM: usize = 4;
const K_NORM: usize = 5;
const O: usize = 6;
const POST_NORM: usize = 7;
const GATE: usize = 8;
const UP: usize = 9;
const DOWN: usize = 10;

/// `[b, s, d]` sizes of one call.
#[derive(Debug, Clone, Copy)]
struct Rows {
    b: usize,
    s: usize,
    d: usize,
}

impl Rows {
    fn n(&self) -> usize {
        self.b * self.s
    }
}

/// The forward's intermediates, the input of the backward.
pub(super) struct Activations<B: Backend> {
    rows: Rows,
    input_norm: Normed<B>,
    /// `norm₁(x)`, `[n, d]`: the input of q, k and v.
    attn_in: FloatTensor<B>,
    q_norm: Normed<B>,
    k_norm: Normed<B>,
    /// Rotated q `[b, h, s, hd]`, k and v `[b, kv, s, hd]`.
    query: FloatTensor<B>,
    key: FloatTensor<B>,
    value: FloatTensor<B>,
    /// Attention output `[b, h, s, hd]` and its log-sum-exp.
    attn: FloatTensor<B>,
    lse: FloatTensor<B>,
    /// Attention output with heads merged, `[n, h · hd]`: the input of `o_proj`.
    merged: FloatTensor<B>,
    post_norm: Normed<B>,
    /// `norm₂(h)`, `[n, d]`: the input of gate and up.
    mlp_in: FloatTensor<B>,
    gate: FloatTensor<B>,
    up: FloatTensor<B>,
    /// `silu(gate) ⊙ up`: the input of `down_proj`.
    hidden: FloatTensor<B>,
}

/// Per-head q or k: `[n, heads · hd]` → normed `[n, heads, hd]` (with its
/// backward state) → scaled, `[b, heads, s, hd]`.
fn heads<B: Backend>(
    t: FloatTensor<B>,
    rows: Rows,
    heads: usize,
    spec: LayerSpec,
    (weight, eps): (&FloatTensor<B>, f64),
) -> (Normed<B>, FloatTensor<B>) {
    let hd = spec.head_dim;
    let normed = parts::rms_norm::<B>(reshape::<B, 3>(t, [rows.n(), heads, hd]), eps);
    let scaled = parts::scale::<B>(normed.unit.clone(), weight);
    let split = reshape::<B, 4>(scaled, [rows.b, rows.s, heads, hd]);
    (normed, B::float_swap_dims(split, 1, 2))
}

/// `[b, heads, s, hd]` → `[n, heads · hd]`.
fn merge<B: Backend>(t: FloatTensor<B>, rows: Rows) -> FloatTensor<B> {
    let shape = t.shape();
    let width = shape[1] * shape[3];
    reshape::<B, 2>(B::float_swap_dims(t, 1, 2), [rows.n(), width])
}

/// The layer's output `[b, s, d]` and its intermediates.
pub(super) fn forward<B: Backend>(
    x: FloatTensor<B>,
    w: &LayerWeights<B>,
    rope: &RopeTables<B>,
    spec: LayerSpec,
) -> (FloatTensor<B>, Activations<B>) {
    let shape = x.shape();
    let rows = Rows {
        b: shape[0],
        s: shape[1],
        d: shape[2],
    };
    let [eps_in, eps_post, eps_q, eps_k] = spec.eps;
    let x = reshape::<B, 2>(x, [rows.n(), rows.d]);
    // 1. Attention input, projections, per-head norms, RoPE.
    let input_norm = parts::rms_norm::<B>(x.clone(), eps_in);
    let attn_in = parts::scale::<B>(input_norm.unit.clone(), &w.input_norm);
    let project =
        |weight: &FloatTensor<B>| B::matmul_t(attn_in.clone(), weight.clone(), false, false);
    let q = project(&w.q_proj);
    let k = project(&w.k_proj);
    let v = project(&w.v_proj);
    let (q_norm, q) = heads::<B>(q, rows, spec.num_heads, spec, (&w.q_norm, eps_q));
    let (k_norm, k) = heads::<B>(k, rows, spec.num_kv_heads, spec, (&w.k_norm, eps_k));
    let query = parts::rope::<B>(q, &rope.cos, &rope.signed_sin);
    let key = parts::rope::<B>(k, &rope.cos, &rope.signed_sin);
    let v = reshape::<B, 4>(v, [rows.b, rows.s, spec.num_kv_heads, spec.head_dim]);
    let value = B::float_swap_dims(v, 1, 2);
    // 2. Causal attention (block-wise kernel), heads merged, residual.
    let (attn, lse) =
        attention::forward::<B>(query.clone(), key.clone(), value.clone(), spec.block);
    let merged = merge::<B>(attn.clone(), rows);
    let h = B::float_add(
        x,
        B::matmul_t(merged.clone(), w.o_proj.clone(), false, false),
    );
    // 3. SwiGLU MLP, residual.
    let post_norm = parts::rms_norm::<B>(h.clone(), eps_post);
    let mlp_in = parts::scale::<B>(post_norm.unit.clone(), &w.post_norm);
    let gate = B::matmul_t(mlp_in.clone(), w.gate_proj.clone(), false, false);
    let up = B::matmul_t(mlp_in.clone(), w.up_proj.clone(), false, false);
    let hidden = parts::swiglu::<B>(gate.clone(), up.clone());
    let out = B::float_add(
        h,
        B::matmul_t(hidden.clone(), w.down_proj.clone(), false, false),
    );
    let out = reshape::<B, 3>(out, [rows.b, rows.s, rows.d]);
    let acts = Activations {
        rows,
        input_norm,
        attn_in,
        q_norm,
        k_norm,
        query,
        key,
        value,
        attn,
        lse,
        merged,
        post_norm,
        mlp_in,
        gate,
        up,
        hidden,
    };
    (out, acts)
}

/// Weight gradients in [`LayerWeights::into_array`] order.
type WeightGrads<B> = [Option<FloatTensor<B>>; NUM_WEIGHTS];

/// Gradients of the input `[b, s, d]` and of each weight (in
/// [`LayerWeights::into_array`] order, `None` where not wanted), given the
/// upstream gradient `grad` `[b, s, d]`.
pub(super) fn backward<B: Backend>(
    acts: Activations<B>,
    w: &LayerWeights<B>,
    rope: &RopeTables<B>,
    spec: LayerSpec,
    grad: FloatTensor<B>,
    want: [bool; NUM_WEIGHTS],
) -> (FloatTensor<B>, WeightGrads<B>) {
    let rows = acts.rows;
    let mut grads: WeightGrads<B> = Default::default();
    let d_out = reshape::<B, 2>(grad, [rows.n(), rows.d]);
    let d_h = mlp_backward::<B>(&acts, w, d_out, want, &mut grads);
    let d_x = attention_backward::<B>(acts, w, rope, spec, d_h, want, &mut grads);
    (reshape::<B, 3>(d_x, [rows.b, rows.s, rows.d]), grads)
}

/// `out = h + down(swiglu(gate(c), up(c)))`, `c = norm₂(h)`: `d out` → `d h`.
fn mlp_backward<B: Backend>(
    acts: &Activations<B>,
    w: &LayerWeights<B>,
    d_out: FloatTensor<B>,
    want: [bool; NUM_WEIGHTS],
    grads: &mut WeightGrads<B>,
) -> FloatTensor<B> {
    let (d_hidden, d_down) =
        parts::linear_backward::<B>(d_out.clone(), &acts.hidden, &w.down_proj, want[DOWN]);
    let (d_gate, d_up) = parts::swiglu_backward::<B>(d_hidden, acts.gate.clone(), acts.up.clone());
    let (d_in_gate, d_gate_w) =
        parts::linear_backward::<B>(d_gate, &acts.mlp_in, &w.gate_proj, want[GATE]);
    let (d_in_up, d_up_w) = parts::linear_backward::<B>(d_up, &acts.mlp_in, &w.up_proj, want[UP]);
    let (d_h, d_post) = parts::rms_norm_backward::<B>(
        B::float_add(d_in_gate, d_in_up),
        &acts.post_norm,
        &w.post_norm,
        want[POST_NORM],
    );
    [grads[DOWN], grads[GATE], grads[UP], grads[POST_NORM]] = [d_down, d_gate_w, d_up_w, d_post];
    B::float_add(d_h, d_out)
}

/// `h = x + o_proj(attn(rope(q), rope(k), v))` with q, k, v projections of
/// `norm₁(x)` (q and k normed per head): `d h` → `d x`.
fn attention_backward<B: Backend>(
    acts: Activations<B>,
    w: &LayerWeights<B>,
    rope: &RopeTables<B>,
    spec: LayerSpec,
    d_h: FloatTensor<B>,
    want: [bool; NUM_WEIGHTS],
    grads: &mut WeightGrads<B>,
) -> FloatTensor<B> {
    let rows = acts.rows;
    let (d_merged, d_o) =
        parts::linear_backward::<B>(d_h.clone(), &acts.merged, &w.o_proj, want[O]);
    let d_attn = B::float_swap_dims(
        reshape::<B, 4>(d_merged, [rows.b, rows.s, spec.num_heads, spec.head_dim]),
        1,
        2,
    );
    let saved = Saved {
        query: acts.query,
        key: acts.key,
        value: acts.value,
        out: acts.attn,
        lse: acts.lse,
        block: spec.block,
    };
    // Every gradient is asked for, so every one comes back.
    let [Some(d_query), Some(d_key), Some(d_value)] =
        attention::backward::<B>(saved, d_attn, [true; 3])
    else {
        unreachable!("the attention backward returns each gradient asked for")
    };
    let unrotate = |t| parts::rope_backward::<B>(t, &rope.cos, &rope.signed_sin);
    let unhead = |t: FloatTensor<B>, heads: usize| {
        reshape::<B, 3>(
            B::float_swap_dims(t, 1, 2),
            [rows.n(), heads, spec.head_dim],
        )
    };
    let flat =
        |t: FloatTensor<B>, heads: usize| reshape::<B, 2>(t, [rows.n(), heads * spec.head_dim]);
    let (d_q, d_qn) = parts::rms_norm_backward::<B>(
        unhead(unrotate(d_query), spec.num_heads),
        &acts.q_norm,
        &w.q_norm,
        want[Q_NORM],
    );
    let (d_k, d_kn) = parts::rms_norm_backward::<B>(
        unhead(unrotate(d_key), spec.num_kv_heads),
        &acts.k_norm,
        &w.k_norm,
        want[K_NORM],
    );
    let (d_in_q, d_q_w) =
        parts::linear_backward::<B>(flat(d_q, spec.num_heads), &acts.attn_in, &w.q_proj, want[Q]);
    let (d_in_k, d_k_w) = parts::linear_backward::<B>(
        flat(d_k, spec.num_kv_heads),
        &acts.attn_in,
        &w.k_proj,
        want[K],
    );
    let d_v = merge::<B>(d_value, rows);
    let (d_in_v, d_v_w) = parts::linear_backward::<B>(d_v, &acts.attn_in, &w.v_proj, want[V]);
    let d_attn_in = B::float_add(B::float_add(d_in_q, d_in_k), d_in_v);
    let (d_x, d_in) =
        parts::rms_norm_backward::<B>(d_attn_in, &acts.input_norm, &w.input_norm, want[INPUT_NORM]);
    [
        grads[INPUT_NORM],
        grads[Q],
        grads[K],
        grads[V],
        grads[Q_NORM],
        grads[K_NORM],
        grads[O],
    ] = [d_in, d_q_w, d_k_w, d_v_w, d_qn, d_kn, d_o];
    B::float_add(d_x, d_h)
}
