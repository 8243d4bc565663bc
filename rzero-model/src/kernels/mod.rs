//! The backend ops rzero's own kernels plug into burn with: the packed
//! matmul ([`crate::gemm`]) with either operand transposed, a vectorised
//! `exp`, and fused `silu(gate) ⊙ up` and RMSNorm with their backwards.
//!
//! A burn backend extension: flex runs the kernels; `Autodiff` adds
//! backwards made of the same kernels (burn's autodiff would keep and walk
//! one node per composed op); other backends use their own ops (the trait's default bodies). The
//! model's kernels ([`crate::lm_head`], [`crate::attention_op`],
//! [`crate::layer_op`]) are written against [`KernelBackend`].
//!
//! ```
//! use burn::prelude::*;
//! use rzero_model::kernels::matmul_t;
//!
//! let device = Device::flex();
//! let x = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &device);
//! let w = Tensor::<2>::from_floats([[1.0, 0.0], [1.0, 1.0]], &device);
//! // x · wᵀ
//! let y = matmul_t(x.clone(), w.clone(), false, true);
//! y.into_data().assert_approx_eq::<f32>(&x.matmul(w.transpose()).into_data(), Default::default());
//! ```

mod autodiff;
mod rope;
mod widest;

pub(crate) use widest::widest;

use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, DType, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::nn::RmsNorm;
use burn::prelude::*;

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::gemm::{MatRef, matmul_vec};
use crate::small_matmul::kernel::Isa;

/// The extension trait; call the matmul through [`matmul_t`].
#[backend_extension(Flex, Autodiff, Cube: cfg(any(feature = "wgpu", feature = "cuda")))]
pub trait KernelBackend: Backend {
    /// `op(a) · op(b)` for 2-D `a`, `b`; `op` transposes where `ta` / `tb`.
    /// The default is the backend's own matmul.
    fn matmul_t(
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        ta: bool,
        tb: bool,
    ) -> FloatTensor<Self> {
        matmul_composed::<Self>(a, b, ta, tb)
    }

    /// `eˣ` element-wise. The default is the backend's `exp`; flex's is
    /// [`crate::fused::exp`] (3 ulp, vectorised; 0 below the normal range).
    fn exp(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::float_exp(x)
    }

    /// `silu(gate) ⊙ up`, both the same shape. The default composes the
    /// backend's ops; flex runs one fused pass.
    fn silu_mul(gate: FloatTensor<Self>, up: FloatTensor<Self>) -> FloatTensor<Self> {
        silu_mul_composed::<Self>(gate, up)
    }

    /// `(d gate, d up)` of [`KernelBackend::silu_mul`] given `d out`:
    /// `d up = dy ⊙ silu(g)`, `d gate = dy ⊙ up ⊙ σ(g) · (1 + g · (1 − σ(g)))`.
    fn silu_mul_backward(
        grad: FloatTensor<Self>,
        gate: FloatTensor<Self>,
        up: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        silu_mul_backward_composed::<Self>(grad, gate, up)
    }

    /// RMSNorm over the last dim, `x / √(mean(x²) + eps) ⊙ gamma`, as burn's
    /// `RmsNorm`. The default composes the backend's ops; flex runs one pass.
    fn rms_norm(x: FloatTensor<Self>, gamma: FloatTensor<Self>, eps: f64) -> FloatTensor<Self> {
        rms_norm_composed::<Self>(x, gamma, eps)
    }

    /// `(d x, d gamma)` of [`KernelBackend::rms_norm`] given `d out`
    /// (`x̂ = x / r`): `d gamma = Σ dy ⊙ x̂` over rows,
    /// `d x = (dy ⊙ gamma − x̂ · mean(dy ⊙ gamma ⊙ x̂)) / r`.
    fn rms_norm_backward(
        grad: FloatTensor<Self>,
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        eps: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        rms_norm_backward_composed::<Self>(grad, x, gamma, eps)
    }

