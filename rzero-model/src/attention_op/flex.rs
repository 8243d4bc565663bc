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

/// Row-major `f32` values of `t`, copied only when it is strided.
fn values(t: &FlexTensor) -> Option<FlexTensor> {
    if t.dtype() != DType::F32 {
        return None;
    }
    let t = if t.is_contiguous() {
        t.clone()
    } else {
        t.clone().to_contiguous()
    };
    t.as_slice::<f32>().is_some().then_some(t)
}

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

    /// Task `u`'s key (or value) matrix `[sk, d]`: batch row `u / kv`, KV head `u % kv`.
    fn kv_matrix<'a>(&self, data: &'a [f32], u: usize) -> MatRef<'a> {
        let len = self.sk * self.d;
        MatRef::row_major(&data[u * len..(u + 1) * len], self.sk, self.d)
    }

    /// Rows `s0..s1` of query head `i` of task `u`, from a `[b, h, sq, x]` buffer.
    fn head_rows<'a>(
        &self,
        data: &'a [f32],
        u: usize,
        i: usize,
        s0: usize,
        s1: usize,
    ) -> &'a [f32] {
        let head = u * self.g() + i;
        &data[(head * self.sq + s0) * self.d..(head * self.sq + s1) * self.d]
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
pub(super) fn forward(
    query: &FlexTensor,
    key: &FlexTensor,
    value: &FlexTensor,
    block: usize,
) -> Option<(FlexTensor, FlexTensor)> {
    let (q, k, v) = (values(query)?, values(key)?, values(value)?);
    let dims = Dims::of(&q, &k, block);
    let (q, k, v) = (slice(&q), slice(&k), slice(&v));
    let (g, d, sq) = (dims.g(), dims.d, dims.sq);
    if d == 0 {
        return None;
    }
    let isa = Isa::detect();
    // Every output row and log-sum-exp is written once, by its block.
    let mut out = uninit(dims.b * dims.h * sq * d);
    let mut lse = uninit(dims.b * dims.h * sq);
    if !out.is_empty() {
        out.par_chunks_mut(g * sq * d)
            .zip(lse.par_chunks_mut(g * sq))
            .enumerate()
            .for_each(|(u, (out, lse))| {
                // Softmax loops vectorised for the CPU's widest vectors.
                widest(|| {
                    let (keys, vals) = (dims.kv_matrix(k, u), dims.kv_matrix(v, u));
                    let mut buf = Vec::new();
                    for i in 0..g {
                        for (s0, s1) in dims.blocks() {
                            let (rows, end) = (s1 - s0, dims.seen(s1 - 1));
                            let scores = scratch(&mut buf, rows * end);
                            let q_rows =
                                MatRef::row_major(dims.head_rows(q, u, i, s0, s1), rows, d);
                            gemm(isa, q_rows, keys.rows_slice(0, end).t(), scores, end, false);
                            for (r, row) in scores.chunks_exact_mut(end).enumerate() {
                                lse[i * sq + s0 + r].write(softmax_row(
                                    row,
                                    dims.seen(s0 + r),
                                    dims.scale,
                                ));
                            }
                            let probs = MatRef::row_major(scores, rows, end);
                            let at = (i * sq + s0) * d;
                            gemm_uninit(isa, probs, vals.rows_slice(0, end), &mut out[at..], d);
                        }
                    }
                });
            });
    }
    // SAFETY: the blocks of every query head cover all rows of `out` and `lse`.
    #[expect(unsafe_code, reason = "every element was written")]
    let (out, lse) = unsafe { (assume_written(out), assume_written(lse)) };
    let shape = [dims.b, dims.h, sq];
    Some((
        FlexTensor::from_data(TensorData::new(out, [dims.b, dims.h, sq, d])),
        FlexTensor::from_data(TensorData::new(lse, [shape[0], shape[1], shape[2], 1])),
    ))
}

