//! The layer's pieces on backend primitives, each with its backward:
//! RMSNorm, RoPE, SwiGLU and the bias-free linear map.

use burn::backend::tensor::FloatTensor;
use burn::backend::{Shape, Slice, TensorMetadata};

// Every backend here runs its products through `matmul_t` (the packed
// kernel on flex); `KernelBackend` is a `Backend` with that op
// and a vectorised `exp`.
use crate::kernels::KernelBackend as Backend;

/// `t` reshaped to `dims`.
pub(super) fn reshape<B: Backend, const D: usize>(
    t: FloatTensor<B>,
    dims: [usize; D],
) -> FloatTensor<B> {
    B::float_reshape(t, Shape::new(dims))
}

/// A norm weight `[w]` viewed as `[1, …, 1, w]` to broadcast over a rank-`rank` tensor.
fn broadcast_weight<B: Backend>(weight: FloatTensor<B>, rank: usize) -> FloatTensor<B> {
    let width = weight.shape()[0];
    let mut dims = vec![1; rank];
    dims[rank - 1] = width;
    B::float_reshape(weight, Shape::from(dims))
}

/// RMSNorm over the last dim, what backward needs of it.
pub(super) struct Normed<B: Backend> {
    /// `x / r`.
    pub unit: FloatTensor<B>,
    /// `r = √(mean(x²) + eps)`, last dim 1.
    pub rms: FloatTensor<B>,
}

/// `x / √(mean(x²) + eps)` over the last dim (as burn's `RmsNorm`), before
/// the weight; see [`scale`].
pub(super) fn rms_norm<B: Backend>(x: FloatTensor<B>, eps: f64) -> Normed<B> {
    let last = x.shape().num_dims() - 1;
    let square = B::float_mul(x.clone(), x.clone());
    let rms = B::float_sqrt(B::float_add_scalar(
        B::float_mean_dim(square, last),
        eps.into(),
    ));
    Normed {
        unit: B::float_div(x, rms.clone()),
        rms,
    }
}

/// `x ⊙ weight` with `weight` `[w]` broadcast over `x`'s last dim.
pub(super) fn scale<B: Backend>(x: FloatTensor<B>, weight: &FloatTensor<B>) -> FloatTensor<B> {
    let rank = x.shape().num_dims();
    B::float_mul(x, broadcast_weight::<B>(weight.clone(), rank))
}

/// Backward of `y = (x / r) ⊙ g`: `dg = Σ dy ⊙ x̂` over every dim but the
/// last (if `want_weight`), `dx = (dy ⊙ g − x̂ · mean(dy ⊙ g ⊙ x̂)) / r`.
pub(super) fn rms_norm_backward<B: Backend>(
    grad: FloatTensor<B>,
    normed: &Normed<B>,
    weight: &FloatTensor<B>,
    want_weight: bool,
) -> (FloatTensor<B>, Option<FloatTensor<B>>) {
    let shape = grad.shape();
    let (rank, width) = (shape.num_dims(), shape[shape.num_dims() - 1]);
    let d_weight = want_weight.then(|| {
        let prod = B::float_mul(grad.clone(), normed.unit.clone());
        let rows = shape.num_elements() / width.max(1);
        let summed = B::float_sum_dim(reshape::<B, 2>(prod, [rows, width]), 0);
        reshape::<B, 1>(summed, [width])
    });
    let d_unit = scale::<B>(grad, weight);
    let dot = B::float_mean_dim(B::float_mul(d_unit.clone(), normed.unit.clone()), rank - 1);
    let d_x = B::float_div(
        B::float_sub(d_unit, B::float_mul(normed.unit.clone(), dot)),
        normed.rms.clone(),
    );
    (d_x, d_weight)
}

/// `[x₂, x₁]` for `x = [x₁, x₂]` split at the middle of the last dim
/// (a permutation that is its own transpose).
fn swap_halves<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    let shape = x.shape();
    let rank = shape.num_dims();
    let half = shape[rank - 1] / 2;
    let part = |range: core::ops::Range<usize>| {
        let mut slices = vec![Slice::full(); rank];
        slices[rank - 1] = Slice::from(range);
        B::float_slice(x.clone(), &slices)
    };
    let (first, second) = (part(0..half), part(half..2 * half));
    B::float_cat(vec![second, first], rank - 1)
}

/// `x ⊙ cos + swap_halves(x) ⊙ signed_sin` (HF `rotate_half` RoPE).
pub(super) fn rope<B: Backend>(
    x: FloatTensor<B>,
    cos: &FloatTensor<B>,
    signed_sin: &FloatTensor<B>,
) -> FloatTensor<B> {
    let swapped = swap_halves::<B>(x.clone());
    B::float_add(
        B::float_mul(x, cos.clone()),
        B::float_mul(swapped, signed_sin.clone()),
    )
}

/// Transpose of [`rope`]: `dy ⊙ cos + swap_halves(dy ⊙ signed_sin)`.
pub(super) fn rope_backward<B: Backend>(
    grad: FloatTensor<B>,
    cos: &FloatTensor<B>,
    signed_sin: &FloatTensor<B>,
) -> FloatTensor<B> {
    let rotated = swap_halves::<B>(B::float_mul(grad.clone(), signed_sin.clone()));
    B::float_add(B::float_mul(grad, cos.clone()), rotated)
}

/// `silu(gate) ⊙ up`.
pub(super) fn swiglu<B: Backend>(gate: FloatTensor<B>, up: FloatTensor<B>) -> FloatTensor<B> {
    B::silu_mul(gate, up)
}

/// Backward of [`swiglu`]: `(d gate, d up)`.
pub(super) fn swiglu_backward<B: Backend>(
    grad: FloatTensor<B>,
    gate: FloatTensor<B>,
    up: FloatTensor<B>,
) -> (FloatTensor<B>, FloatTensor<B>) {
    B::silu_mul_backward(grad, gate, up)
}

/// Backward of `y = x · W` (x `[n, in]`, W `[in, out]`): `dx = dy · Wᵀ` and,
/// if `want_weight`, `dW = xᵀ · dy`.
pub(super) fn linear_backward<B: Backend>(
    grad: FloatTensor<B>,
    x: &FloatTensor<B>,
    weight: &FloatTensor<B>,
    want_weight: bool,
) -> (FloatTensor<B>, Option<FloatTensor<B>>) {
    let d_weight = want_weight.then(|| B::matmul_t(x.clone(), grad.clone(), true, false));
    let d_x = B::matmul_t(grad, weight.clone(), false, true);
    (d_x, d_weight)
}