    /// Rotary embedding, `x ⊙ cos + rotate_half(x) ⊙ signed_sin` (see
    /// [`crate::model::Rope`]): x `[b, h, s, d]`, tables `[b, 1, s, d]`.
    /// The default composes the backend's ops; flex runs one pass that
    /// reads `x` through its strides (a heads-swapped view costs no copy).
    /// Its backward is the same op with the sine table's halves swapped.
    fn rope(
        x: FloatTensor<Self>,
        cos: FloatTensor<Self>,
        signed_sin: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        rope::composed::<Self>(x, cos, signed_sin)
    }
}

/// [`KernelBackend::matmul_t`] from the backend's own ops.
fn matmul_composed<B: Backend>(
    a: FloatTensor<B>,
    b: FloatTensor<B>,
    ta: bool,
    tb: bool,
) -> FloatTensor<B> {
    let a = if ta { B::float_swap_dims(a, 0, 1) } else { a };
    let b = if tb { B::float_swap_dims(b, 0, 1) } else { b };
    B::float_matmul(a, b)
}

/// `gamma` `[d]` viewed as `[1, …, 1, d]` for a rank-`rank` tensor.
fn broadcast_last<B: Backend>(gamma: FloatTensor<B>, rank: usize) -> FloatTensor<B> {
    let width = gamma.shape()[0];
    let mut dims = vec![1; rank];
    dims[rank - 1] = width;
    B::float_reshape(gamma, burn::backend::Shape::from(dims))
}

/// `(x / r, r)`, `r = √(mean(x²) + eps)` over the last dim (kept, size 1).
fn rms_unit<B: Backend>(x: FloatTensor<B>, eps: f64) -> (FloatTensor<B>, FloatTensor<B>) {
    let last = x.shape().num_dims() - 1;
    let square = B::float_mul(x.clone(), x.clone());
    let rms = B::float_sqrt(B::float_add_scalar(
        B::float_mean_dim(square, last),
        eps.into(),
    ));
    (B::float_div(x, rms.clone()), rms)
}

/// [`KernelBackend::rms_norm`] from the backend's own ops.
fn rms_norm_composed<B: Backend>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    eps: f64,
) -> FloatTensor<B> {
    let rank = x.shape().num_dims();
    B::float_mul(rms_unit::<B>(x, eps).0, broadcast_last::<B>(gamma, rank))
}

/// [`KernelBackend::rms_norm_backward`] from the backend's own ops.
fn rms_norm_backward_composed<B: Backend>(
    grad: FloatTensor<B>,
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    eps: f64,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let shape = grad.shape();
    let (rank, width) = (shape.num_dims(), shape[shape.num_dims() - 1]);
    let (unit, rms) = rms_unit::<B>(x, eps);
    let rows = shape.num_elements() / width.max(1);
    let prod = B::float_mul(grad.clone(), unit.clone());
    let flat = B::float_reshape(prod, burn::backend::Shape::new([rows, width]));
    let d_gamma = B::float_reshape(
        B::float_sum_dim(flat, 0),
        burn::backend::Shape::new([width]),
    );
    let d_unit = B::float_mul(grad, broadcast_last::<B>(gamma, rank));
    let dot = B::float_mean_dim(B::float_mul(d_unit.clone(), unit.clone()), rank - 1);
    let d_x = B::float_div(B::float_sub(d_unit, B::float_mul(unit, dot)), rms);
    (d_x, d_gamma)
}

/// [`KernelBackend::silu_mul`] from the backend's own ops.
fn silu_mul_composed<B: Backend>(gate: FloatTensor<B>, up: FloatTensor<B>) -> FloatTensor<B> {
    let silu = B::float_mul(gate.clone(), B::sigmoid(gate));
    B::float_mul(silu, up)
}

/// [`KernelBackend::silu_mul_backward`] from the backend's own ops.
fn silu_mul_backward_composed<B: Backend>(
    grad: FloatTensor<B>,
    gate: FloatTensor<B>,
    up: FloatTensor<B>,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let sigmoid = B::sigmoid(gate.clone());
    let silu = B::float_mul(gate.clone(), sigmoid.clone());
    let d_up = B::float_mul(grad.clone(), silu);
    let one_minus = B::float_add_scalar(B::float_neg(sigmoid.clone()), 1.0.into());
    let slope = B::float_mul(
        sigmoid,
        B::float_add_scalar(B::float_mul(gate, one_minus), 1.0.into()),
    );
    let d_gate = B::float_mul(B::float_mul(grad, up), slope);
    (d_gate, d_up)
}

