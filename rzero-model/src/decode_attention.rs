//! Attention of one new position per row against the KV cache, for
//! inference on flex.
//!
//! burn's `attention` copies strided keys and values to contiguous memory
//! before it starts, and grouped-query attention on other paths repeats
//! each KV head `h / kv` times; in a decoding step both cost more than the
//! attention itself. This kernel reads the cache's buffers where they lie
//! (any strides with a contiguous last dimension, e.g. the filled prefix of
//! a preallocated buffer), shares each KV head with its query heads, and
//! takes the key padding as an additive bias.
//!
//! For query head `i` of row `b` (KV head `i / (h / kv)`), keys `t < L`:
//! `s_t = q · k_t / √d + bias[b, t]`, `p = softmax(s)` (with the polynomial
//! [`crate::fused::exp`]), `out = Σ_t p_t v_t`.

use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, DType, Dispatch, Flex, backend_extension};
use burn::prelude::*;

use crate::fused::exp;
use crate::small_matmul::kernel::Isa;

/// The extension trait (flex only); call it through [`decode_attention`].
#[backend_extension(Flex)]
pub trait DecodeAttentionBackend: Backend {
    /// query `[b, h, 1, d]`, key and value `[b, kv, L, d]`, bias `[b, L]` →
    /// `[b, h, 1, d]`.
    fn decode_attention(
        query: FloatTensor<Self>,
        key: FloatTensor<Self>,
        value: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

impl DecodeAttentionBackend for Flex {
    fn decode_attention(
        query: FlexTensor,
        key: FlexTensor,
        value: FlexTensor,
        bias: FlexTensor,
    ) -> FlexTensor {
        let query = query.to_contiguous();
        let bias = bias.to_contiguous();
        let key = readable(key);
        let value = readable(value);
        let shape = query.layout().shape().as_slice().to_vec();
        let (b, h, d) = (shape[0], shape[1], shape[3]);
        let out = match (
            query.as_slice::<f32>(),
            bias.as_slice::<f32>(),
            View::of(&key),
            View::of(&value),
        ) {
            (Some(q), Some(bias), Some(k), Some(v)) => attend(q, bias, k, v, [b, h, d]),
            // Not f32: the caller checks the dtype, so this is unreachable.
            _ => vec![f32::NAN; b * h * d],
        };
        FlexTensor::from_data(TensorData::new(out, [b, h, 1, d]))
    }
}

/// `t` itself when [`View::of`] can read it, else a contiguous copy.
fn readable(t: FlexTensor) -> FlexTensor {
    if View::of(&t).is_some() {
        t
    } else {
        t.to_contiguous()
    }
}

/// A `[b, heads, L, d]` f32 tensor read in place: element `(i, j, t, c)` is
/// `data[offset + i·s0 + j·s1 + t·s2 + c]`.
#[derive(Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    offset: usize,
    strides: [usize; 3],
    heads: usize,
    len: usize,
}

impl<'a> View<'a> {
    /// `None` unless f32, 4-d, non-negative strides and a contiguous last dim.
    fn of(t: &'a FlexTensor) -> Option<Self> {
        let layout = t.layout();
        let (shape, strides) = (layout.shape().as_slice(), layout.strides());
        if t.dtype() != DType::F32 || shape.len() != 4 || (strides[3] != 1 && shape[3] > 1) {
            return None;
        }
        let s = |i: usize| usize::try_from(strides[i]).ok();
        Some(Self {
            data: t.storage::<f32>(),
            offset: layout.start_offset(),
            strides: [s(0)?, s(1)?, s(2)?],
            heads: shape[1],
            len: shape[2],
        })
    }

    /// The `d` values at `(row, head, t)`.
    fn at(&self, row: usize, head: usize, t: usize, d: usize) -> &'a [f32] {
        let [s0, s1, s2] = self.strides;
        let start = self.offset + row * s0 + head * s1 + t * s2;
        &self.data[start..start + d]
    }
}

/// Fewest multiply-adds (`b · h · L · d`) for which rows are split over
/// rayon's threads: waking a worker costs more than a short context's
/// attention (see `small_matmul::kernel`'s threshold).
const PARALLEL_MIN_WORK: usize = 1 << 20;

