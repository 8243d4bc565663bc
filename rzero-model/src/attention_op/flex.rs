//! The block-wise attention fused on flex's `f32` buffers.
//!
//! The generic kernel (`super::kernel`) builds each block from backend ops:
//! slices, a regrouping copy, a mask tensor, flex's batched matmul and
//! several element-wise passes. Here each (batch row, KV head) is one rayon
//! task that walks its query heads and blocks with two reused score buffers,
//! the packed [`crate::gemm`] kernel for the four products, and the causal
//! mask applied by row length. Same math, same saved log-sum-exp, so either
//! backward can follow either forward.

use std::any::Any;

use burn::backend::flex::FlexTensor;
use burn::backend::{DType, TensorMetadata};
use burn::tensor::TensorData;
use rayon::prelude::*;

use crate::kernels::{assume_written, uninit, widest};

use crate::gemm::MatRef;
use crate::gemm::kernel::{gemm, gemm_uninit};
use crate::small_matmul::kernel::Isa;

/// `t` as a flex tensor, when the backend is flex.
pub(super) fn as_flex<T: Any>(t: &T) -> Option<&FlexTensor> {
    (t as &dyn Any).downcast_ref()
}

/// A flex tensor back as the generic primitive `T` (which is `FlexTensor`
/// wherever [`as_flex`] succeeded).
pub(super) fn from_flex<T: Any>(t: FlexTensor) -> T {
    match (Box::new(t) as Box<dyn Any>).downcast::<T>() {
        Ok(t) => *t,
        Err(_) => unreachable!("from_flex is only called after as_flex succeeded"),
    }
}

/// `t` readable as a [`View`]: itself when it is `f32` with unit stride
/// along its last dimension and no negative stride (a head split or merged
/// by `swap_dims` qualifies), else a row-major copy; `None` when not `f32`.
fn readable(t: &FlexTensor) -> Option<FlexTensor> {
    if t.dtype() != DType::F32 {
        return None;
    }
    let layout = t.layout();
    let (shape, strides) = (layout.shape(), layout.strides());
    let in_place = strides.iter().all(|&s| s >= 0)
        && (shape.last().is_none_or(|&d| d <= 1) || strides.last() == Some(&1));
    Some(if in_place {
        t.clone()
    } else {
        t.to_contiguous()
    })
}

/// A 4-d `f32` tensor read where it lies: element `[a, b, c, x]` is
/// `data[a·s₀ + b·s₁ + c·s₂ + x]`.
#[derive(Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    strides: [usize; 3],
    width: usize,
}

impl<'a> View<'a> {
    /// `t` (made by [`readable`]) as a view.
    fn of(t: &'a FlexTensor) -> Self {
        let layout = t.layout();
        let at = |i: usize| layout.strides().get(i).map_or(0, |&s| s.unsigned_abs());
        let data = t.storage::<f32>();
        Self {
            data: &data[layout.start_offset().min(data.len())..],
            strides: [at(0), at(1), at(2)],
            width: layout.shape().get(3).copied().unwrap_or(1),
        }
    }

    fn offset(&self, a: usize, b: usize, c: usize) -> usize {
        a * self.strides[0] + b * self.strides[1] + c * self.strides[2]
    }

    /// Rows `c0..c1` of `[a, b]` as a `[c1 − c0, width]` matrix.
    fn rows(&self, a: usize, b: usize, c0: usize, c1: usize) -> MatRef<'a> {
        let at = self.offset(a, b, c0).min(self.data.len());
        MatRef {
            data: &self.data[at..],
            rows: c1 - c0,
            cols: self.width,
            row_stride: self.strides[2],
            col_stride: 1,
        }
    }

    /// Row `[a, b, c]`.
    fn row(&self, a: usize, b: usize, c: usize) -> &'a [f32] {
        let at = self.offset(a, b, c);
        &self.data[at..at + self.width]
    }
}

#[cfg(test)]
fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().unwrap_or_default()
}

/// Sizes of one call: query `[b, h, sq, d]`, key and value `[b, kv, sk, d]`.
#[derive(Debug, Clone, Copy)]
struct Dims {
    b: usize,
    h: usize,
    kv: usize,
    sq: usize,
    sk: usize,
    d: usize,
    block: usize,
    scale: f32,
}

impl Dims {
    fn of(query: &FlexTensor, key: &FlexTensor, block: usize) -> Self {
        let (q, k) = (query.shape(), key.shape());
        Self {
            b: q[0],
            h: q[1],
            kv: k[1],
            sq: q[2],
            sk: k[2],
            d: q[3],
            block: block.max(1),
            scale: 1.0 / (q[3] as f32).sqrt(),
        }
    }