impl KernelBackend for Flex {
    fn rope(x: FlexTensor, cos: FlexTensor, signed_sin: FlexTensor) -> FlexTensor {
        match rope::flex(&x, &cos, &signed_sin) {
            Some(out) => out,
            None => rope::composed::<Self>(x, cos, signed_sin),
        }
    }

    fn matmul_t(
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        ta: bool,
        tb: bool,
    ) -> FloatTensor<Self> {
        flex_matmul(a, b, ta, tb).unwrap_or_else(|operands| {
            let (a, b) = *operands;
            matmul_composed::<Self>(a, b, ta, tb)
        })
    }

    fn exp(x: FloatTensor<Self>) -> FloatTensor<Self> {
        if x.dtype() != DType::F32 {
            return Self::float_exp(x);
        }
        let x = if x.is_contiguous() {
            x
        } else {
            x.to_contiguous()
        };
        let shape = x.layout().shape().clone();
        match x.as_slice::<f32>() {
            Some(v) => {
                let out = par_zip_map(v, v, |v, _| crate::fused::exp(v));
                FlexTensor::from_data(TensorData::new(out, shape))
            }
            None => Self::float_exp(x),
        }
    }

    fn silu_mul(gate: FlexTensor, up: FlexTensor) -> FlexTensor {
        if !same_f32(&[&gate, &up]) {
            return silu_mul_composed::<Self>(gate, up);
        }
        let (gate, up) = (contiguous(gate), contiguous(up));
        let (Some(g), Some(u)) = (gate.as_slice::<f32>(), up.as_slice::<f32>()) else {
            return silu_mul_composed::<Self>(gate, up);
        };
        let out = par_zip_map(g, u, |g, u| g / (1.0 + crate::fused::exp(-g)) * u);
        FlexTensor::from_data(TensorData::new(out, gate.layout().shape().clone()))
    }

    fn silu_mul_backward(
        grad: FlexTensor,
        gate: FlexTensor,
        up: FlexTensor,
    ) -> (FlexTensor, FlexTensor) {
        if !same_f32(&[&grad, &gate, &up]) {
            return silu_mul_backward_composed::<Self>(grad, gate, up);
        }
        let (grad, gate, up) = (contiguous(grad), contiguous(gate), contiguous(up));
        let (Some(dy), Some(g), Some(u)) = (
            grad.as_slice::<f32>(),
            gate.as_slice::<f32>(),
            up.as_slice::<f32>(),
        ) else {
            return silu_mul_backward_composed::<Self>(grad, gate, up);
        };
        let (mut d_gate, mut d_up) = (uninit(g.len()), uninit(g.len()));
        // Chunks split over rayon's threads; each inner loop vectorises.
        d_gate
            .par_chunks_mut(CHUNK)
            .zip(d_up.par_chunks_mut(CHUNK))
            .zip(
                dy.par_chunks(CHUNK)
                    .zip(g.par_chunks(CHUNK))
                    .zip(u.par_chunks(CHUNK)),
            )
            .for_each(|((d_gate, d_up), ((dy, g), u))| {
                widest(
                    #[inline(always)]
                    || {
                        let outs = d_gate.iter_mut().zip(d_up.iter_mut());
                        for ((dg, du), ((&dy, &g), &u)) in outs.zip(dy.iter().zip(g).zip(u)) {
                            let s = 1.0 / (1.0 + crate::fused::exp(-g));
                            du.write(dy * g * s);
                            dg.write(dy * u * s * (1.0 + g * (1.0 - s)));
                        }
                    },
                );
            });
        // SAFETY: the four inputs have `g.len()` elements (same shape) and
        // the blocks wrote every element of both.
        #[expect(unsafe_code, reason = "every element was written")]
        let (d_gate, d_up) = unsafe { (assume_written(d_gate), assume_written(d_up)) };
        let shape = gate.layout().shape().clone();
        (
            FlexTensor::from_data(TensorData::new(d_gate, shape.clone())),
            FlexTensor::from_data(TensorData::new(d_up, shape)),
        )
    }

