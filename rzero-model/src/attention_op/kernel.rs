//! The block-wise causal attention math on backend primitives, shared by
//! every backend's forward and by the autodiff backward.
//!
//! Shapes: query `[b, h, sq, d]`, key and value `[b, kv, sk, d]`, `g = h / kv`
//! query heads per KV head. A block of query rows `s0..s1` is regrouped to
//! `[b, kv, g · (s1 − s0), d]`, so one batched matmul serves a KV head's whole
//! group, and it meets only the keys `0..s1 + (sk − sq)` it may see. At most
//! a few `[b, h, block, sk]` tensors exist at a time.

use burn::backend::tensor::{BoolTensor, FloatTensor};
use burn::backend::{Shape, Slice, TensorMetadata, get_or_init_device_settings};

// Every backend here runs `exp` through `KernelBackend` (vectorised on
// flex); it is a `Backend` with rzero's kernels.
use crate::kernels::KernelBackend as Backend;

use super::flex;

/// Row ranges `start..end` of at most `block` rows covering `0..n`.
fn blocks(n: usize, block: usize) -> impl DoubleEndedIterator<Item = (usize, usize)> {
    let block = block.max(1);
    (0..n.div_ceil(block)).map(move |i| (i * block, ((i + 1) * block).min(n)))
}

/// Positions `start..end` (dim 2) of a `[b, heads, seq, x]` tensor.
fn positions<B: Backend>(t: &FloatTensor<B>, start: usize, end: usize) -> FloatTensor<B> {
    let slices = [
        Slice::full(),
        Slice::full(),
        Slice::from(start..end),
        Slice::full(),
    ];
    B::float_slice(t.clone(), &slices)
}

/// The sizes of one call.
#[derive(Debug, Clone, Copy)]
struct Dims {
    b: usize,
    kv: usize,
    g: usize,
    sq: usize,
    sk: usize,
    d: usize,
    scale: f64,
}

impl Dims {
    fn of<B: Backend>(query: &FloatTensor<B>, key: &FloatTensor<B>) -> Self {
        let q = query.shape();
        let k = key.shape();
        let (b, h, sq, d) = (q[0], q[1], q[2], q[3]);
        let (kv, sk) = (k[1], k[2]);
        Self {
            b,
            kv,
            g: h / kv,
            sq,
            sk,
            d,
            scale: 1.0 / (d as f64).sqrt(),
        }
    }

    /// Last key (exclusive) that query rows `..s1` may see.
    fn key_end(&self, s1: usize) -> usize {
        s1 + (self.sk - self.sq)
    }

    /// `[b, h, rows, x]` → `[b, kv, g · rows, x]` (query heads of one KV head together).
    fn group<B: Backend>(&self, t: FloatTensor<B>) -> FloatTensor<B> {
        let s = t.shape();
        let (rows, x) = (s[2], s[3]);
        B::float_reshape(t, Shape::new([self.b, self.kv, self.g * rows, x]))
    }

    /// `[b, kv, g · rows, x]` → `[b, h, rows, x]`.
    fn ungroup<B: Backend>(&self, t: FloatTensor<B>, rows: usize) -> FloatTensor<B> {
        let x = t.shape()[3];
        B::float_reshape(t, Shape::new([self.b, self.kv * self.g, rows, x]))
    }

    /// `[b, kv, g, s1 − s0, key_end]`, true where query row `i ∈ s0..s1` may
    /// not see key `j` (`j > i + sk − sq`).
    fn causal_mask<B: Backend>(&self, s0: usize, s1: usize, device: &B::Device) -> BoolTensor<B> {
        let settings = get_or_init_device_settings::<B>(device);
        let (rows, end) = (s1 - s0, self.key_end(s1));
        let offset = (self.sk - self.sq) as i64;
        let last_seen = B::int_reshape(
            B::int_arange(
                s0 as i64 + offset..s1 as i64 + offset,
                device,
                settings.int_dtype,
            ),
            Shape::new([rows, 1]),
        );
        let keys = B::int_reshape(
            B::int_arange(0..end as i64, device, settings.int_dtype),
            Shape::new([1, end]),
        );
        let mask = B::int_lower(last_seen, keys, settings.bool_dtype);
        let mask = B::bool_reshape(mask, Shape::new([1, 1, 1, rows, end]));
        B::bool_expand(mask, Shape::new([self.b, self.kv, self.g, rows, end]))
    }

