//! `x · w` for a few rows of `x`: the linear projections and LM head of
//! one decoding step.
//!
//! flex's general matmul (the `gemm` crate) packs both operands for every
//! call and is tuned for large products: a decode step's `[16, 256] ·
//! [256, 2048]` took 307 µs there against PyTorch's 52 µs. [`kernel`] keeps
//! each output tile in registers and reads the weight straight from its
//! row-major storage, with the instruction set (AVX-512, AVX2 + FMA, or the
//! baseline target) detected at run time.
//!
//! A burn backend extension like [`crate::lm_head`]: Flex runs the kernel
//! (when both operands are contiguous `f32`); every other backend, autodiff
//! included, runs its own `matmul` through the trait's default body, so the
//! op is differentiable wherever it is called. The model calls it through
//! [`project`] only for inference on flex with at most [`MAX_SMALL_ROWS`]
//! rows.

pub mod kernel;

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, DType, Dispatch, Flex, backend_extension};
use burn::nn::Linear;
use burn::prelude::*;

use kernel::{Dims, Isa};

/// Most rows (tokens) for which [`project`] uses the small-row kernel; more
/// rows (a long scoring batch) go to burn's matmul.
///
/// Measured on the 2-core machine (one thread, loaded): 83–96 GFLOP/s for
/// a 256-row prefill's projections (`[256, 256] · [256, 768]` and the
/// like), where flex's `gemm` reached 78 GFLOP/s on two threads
/// (BURN-NOTES.md), so a prefill of 16 prompts × 16 tokens still gains.
pub const MAX_SMALL_ROWS: usize = 256;

/// The extension trait; call it through [`small_matmul`].
#[backend_extension(Flex, Autodiff, Cube: cfg(any(feature = "wgpu", feature = "cuda")))]
pub trait SmallKernelBackend: Backend {
    /// x `[m, k]`, w `[k, n]` → `[m, n]`. The default is the backend's matmul.
    fn small_matmul(x: FloatTensor<Self>, w: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::float_matmul(x, w)
    }
}

impl SmallKernelBackend for Flex {
    fn small_matmul(x: FloatTensor<Self>, w: FloatTensor<Self>) -> FloatTensor<Self> {
        flex_small_matmul(x, w).unwrap_or_else(|operands| {
            let (x, w) = *operands;
            Self::float_matmul(x, w)
        })
    }
}

/// burn's matmul and its backward.
impl<B: Backend, C: CheckpointStrategy> SmallKernelBackend for Autodiff<B, C> {}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
impl SmallKernelBackend for burn::backend::Cube {}

/// The kernel on flex tensors, or the operands back when they are not
/// contiguous `f32` (a transposed weight view, another dtype).
fn flex_small_matmul(
    x: FlexTensor,
    w: FlexTensor,
) -> std::result::Result<FlexTensor, Box<(FlexTensor, FlexTensor)>> {
    let (&[m, k], &[kw, n]) = (x.layout().shape().as_slice(), w.layout().shape().as_slice()) else {
        return Err(Box::new((x, w)));
    };
    if x.dtype() != DType::F32 || !matches!(w.dtype(), DType::F32 | DType::BF16) || k != kw {
        return Err(Box::new((x, w)));
    }
    // Activations are small; a strided one is copied. The weight is large
    // and read in place, or not at all.
    let x = if x.is_contiguous() {
        x
    } else {
        x.to_contiguous()
    };
    let Some(xs) = x.as_slice::<f32>() else {
        return Err(Box::new((x, w)));
    };
    let mut out = vec![0.0f32; m * n];
    let dims = Dims { m, k, n };
    // A BF16 weight (a frozen copy) is widened as the kernel loads it.
    if let Some(ws) = w.as_slice::<f32>() {
        kernel::matmul_parallel(Isa::detect(), xs, ws, &mut out, dims);
    } else if let Some(ws) = w.as_slice::<burn::tensor::bf16>() {
        kernel::matmul_parallel(Isa::detect(), xs, ws, &mut out, dims);
    } else {
        return Err(Box::new((x, w)));
    }
    Ok(FlexTensor::from_data(TensorData::new(out, [m, n])))
}

/// `x · w` through [`SmallKernelBackend`]: flex's small-row kernel on a
/// flex device, the backend's own matmul elsewhere (autodiff included).
///
/// # Shapes
/// - x: `[m, k]`; w: `[k, n]`; output `[m, n]`
///
/// # Panics
/// When the inner sizes differ.
pub fn small_matmul(x: Tensor<2>, w: Tensor<2>) -> Tensor<2> {
    let ([_, k], [kw, _]) = (x.dims(), w.dims());
    assert!(
        k == kw,
        "small_matmul: x {:?}, w {:?} (need [m, k], [k, n])",
        x.dims(),
        w.dims()
    );
    let out = <Dispatch as SmallKernelBackend>::small_matmul(x.into_dispatch(), w.into_dispatch());
    Tensor::from_dispatch(out)
}

/// Whether `device` runs [`small_matmul`]'s own kernel: flex without
/// autodiff (an autodiff forward keeps burn's matmul and its backward).
pub fn uses_small_kernel(device: &Device) -> bool {
    !device.is_autodiff() && *device == Device::flex()
}

/// `linear(x)`: through [`small_matmul`] when `x` has at most
/// [`MAX_SMALL_ROWS`] rows on an inference flex device, through the packed
/// [`crate::kernels::matmul_t`] otherwise (flex's own kernel, forward and
/// backward, on flex with or without autodiff; the backend's matmul
/// elsewhere). The bias, if any, is added after.
///
/// # Shapes
/// - x: `[..., d_in]` → `[..., d_out]`
pub fn project<const D: usize>(linear: &Linear, x: Tensor<D>) -> Tensor<D> {
    let dims = x.dims();
    let d_in = dims[D - 1];
    let rows = dims[..D - 1].iter().product::<usize>();
    if D < 2 {
        return linear.forward(x);
    }
    let weight = linear.weight.val();
    let d_out = weight.dims()[1];
    let x = x.reshape([rows, d_in]);
    // The small kernel reads a BF16 weight as it is; the packed one widens it.
    let out = if rows <= MAX_SMALL_ROWS && uses_small_kernel(&x.device()) {
        small_matmul(x, weight)
    } else {
        crate::kernels::matmul_t(x, crate::model::widened(weight), false, false)
    };
    let out = match &linear.bias {
        Some(bias) => out + bias.val().unsqueeze::<2>(),
        None => out,
    };
    let mut shape = dims;
    shape[D - 1] = d_out;
    out.reshape(shape)
}