    fn rms_norm(x: FlexTensor, gamma: FlexTensor, eps: f64) -> FlexTensor {
        let width = gamma.layout().shape().num_elements();
        if !same_f32(&[&x])
            || gamma.dtype() != DType::F32
            || x.layout().shape().last() != Some(&width)
        {
            return rms_norm_composed::<Self>(x, gamma, eps);
        }
        let (x, gamma) = (contiguous(x), contiguous(gamma));
        let (Some(xs), Some(g)) = (x.as_slice::<f32>(), gamma.as_slice::<f32>()) else {
            return rms_norm_composed::<Self>(x, gamma, eps);
        };
        let mut out = uninit(xs.len());
        let task = row_block(width);
        out.par_chunks_mut(task)
            .zip(xs.par_chunks(task))
            .for_each(|(out, xs)| {
                widest(
                    #[inline(always)]
                    || {
                        for (row, out) in xs.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
                            let inv = 1.0 / row_rms(row, eps);
                            for ((o, &v), &g) in out.iter_mut().zip(row).zip(g) {
                                o.write(v * inv * g);
                            }
                        }
                    },
                );
            });
        // SAFETY: `xs` is whole rows of `width` (its last dimension), and
        // every row of `out` was written.
        #[expect(unsafe_code, reason = "every element was written")]
        let out = unsafe { assume_written(out) };
        FlexTensor::from_data(TensorData::new(out, x.layout().shape().clone()))
    }

    fn rms_norm_backward(
        grad: FlexTensor,
        x: FlexTensor,
        gamma: FlexTensor,
        eps: f64,
    ) -> (FlexTensor, FlexTensor) {
        let width = gamma.layout().shape().num_elements();
        if !same_f32(&[&grad, &x])
            || gamma.dtype() != DType::F32
            || x.layout().shape().last() != Some(&width)
        {
            return rms_norm_backward_composed::<Self>(grad, x, gamma, eps);
        }
        let (grad, x, gamma) = (contiguous(grad), contiguous(x), contiguous(gamma));
        let (Some(dy), Some(xs), Some(g)) = (
            grad.as_slice::<f32>(),
            x.as_slice::<f32>(),
            gamma.as_slice::<f32>(),
        ) else {
            return rms_norm_backward_composed::<Self>(grad, x, gamma, eps);
        };
        let mut d_x = uninit(xs.len());
        // Row blocks over rayon's threads, each with its own `d gamma`,
        // summed after in block order (the same sum whatever the threads).
        let task = row_block(width);
        let parts: Vec<Vec<f32>> = d_x
            .par_chunks_mut(task)
            .zip(xs.par_chunks(task).zip(dy.par_chunks(task)))
            .map(|(d_x, (xs, dy))| {
                widest(
                    #[inline(always)]
                    || rms_norm_backward_rows(d_x, xs, dy, g, eps),
                )
            })
            .collect();
        // SAFETY: as in `rms_norm`: every row of `d_x` was written.
        #[expect(unsafe_code, reason = "every element was written")]
        let d_x = unsafe { assume_written(d_x) };
        let mut d_gamma = vec![0.0f32; width];
        for part in parts {
            d_gamma.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
        }
        let shape = x.layout().shape().clone();
        (
            FlexTensor::from_data(TensorData::new(d_x, shape)),
            FlexTensor::from_data(TensorData::new(d_gamma, [width])),
        )
    }
}

/// [`KernelBackend::rms_norm_backward`] on a block of rows: writes `d x`,
/// returns the block's `d gamma`.
#[inline(always)]
fn rms_norm_backward_rows(
    d_x: &mut [MaybeUninit<f32>],
    xs: &[f32],
    dy: &[f32],
    g: &[f32],
    eps: f64,
) -> Vec<f32> {
    let width = g.len();
    let mut d_gamma = vec![0.0f32; width];
    let rows = xs.chunks_exact(width).zip(dy.chunks_exact(width));
    for ((row, dy), d_x) in rows.zip(d_x.chunks_exact_mut(width)) {
        let inv = 1.0 / row_rms(row, eps);
        for ((&v, &dy), dg) in row.iter().zip(dy).zip(d_gamma.iter_mut()) {
            *dg += dy * (v * inv);
        }
        let mean = lane_dot3(dy, g, row) * inv / width as f32;
        for (((d, &v), &dy), &g) in d_x.iter_mut().zip(row).zip(dy).zip(g) {
            d.write((dy * g - v * inv * mean) * inv);
        }
    }
    d_gamma
}