    /// Scaled, masked scores `[b, kv, g · rows, key_end]` of the grouped
    /// (already scaled) query block `s0..s1` against the keys it may see.
    fn scores<B: Backend>(
        &self,
        query_block: FloatTensor<B>,
        keys: FloatTensor<B>,
        s0: usize,
        s1: usize,
    ) -> FloatTensor<B> {
        let scores = B::float_matmul(query_block, B::float_transpose(keys));
        let (rows, end) = (s1 - s0, self.key_end(s1));
        if rows == 1 {
            // One row sees every key up to `end`.
            return scores;
        }
        let mask = self.causal_mask::<B>(s0, s1, &scores.device());
        let scores = B::float_reshape(scores, Shape::new([self.b, self.kv, self.g, rows, end]));
        let scores = B::float_mask_fill(scores, mask, f32::NEG_INFINITY.into());
        B::float_reshape(scores, Shape::new([self.b, self.kv, self.g * rows, end]))
    }
}

/// Output `[b, h, sq, d]` and the per-row log-sum-exp of the scaled, masked
/// scores `[b, h, sq, 1]` (kept for the backward).
pub(crate) fn forward<B: Backend>(
    query: FloatTensor<B>,
    key: FloatTensor<B>,
    value: FloatTensor<B>,
    block: usize,
) -> (FloatTensor<B>, FloatTensor<B>) {
    if let Some(fused) = flex_forward::<B>(&query, &key, &value, block) {
        return fused;
    }
    forward_composed::<B>(query, key, value, block)
}

/// [`forward`] from backend ops (every backend but flex).
pub(super) fn forward_composed<B: Backend>(
    query: FloatTensor<B>,
    key: FloatTensor<B>,
    value: FloatTensor<B>,
    block: usize,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let dims = Dims::of::<B>(&query, &key);
    let h = dims.kv * dims.g;
    if dims.sq == 0 || dims.b == 0 || h == 0 {
        let (device, dtype) = (query.device(), query.dtype().into());
        let out = B::float_zeros(Shape::new([dims.b, h, dims.sq, dims.d]), &device, dtype);
        let lse = B::float_zeros(Shape::new([dims.b, h, dims.sq, 1]), &device, dtype);
        return (out, lse);
    }
    let query = B::float_mul_scalar(query, dims.scale.into());
    let mut outs = Vec::new();
    let mut lses = Vec::new();
    for (s0, s1) in blocks(dims.sq, block) {
        let end = dims.key_end(s1);
        let query_block = dims.group::<B>(positions::<B>(&query, s0, s1));
        let scores = dims.scores::<B>(query_block, positions::<B>(&key, 0, end), s0, s1);
        let max = B::float_max_dim(scores.clone(), 3);
        let exp = B::exp(B::float_sub(scores, max.clone()));
        let sum = B::float_sum_dim(exp.clone(), 3);
        let out = B::float_div(
            B::float_matmul(exp, positions::<B>(&value, 0, end)),
            sum.clone(),
        );
        let lse = B::float_add(B::float_log(sum), max);
        outs.push(dims.ungroup::<B>(out, s1 - s0));
        lses.push(dims.ungroup::<B>(lse, s1 - s0));
    }
    (B::float_cat(outs, 2), B::float_cat(lses, 2))
}

/// [`super::flex::forward`] when `B` is flex and the inputs are `f32`.
fn flex_forward<B: Backend>(
    query: &FloatTensor<B>,
    key: &FloatTensor<B>,
    value: &FloatTensor<B>,
    block: usize,
) -> Option<(FloatTensor<B>, FloatTensor<B>)> {
    let [q, k, v] = [query, key, value].map(flex::as_flex);
    let (out, lse) = flex::forward(q?, k?, v?, block)?;
    Some((flex::from_flex(out), flex::from_flex(lse)))
}

/// [`super::flex::backward`] when `B` is flex and the inputs are `f32`.
fn flex_backward<B: Backend>(
    tensors: [&FloatTensor<B>; 6],
    block: usize,
    want: [bool; 3],
) -> Option<[Option<FloatTensor<B>>; 3]> {
    let [q, k, v, o, lse, grad] = tensors.map(flex::as_flex);
    let grads = flex::backward([q?, k?, v?, o?, lse?, grad?], block, want)?;
    Some(grads.map(|g| g.map(flex::from_flex)))
}

/// What the backward needs besides the upstream gradient.
pub(crate) struct Saved<B: Backend> {
    pub query: FloatTensor<B>,
    pub key: FloatTensor<B>,
    pub value: FloatTensor<B>,
    pub out: FloatTensor<B>,
    pub lse: FloatTensor<B>,
    pub block: usize,
}