    fn g(&self) -> usize {
        self.h / self.kv
    }

    /// Query blocks `(s0, s1)`.
    fn blocks(&self) -> impl Iterator<Item = (usize, usize)> + use<> {
        let (n, block) = (self.sq, self.block);
        (0..n.div_ceil(block)).map(move |i| (i * block, ((i + 1) * block).min(n)))
    }

    /// Keys query row `s` may see: `0..s + 1 + sk − sq`.
    fn seen(&self, s: usize) -> usize {
        s + 1 + self.sk - self.sq
    }
}

/// Grows `buf` to `len` and returns that prefix (contents unspecified).
fn scratch(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    &mut buf[..len]
}

/// Largest value (−∞ for none), in 16 lanes so it vectorises.
#[inline(always)]
fn max_of(v: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 16];
    let chunks = v.chunks_exact(16);
    let tail = chunks.remainder();
    for c in chunks {
        for (l, &x) in lanes.iter_mut().zip(c) {
            *l = l.max(x);
        }
    }
    tail.iter()
        .chain(&lanes)
        .fold(f32::NEG_INFINITY, |m, &x| m.max(x))
}

/// Sum, in 16 lanes so it vectorises.
#[inline(always)]
fn sum_of(v: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 16];
    let chunks = v.chunks_exact(16);
    let tail = chunks.remainder();
    for c in chunks {
        for (l, &x) in lanes.iter_mut().zip(c) {
            *l += x;
        }
    }
    lanes.iter().sum::<f32>() + tail.iter().sum::<f32>()
}

/// Turns a row of raw scores into probabilities over its first `seen`
/// entries (scaled by `scale`, the rest 0) and returns the log-sum-exp of
/// the scaled scores.
#[inline(always)]
fn softmax_row(row: &mut [f32], seen: usize, scale: f32) -> f32 {
    let (visible, hidden) = row.split_at_mut(seen);
    hidden.fill(0.0);
    let max = max_of(visible) * scale;
    for x in visible.iter_mut() {
        *x = crate::fused::exp(*x * scale - max);
    }
    let sum = sum_of(visible);
    let inv = 1.0 / sum;
    for x in visible.iter_mut() {
        *x *= inv;
    }
    max + sum.ln()
}

/// Output `[b, h, sq, d]` and log-sum-exp `[b, h, sq, 1]`, or `None` when
/// an input is not `f32` or the head dimension is 0.
///
/// Both are stored as `[b, sq, h, ·]` and returned as transposed views: the
/// model merges the heads of the output (`swap_dims(1, 2)` and a reshape to
/// `[b, sq, h · d]`) without a copy. Each (batch row, query block) task
/// writes its own rows of both.
pub(super) fn forward(
    query: &FlexTensor,
    key: &FlexTensor,
    value: &FlexTensor,
    block: usize,
) -> Option<(FlexTensor, FlexTensor)> {
    let (q, k, v) = (readable(query)?, readable(key)?, readable(value)?);
    let dims = Dims::of(&q, &k, block);
    let (g, h, d, sq) = (dims.g(), dims.h, dims.d, dims.sq);
    if d == 0 {
        return None;
    }
    let (q, k, v) = (View::of(&q), View::of(&k), View::of(&v));
    let isa = Isa::detect();
    let mut out = uninit(dims.b * sq * h * d);
    let mut lse = uninit(dims.b * sq * h);
    if !out.is_empty() {
        out.par_chunks_mut(sq * h * d)
            .zip(lse.par_chunks_mut(sq * h))
            .enumerate()
            .for_each(|(row, (out, lse))| {
                out.par_chunks_mut(dims.block * h * d)
                    .zip(lse.par_chunks_mut(dims.block * h))
                    .enumerate()
                    .for_each(|(j, (out, lse))| {
                        let (s0, rows) = (j * dims.block, lse.len() / h);
                        let end = dims.seen(s0 + rows - 1);
                        // Softmax loops vectorised for the CPU's widest vectors.
                        widest(
                            #[inline(always)]
                            || {
                                let mut buf = Vec::new();
                                for i in 0..h {
                                    let scores = scratch(&mut buf, rows * end);
                                    let keys = k.rows(row, i / g, 0, end);
                                    let q_rows = q.rows(row, i, s0, s0 + rows);
                                    gemm(isa, q_rows, keys.t(), scores, end, false);
                                    for (r, x) in scores.chunks_exact_mut(end).enumerate() {
                                        lse[r * h + i].write(softmax_row(
                                            x,
                                            dims.seen(s0 + r),
                                            dims.scale,
                                        ));
                                    }
                                    let probs = MatRef::row_major(scores, rows, end);
                                    let vals = v.rows(row, i / g, 0, end);
                                    gemm_uninit(isa, probs, vals, &mut out[i * d..], h * d);
                                }
                            },
                        );
                    });
            });
    }
    // SAFETY: the blocks of every batch row cover all of `out` and `lse`,
    // and each block wrote every head of its rows.
    #[expect(unsafe_code, reason = "every element was written")]
    let (out, lse) = unsafe { (assume_written(out), assume_written(lse)) };
    let (b, h) = (dims.b, dims.h);
    Some((
        FlexTensor::from_data(TensorData::new(out, [b, sq, h, d])).transpose(1, 2),
        FlexTensor::from_data(TensorData::new(lse, [b, sq, h, 1])).transpose(1, 2),
    ))
}