/// `Σ a[i] · b[i] · c[i]`, summed in 16 lanes so the loop vectorises (one
/// running sum, a chain of dependent adds, made the RMSNorm backward half
/// as slow again).
#[inline(always)]
fn lane_dot3(a: &[f32], b: &[f32], c: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut lanes = [0.0f32; LANES];
    let (ca, cb, cc) = (
        a.chunks_exact(LANES),
        b.chunks_exact(LANES),
        c.chunks_exact(LANES),
    );
    let tail: f32 = (ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .zip(cc.remainder()))
    .map(|((a, b), c)| a * b * c)
    .sum();
    for ((a, b), c) in ca.zip(cb).zip(cc) {
        for (((l, &a), &b), &c) in lanes.iter_mut().zip(a).zip(b).zip(c) {
            *l += a * b * c;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// `√(mean(row²) + eps)`, summed in 8 lanes so the loop vectorises.
#[inline(always)]
fn row_rms(row: &[f32], eps: f64) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = row.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().map(|v| v * v).sum();
    for chunk in chunks {
        for (l, &v) in lanes.iter_mut().zip(chunk) {
            *l += v * v;
        }
    }
    let mean = (lanes.iter().sum::<f32>() + tail) / row.len().max(1) as f32;
    (mean + eps as f32).sqrt()
}

/// `f(a[i], b[i])` for every `i` of the shorter slice, in blocks over
/// rayon's threads, each block's loop vectorised by [`widest`], written
/// into the new vector (no zeroing first).
fn par_zip_map(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32 + Sync) -> Vec<f32> {
    let len = a.len().min(b.len());
    let mut out = uninit(len);
    out.par_chunks_mut(CHUNK)
        .zip(a[..len].par_chunks(CHUNK).zip(b[..len].par_chunks(CHUNK)))
        .for_each(|(out, (a, b))| {
            widest(
                #[inline(always)]
                || {
                    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
                        o.write(f(a, b));
                    }
                },
            );
        });
    // SAFETY: the blocks cover `out`, and each wrote every element.
    #[expect(unsafe_code, reason = "every element was written")]
    let out = unsafe { assume_written(out) };
    out
}

/// `len` floats for a kernel that writes each of them before
/// [`assume_written`]: a fresh `vec![0.0; len]` is zeroed first, a `memset`
/// measured at 2–3 % of a forward pass or training step.
pub(crate) fn uninit(len: usize) -> Vec<MaybeUninit<f32>> {
    std::iter::repeat_with(MaybeUninit::uninit)
        .take(len)
        .collect()
}

/// `v` as the floats written into it.
///
/// # Safety
/// Every element of `v` was written.
#[expect(unsafe_code, reason = "the caller wrote every element")]
pub(crate) unsafe fn assume_written(v: Vec<MaybeUninit<f32>>) -> Vec<f32> {
    let mut v = std::mem::ManuallyDrop::new(v);
    let (ptr, len, capacity) = (v.as_mut_ptr(), v.len(), v.capacity());
    // SAFETY: `MaybeUninit<f32>` has `f32`'s layout, the buffer came from
    // this allocator with this capacity, and the caller wrote all `len`.
    unsafe { Vec::from_raw_parts(ptr.cast::<f32>(), len, capacity) }
}

/// Elements per rayon task of a row-wise kernel: whole rows, about `CHUNK`.
fn row_block(width: usize) -> usize {
    width * (CHUNK / width.max(1)).max(1)
}

/// Elements per rayon task in the element-wise kernels.
const CHUNK: usize = 1 << 14;

/// Whether every tensor is `f32` with the first one's shape.
fn same_f32(tensors: &[&FlexTensor]) -> bool {
    let shape = tensors[0].layout().shape();
    tensors
        .iter()
        .all(|t| t.dtype() == DType::F32 && t.layout().shape() == shape)
}

/// `t`, copied to row-major order if it is strided.
fn contiguous(t: FlexTensor) -> FlexTensor {
    if t.is_contiguous() {
        t
    } else {
        t.to_contiguous()
    }
}

/// A flex tensor as a 2-D view (transposed where `t`), when it is
/// contiguous `f32` and 2-D.
fn view(x: &FlexTensor, t: bool) -> Option<MatRef<'_>> {
    let &[rows, cols] = x.layout().shape().as_slice() else {
        return None;
    };
    let data = x.as_slice::<f32>()?;
    let m = MatRef::row_major(data, rows, cols);
    Some(if t { m.t() } else { m })
}