/// `acc[.., .., 0..rows, ..] += part` where `part` covers the first `rows`
/// keys; `None` starts from `part` (the first block seen covers every key).
fn accumulate<B: Backend>(acc: Option<FloatTensor<B>>, part: FloatTensor<B>) -> FloatTensor<B> {
    let Some(acc) = acc else { return part };
    let rows = part.shape()[2];
    if rows == acc.shape()[2] {
        return B::float_add(acc, part);
    }
    let slices = [
        Slice::full(),
        Slice::full(),
        Slice::from(0..rows),
        Slice::full(),
    ];
    let sum = B::float_add(B::float_slice(acc.clone(), &slices), part);
    B::float_slice_assign(acc, &slices, sum)
}

/// Gradients w.r.t. query `[b, h, sq, d]`, key and value `[b, kv, sk, d]`
/// (each only if asked), one query block at a time, last block first:
/// `P = exp(S − lse)`, `dV += Pᵀ dO`, `dS = P ⊙ (dO Vᵀ − rowsum(dO ⊙ O))`,
/// `dQ = dS K · scale`, `dK += dSᵀ Q · scale`.
pub(crate) fn backward<B: Backend>(
    saved: Saved<B>,
    grad: FloatTensor<B>,
    want: [bool; 3],
) -> [Option<FloatTensor<B>>; 3] {
    let tensors = [
        &saved.query,
        &saved.key,
        &saved.value,
        &saved.out,
        &saved.lse,
        &grad,
    ];
    if let Some(fused) = flex_backward::<B>(tensors, saved.block, want) {
        return fused;
    }
    backward_composed::<B>(saved, grad, want)
}

/// [`backward`] from backend ops (every backend but flex).
pub(super) fn backward_composed<B: Backend>(
    saved: Saved<B>,
    grad: FloatTensor<B>,
    want: [bool; 3],
) -> [Option<FloatTensor<B>>; 3] {
    let Saved {
        query,
        key,
        value,
        out,
        lse,
        block,
    } = saved;
    let [want_query, want_key, want_value] = want;
    let dims = Dims::of::<B>(&query, &key);
    if dims.sq == 0 || dims.b == 0 || dims.kv * dims.g == 0 {
        let zeros = |t: &FloatTensor<B>| B::float_zeros(t.shape(), &t.device(), t.dtype().into());
        return [
            want_query.then(|| zeros(&query)),
            want_key.then(|| zeros(&key)),
            want_value.then(|| zeros(&value)),
        ];
    }
    let query = B::float_mul_scalar(query, dims.scale.into());
    // rowsum(dO ⊙ O) = rowsum(dO ⊙ (P V)) = rowsum(P ⊙ dO Vᵀ), [b, h, sq, 1].
    let delta = B::float_sum_dim(B::float_mul(grad.clone(), out), 3);
    let mut d_query = Vec::new();
    let mut d_key = None;
    let mut d_value = None;
    for (s0, s1) in blocks(dims.sq, block).rev() {
        let end = dims.key_end(s1);
        let group = |t: &FloatTensor<B>| dims.group::<B>(positions::<B>(t, s0, s1));
        let query_block = group(&query);
        let grad_block = group(&grad);
        let (keys, values) = (positions::<B>(&key, 0, end), positions::<B>(&value, 0, end));
        let scores = dims.scores::<B>(query_block.clone(), keys.clone(), s0, s1);
        let probs = B::exp(B::float_sub(scores, group(&lse)));
        if want_value {
            let part = B::float_matmul(B::float_transpose(probs.clone()), grad_block.clone());
            d_value = Some(accumulate::<B>(d_value, part));
        }
        if want_query || want_key {
            let d_probs = B::float_matmul(grad_block, B::float_transpose(values));
            let d_scores = B::float_mul(probs, B::float_sub(d_probs, group(&delta)));
            if want_query {
                let part =
                    B::float_mul_scalar(B::float_matmul(d_scores.clone(), keys), dims.scale.into());
                d_query.push(dims.ungroup::<B>(part, s1 - s0));
            }
            if want_key {
                let part = B::float_matmul(B::float_transpose(d_scores), query_block);
                d_key = Some(accumulate::<B>(d_key, part));
            }
        }
    }
    d_query.reverse();
    [want_query.then(|| B::float_cat(d_query, 2)), d_key, d_value]
}