/// Gradients w.r.t. query, key and value (only those in `want`), or `None`
/// when an input is not `f32`. Per block: `P = exp(S − lse)`,
/// `dV += Pᵀ dO`, `dS = P ⊙ (dO Vᵀ − rowsum(dO ⊙ O)) · scale`, `dQ = dS K`,
/// `dK += dSᵀ Q`. Every input is read where it lies (see [`readable`]).
pub(super) fn backward(
    [query, key, value, out, lse, grad]: [&FlexTensor; 6],
    block: usize,
    want: [bool; 3],
) -> Option<[Option<FlexTensor>; 3]> {
    let (q, k, v) = (readable(query)?, readable(key)?, readable(value)?);
    let (o, lse, dout) = (readable(out)?, readable(lse)?, readable(grad)?);
    let dims = Dims::of(&q, &k, block);
    let (q, k, v) = (View::of(&q), View::of(&k), View::of(&v));
    let (o, lse, dout) = (View::of(&o), View::of(&lse), View::of(&dout));
    let (g, h, kv, d, sq, sk) = (dims.g(), dims.h, dims.kv, dims.d, dims.sq, dims.sk);
    let isa = Isa::detect();
    // rowsum(dO ⊙ O) per query row, `[b, h, sq]`.
    let mut delta = vec![0.0f32; dims.b * h * sq];
    delta
        .par_chunks_mut(sq.max(1))
        .enumerate()
        .for_each(|(bh, delta)| {
            for (s, x) in delta.iter_mut().enumerate() {
                let (a, b) = (dout.row(bh / h, bh % h, s), o.row(bh / h, bh % h, s));
                *x = a.iter().zip(b).map(|(x, y)| x * y).sum();
            }
        });
    // dQ's rows are written once each (dK and dV accumulate over blocks).
    let mut dq = uninit(dims.b * h * sq * d);
    let mut dk = vec![0.0f32; dims.b * kv * sk * d];
    let mut dv = vec![0.0f32; dims.b * kv * sk * d];
    if !dq.is_empty() && !dk.is_empty() {
        dq.par_chunks_mut(g * sq * d)
            .zip(dk.par_chunks_mut(sk * d))
            .zip(dv.par_chunks_mut(sk * d))
            .enumerate()
            .for_each(|(u, ((dq, dk), dv))| {
                let (row, group) = (u / kv, u % kv);
                widest(
                    #[inline(always)]
                    || {
                        let (mut probs_buf, mut dprobs_buf) = (Vec::new(), Vec::new());
                        for i in 0..g {
                            let head = group * g + i;
                            for (s0, s1) in dims.blocks() {
                                let (rows, end) = (s1 - s0, dims.seen(s1 - 1));
                                let keys = k.rows(row, group, 0, end);
                                let vals = v.rows(row, group, 0, end);
                                let q_rows = q.rows(row, head, s0, s1);
                                let do_rows = dout.rows(row, head, s0, s1);
                                let row0 = (u * g + i) * sq + s0;
                                // P, recomputed from the saved log-sum-exp.
                                let probs = scratch(&mut probs_buf, rows * end);
                                gemm(isa, q_rows, keys.t(), probs, end, false);
                                for (r, x) in probs.chunks_exact_mut(end).enumerate() {
                                    let (visible, hidden) = x.split_at_mut(dims.seen(s0 + r));
                                    hidden.fill(0.0);
                                    let lse = lse.row(row, head, s0 + r)[0];
                                    for x in visible.iter_mut() {
                                        *x = crate::fused::exp(*x * dims.scale - lse);
                                    }
                                }
                                if want[2] {
                                    let p = MatRef::row_major(probs, rows, end);
                                    gemm(isa, p.t(), do_rows, dv, d, true);
                                }
                                if !(want[0] || want[1]) {
                                    continue;
                                }
                                let dprobs = scratch(&mut dprobs_buf, rows * end);
                                gemm(isa, do_rows, vals.t(), dprobs, end, false);
                                for (r, (p, dp)) in probs
                                    .chunks_exact_mut(end)
                                    .zip(dprobs.chunks_exact(end))
                                    .enumerate()
                                {
                                    let delta = delta[row0 + r];
                                    for (p, &dp) in p.iter_mut().zip(dp) {
                                        *p *= (dp - delta) * dims.scale;
                                    }
                                }
                                let ds = MatRef::row_major(probs, rows, end);
                                if want[0] {
                                    let at = (i * sq + s0) * d;
                                    gemm_uninit(isa, ds, keys, &mut dq[at..], d);
                                }
                                if want[1] {
                                    gemm(isa, ds.t(), q_rows, dk, d, true);
                                }
                            }
                        }
                    },
                );
            });
    }
    let tensor =
        |data: Vec<f32>, shape: [usize; 4]| FlexTensor::from_data(TensorData::new(data, shape));
    // SAFETY: with `want[0]`, the blocks of every query head wrote all of dQ.
    #[expect(unsafe_code, reason = "every element was written")]
    let dq = want[0].then(|| unsafe { assume_written(dq) });
    Some([
        dq.map(|dq| tensor(dq, [dims.b, h, sq, d])),
        want[1].then(|| tensor(dk, [dims.b, kv, sk, d])),
        want[2].then(|| tensor(dv, [dims.b, kv, sk, d])),
    ])
}