/// The attention of every (row, query head); `[b, h, d]` flattened. Rows
/// go to rayon's threads when the work pays for the hand-off; each row is
/// computed by the same code either way.
fn attend(q: &[f32], bias: &[f32], k: View<'_>, v: View<'_>, [b, h, d]: [usize; 3]) -> Vec<f32> {
    use rayon::prelude::*;
    let mut out = vec![0.0f32; b * h * d];
    if h == 0 || d == 0 {
        return out;
    }
    let isa = Isa::detect();
    let row = |(i, out_row): (usize, &mut [f32]), probs: &mut Vec<f32>| {
        let query = &q[i * h * d..(i + 1) * h * d];
        let bias = &bias[i * k.len..(i + 1) * k.len];
        attend_row(
            isa,
            Row {
                query,
                bias,
                k,
                v,
                i,
                d,
            },
            probs,
            out_row,
        );
    };
    if b * h * k.len * d >= PARALLEL_MIN_WORK {
        out.par_chunks_mut(h * d)
            .enumerate()
            .for_each_init(Vec::new, |probs, item| row(item, probs));
    } else {
        let mut probs = Vec::new();
        out.chunks_mut(h * d)
            .enumerate()
            .for_each(|item| row(item, &mut probs));
    }
    out
}

/// One batch row's inputs.
#[derive(Clone, Copy)]
struct Row<'a> {
    /// `[h, d]`.
    query: &'a [f32],
    /// `[L]`.
    bias: &'a [f32],
    k: View<'a>,
    v: View<'a>,
    /// Batch index into `k` and `v`.
    i: usize,
    d: usize,
}

/// [`attend_heads`] compiled for `isa` (the same loops, wider registers).
fn attend_row(isa: Isa, row: Row<'_>, probs: &mut Vec<f32>, out: &mut [f32]) {
    probs.resize(row.k.len, 0.0);
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            // SAFETY: `Isa::detect` found AVX-512F on this CPU.
            #[expect(
                unsafe_code,
                reason = "calling a target_feature function after detection"
            )]
            unsafe {
                attend_avx512(row, probs, out)
            }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => {
            // SAFETY: `Isa::detect` found AVX2 and FMA on this CPU.
            #[expect(
                unsafe_code,
                reason = "calling a target_feature function after detection"
            )]
            unsafe {
                attend_avx2(row, probs, out)
            }
        }
        _ => attend_heads(row, probs, out),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