/// The packed kernel on flex tensors, or the operands back when they are
/// not 2-D `f32` with matching inner sizes.
fn flex_matmul(
    a: FlexTensor,
    b: FlexTensor,
    ta: bool,
    tb: bool,
) -> std::result::Result<FlexTensor, Box<(FlexTensor, FlexTensor)>> {
    if a.dtype() != DType::F32 || b.dtype() != DType::F32 {
        return Err(Box::new((a, b)));
    }
    let (a, b) = (contiguous(a), contiguous(b));
    let (Some(va), Some(vb)) = (view(&a, ta), view(&b, tb)) else {
        return Err(Box::new((a, b)));
    };
    if va.cols != vb.rows {
        return Err(Box::new((a, b)));
    }
    let (m, n) = (va.rows, vb.cols);
    let out = matmul_vec(Isa::detect(), va, vb);
    Ok(FlexTensor::from_data(TensorData::new(out, [m, n])))
}

/// `op(a) · op(b)`, `op` the transpose where `ta` / `tb` is set: the packed
/// kernel on flex (and in the backward pass on flex's autodiff), the
/// backend's matmul elsewhere.
///
/// # Shapes
/// - `op(a)`: `[m, k]`; `op(b)`: `[k, n]`; output `[m, n]`
///
/// # Panics
/// When the inner sizes differ.
pub fn matmul_t(a: Tensor<2>, b: Tensor<2>, ta: bool, tb: bool) -> Tensor<2> {
    let ([ar, ac], [br, bc]) = (a.dims(), b.dims());
    let ka = if ta { ar } else { ac };
    let kb = if tb { bc } else { br };
    assert!(
        ka == kb,
        "matmul_t: a {:?} (transposed: {ta}), b {:?} (transposed: {tb})",
        a.dims(),
        b.dims()
    );
    let out = <Dispatch as KernelBackend>::matmul_t(a.into_dispatch(), b.into_dispatch(), ta, tb);
    Tensor::from_dispatch(out)
}

/// [`KernelBackend::rope`] on burn tensors.
///
/// # Shapes
/// - x: `[b, h, s, d]`, `d` even; cos, signed_sin: `[b, 1, s, d]`; output
///   `[b, h, s, d]`
pub fn rope(x: Tensor<4>, cos: Tensor<4>, signed_sin: Tensor<4>) -> Tensor<4> {
    let out = <Dispatch as KernelBackend>::rope(
        x.into_dispatch(),
        cos.into_dispatch(),
        signed_sin.into_dispatch(),
    );
    Tensor::from_dispatch(out)
}

/// `norm(x)` through [`KernelBackend::rms_norm`]: one fused pass on flex
/// (forward and backward), burn's composed ops elsewhere; as
/// [`RmsNorm::forward`].
///
/// # Shapes
/// - x: `[..., d]`, `d` the norm's width → the same shape
pub fn rms_norm<const D: usize>(norm: &RmsNorm, x: Tensor<D>) -> Tensor<D> {
    let out = <Dispatch as KernelBackend>::rms_norm(
        x.into_dispatch(),
        norm.gamma.val().into_dispatch(),
        norm.epsilon,
    );
    Tensor::from_dispatch(out)
}