/// Gradients w.r.t. query, key and value (only those in `want`), or `None`
/// when an input is not `f32`. Per block: `P = exp(S − lse)`,
/// `dV += Pᵀ dO`, `dS = P ⊙ (dO Vᵀ − rowsum(dO ⊙ O)) · scale`, `dQ = dS K`,
/// `dK += dSᵀ Q`.
pub(super) fn backward(
    [query, key, value, out, lse, grad]: [&FlexTensor; 6],
    block: usize,
    want: [bool; 3],
) -> Option<[Option<FlexTensor>; 3]> {
    let (q, k, v) = (values(query)?, values(key)?, values(value)?);
    let (o, lse, dout) = (values(out)?, values(lse)?, values(grad)?);
    let dims = Dims::of(&q, &k, block);
    let (q, k, v, o, lse, dout) = (
        slice(&q),
        slice(&k),
        slice(&v),
        slice(&o),
        slice(&lse),
        slice(&dout),
    );
    let (g, d, sq, sk) = (dims.g(), dims.d, dims.sq, dims.sk);
    let isa = Isa::detect();
    // rowsum(dO ⊙ O) per query row.
    let delta: Vec<f32> = dout
        .par_chunks(d.max(1))
        .zip(o.par_chunks(d.max(1)))
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum())
        .collect();
    // dQ's rows are written once each (dK and dV accumulate over blocks).
    let mut dq = uninit(dims.b * dims.h * sq * d);
    let mut dk = vec![0.0f32; dims.b * dims.kv * sk * d];
    let mut dv = vec![0.0f32; dims.b * dims.kv * sk * d];
    if !dq.is_empty() && !dk.is_empty() {
        dq.par_chunks_mut(g * sq * d)
            .zip(dk.par_chunks_mut(sk * d))
            .zip(dv.par_chunks_mut(sk * d))
            .enumerate()
            .for_each(|(u, ((dq, dk), dv))| {
                widest(|| {
                    let (keys, vals) = (dims.kv_matrix(k, u), dims.kv_matrix(v, u));
                    let (mut probs_buf, mut dprobs_buf) = (Vec::new(), Vec::new());
                    for i in 0..g {
                        for (s0, s1) in dims.blocks() {
                            let (rows, end) = (s1 - s0, dims.seen(s1 - 1));
                            let keys = keys.rows_slice(0, end);
                            let vals = vals.rows_slice(0, end);
                            let q_rows =
                                MatRef::row_major(dims.head_rows(q, u, i, s0, s1), rows, d);
                            let do_rows =
                                MatRef::row_major(dims.head_rows(dout, u, i, s0, s1), rows, d);
                            let row0 = (u * g + i) * sq + s0;
                            // P, recomputed from the saved log-sum-exp.
                            let probs = scratch(&mut probs_buf, rows * end);
                            gemm(isa, q_rows, keys.t(), probs, end, false);
                            for (r, row) in probs.chunks_exact_mut(end).enumerate() {
                                let (visible, hidden) = row.split_at_mut(dims.seen(s0 + r));
                                hidden.fill(0.0);
                                for x in visible.iter_mut() {
                                    *x = crate::fused::exp(*x * dims.scale - lse[row0 + r]);
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
                });
            });
    }
    let tensor =
        |data: Vec<f32>, shape: [usize; 4]| FlexTensor::from_data(TensorData::new(data, shape));
    // SAFETY: with `want[0]`, the blocks of every query head wrote all of dQ.
    #[expect(unsafe_code, reason = "every element was written")]
    let dq = want[0].then(|| unsafe { assume_written(dq) });
    Some([
        dq.map(|dq| tensor(dq, [dims.b, dims.h, sq, d])),
        want[1].then(|| tensor(dk, [dims.b, dims.kv, sk, d])),
        want[2].then(|| tensor(dv, [dims.b, dims.kv, sk, d])),
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

    fn close(a: &FlexTensor, b: &FlexTensor) {
        let (a, b) = (slice(a), slice(b));
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    /// The fused kernel against the one made of backend ops: GQA, more
    /// keys than queries, a block that does not divide the rows.
    #[test]
    fn fused_equals_the_composed_kernel_values_and_gradients() {
        for (sq, sk, block) in [(7, 7, 3), (5, 9, 2), (1, 4, 8), (6, 6, 1)] {
            let q = random([2, 4, sq, 8], 1);
            let k = random([2, 2, sk, 8], 2);
            let v = random([2, 2, sk, 8], 3);
            let grad = random([2, 4, sq, 8], 4);
            let (out, lse) = forward(&q, &k, &v, block).unwrap_or_else(|| unreachable!());
            let (want_out, want_lse) =
                forward_composed::<Flex>(q.clone(), k.clone(), v.clone(), block);
            close(&out, &values(&want_out).unwrap_or_else(|| unreachable!()));
            close(&lse, &values(&want_lse).unwrap_or_else(|| unreachable!()));
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
                close(a, &values(b).unwrap_or_else(|| unreachable!()));
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