fn attend_avx512(row: Row<'_>, probs: &mut [f32], out: &mut [f32]) {
    attend_heads(row, probs, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn attend_avx2(row: Row<'_>, probs: &mut [f32], out: &mut [f32]) {
    attend_heads(row, probs, out);
}

/// Every query head of one row: scores, softmax, weighted values.
#[inline(always)]
fn attend_heads(row: Row<'_>, probs: &mut [f32], out: &mut [f32]) {
    let Row {
        query,
        bias,
        k,
        v,
        i,
        d,
    } = row;
    let h = query.len() / d;
    let group = (h / k.heads.max(1)).max(1);
    let scale = 1.0 / (d as f32).sqrt();
    // Leading padding keys are skipped, not summed as zeros: the partial
    // sums then see a row's real keys in the same lanes whatever padding
    // its batch gave it, so a row's output is the same bits in any batch.
    let first = bias.iter().position(|b| b.is_finite()).unwrap_or(0);
    let (bias, probs) = (&bias[first..], &mut probs[first..]);
    for (head, out_head) in out.chunks_exact_mut(d).enumerate() {
        let kv_head = head / group;
        let q_head = &query[head * d..(head + 1) * d];
        for ((t, p), b) in probs.iter_mut().enumerate().zip(bias) {
            *p = dot(q_head, k.at(i, kv_head, first + t, d)) * scale + b;
        }
        let max = probs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        probs.iter_mut().for_each(|p| *p = exp(*p - max));
        let inv = 1.0 / sum(probs);
        out_head.fill(0.0);
        for (t, &p) in probs.iter().enumerate() {
            for (o, &x) in out_head.iter_mut().zip(v.at(i, kv_head, first + t, d)) {
                *o += p * x;
            }
        }
        out_head.iter_mut().for_each(|o| *o *= inv);
    }
}

/// `Σ a_i b_i` in sixteen interleaved partial sums (one AVX-512 register).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let (a16, b16) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = a16
        .remainder()
        .iter()
        .zip(b16.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a16.zip(b16) {
        for ((acc, &x), &y) in acc.iter_mut().zip(x).zip(y) {
            *acc += x * y;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `Σ a_i` in sixteen interleaved partial sums.
#[inline(always)]
fn sum(a: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let a16 = a.chunks_exact(16);
    let tail: f32 = a16.remainder().iter().sum();
    for x in a16 {
        for (acc, &x) in acc.iter_mut().zip(x) {
            *acc += x;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Attention of one query position per row against `key`/`value` (a
/// decoding step): see the module doc. Only for flex tensors of `f32`
/// ([`crate::small_matmul::uses_small_kernel`]); other backends panic.
///
/// # Shapes
/// - query: `[b, h, 1, d]`; key, value: `[b, kv, L, d]` with `kv | h`;
///   bias: `[b, L]` (0 for a real key, `-inf` for padding) → `[b, h, 1, d]`
pub(crate) fn decode_attention(
    query: Tensor<4>,
    key: Tensor<4>,
    value: Tensor<4>,
    bias: Tensor<2>,
) -> Tensor<4> {
    let out = <Dispatch as DecodeAttentionBackend>::decode_attention(
        query.into_dispatch(),
        key.into_dispatch(),
        value.into_dispatch(),
        bias.into_dispatch(),
    );
    Tensor::from_dispatch(out)
}

#[cfg(test)]
mod tests {
    use burn::tensor::module::attention;
    use burn::tensor::ops::AttentionModuleOptions;
    use burn::tensor::{Distribution, TensorData};

    use super::*;

    fn close(got: Tensor<4>, want: Tensor<4>) {
        let got: Vec<f32> = got
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        let want: Vec<f32> = want
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-5 * (1.0 + w.abs()), "{g} vs {w}");
        }
    }

    /// `[b, kv, t, d]` → `[b, kv · g, t, d]`.
    fn repeat(x: Tensor<4>, g: usize) -> Tensor<4> {
        let [b, kv, t, d] = x.dims();
        x.unsqueeze_dim::<5>(2)
            .expand([b, kv, g, t, d])
            .reshape([b, kv * g, t, d])
    }

    #[test]
    fn matches_burn_attention_on_strided_cache_views_with_padding() {
        let device = Device::flex();
        for (b, h, kv, len, cap, d) in [
            (3, 4, 2, 5, 9, 8),
            (2, 6, 3, 17, 17, 7),
            (1, 2, 2, 1, 4, 32),
        ] {
            let q = Tensor::<4>::random([b, h, 1, d], Distribution::Normal(0.0, 1.0), &device);
            let k_buf =
                Tensor::<4>::random([b, kv, cap, d], Distribution::Normal(0.0, 1.0), &device);
            let v_buf =
                Tensor::<4>::random([b, kv, cap, d], Distribution::Normal(0.0, 1.0), &device);
            let (k, v) = (k_buf.narrow(2, 0, len), v_buf.narrow(2, 0, len));
            // Row 0's first key is padding (when there are two keys or more).
            let mut pad = vec![false; b * len];
            if len > 1 {
                pad[0] = true;
            }
            let mask = Tensor::<2, Bool>::from_data(TensorData::new(pad, [b, len]), &device);
            let bias =
                Tensor::<2>::zeros([b, len], &device).mask_fill(mask.clone(), f32::NEG_INFINITY);
            let got = decode_attention(q.clone(), k.clone(), v.clone(), bias);
            let want = attention(
                q,
                repeat(k, h / kv),
                repeat(v, h / kv),
                Some(mask.reshape([b, 1, 1, len]).expand([b, h, 1, len])),
                None,
                AttentionModuleOptions::default(),
            );
            close(got, want);
        }
    }
}