#[cfg(test)]
mod tests {
    use burn::backend::Flex;

    use super::super::kernel::{Saved, backward_composed, forward_composed};
    use super::*;

    /// Values in [-2, 2) from a fixed-seed generator.
    fn random(shape: [usize; 4], seed: u64) -> FlexTensor {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let values = (0..shape.iter().product())
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 22) as f32 - 2.0
            })
            .collect::<Vec<f32>>();
        FlexTensor::from_data(TensorData::new(values, shape))
    }

    /// Equal to a relative 1e-4, whatever either's strides.
    fn close(a: &FlexTensor, b: &FlexTensor) {
        let (a, b) = (a.to_contiguous(), b.to_contiguous());
        let (a, b) = (slice(&a), slice(&b));
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    /// `[b, s, heads, d]` values as the `[b, heads, s, d]` view the model's
    /// head split (`swap_dims(1, 2)`) makes.
    fn split_heads([b, heads, s, d]: [usize; 4], seed: u64) -> FlexTensor {
        random([b, s, heads, d], seed).transpose(1, 2)
    }

    /// The fused kernel against the one made of backend ops: GQA, more
    /// keys than queries, a block that does not divide the rows; inputs
    /// row-major and strided (read in place).
    #[test]
    fn fused_equals_the_composed_kernel_values_and_gradients() {
        let cases = [(7, 7, 3), (5, 9, 2), (1, 4, 8), (6, 6, 1)];
        for ((sq, sk, block), strided) in cases.into_iter().flat_map(|c| [(c, false), (c, true)]) {
            let make = if strided { split_heads } else { random };
            let q = make([2, 4, sq, 8], 1);
            let k = make([2, 2, sk, 8], 2);
            let v = make([2, 2, sk, 8], 3);
            let grad = make([2, 4, sq, 8], 4);
            assert_eq!(v.is_contiguous(), !strided);
            let (out, lse) = forward(&q, &k, &v, block).unwrap_or_else(|| unreachable!());
            let (want_out, want_lse) =
                forward_composed::<Flex>(q.clone(), k.clone(), v.clone(), block);
            close(&out, &want_out);
            close(&lse, &want_lse);
            // Stored with the heads merged: the model's merge is a view.
            assert!(out.transpose(1, 2).is_contiguous());
            let fused = backward([&q, &k, &v, &out, &lse, &grad], block, [true; 3])
                .unwrap_or_else(|| unreachable!());
            let saved = Saved {
                query: q.clone(),
                key: k.clone(),
                value: v.clone(),
                out,
                lse: lse.clone(),
                block,
            };
            let composed = backward_composed::<Flex>(saved, grad.clone(), [true; 3]);
            for (a, b) in fused.iter().zip(&composed) {
                let (Some(a), Some(b)) = (a, b) else {
                    panic!("a gradient is missing")
                };
                close(a, b);
            }
            let only_value = backward([&q, &k, &v, &q, &lse, &grad], block, [false, false, true])
                .unwrap_or_else(|| unreachable!());
            assert!(only_value[0].is_none() && only_value[1].is_none());
            close(
                only_value[2].as_ref().unwrap_or_else(|| unreachable!()),
                fused[2].as_ref().unwrap_or_else(|| unreachable!()),
            );
        }
    }
}
