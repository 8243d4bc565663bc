//! Log-probs of target tokens through the LM head, `chunk` positions at a
//! time, so no `[N, vocab]` logits exist at once: at Qwen3 scale (vocab
//! 151,936) 32k positions of logits are 20 GB per copy.
//!
//! A burn backend extension, because composing burn ops per chunk would still
//! keep every chunk's softmax alive for autodiff; the autodiff impl has its
//! own backward that recomputes each chunk's logits.

mod autodiff;
mod kernel;

use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::prelude::*;

/// The extension trait; call it through [`target_logprobs`].
///
/// Flex runs the chunked kernel, `Autodiff` adds the recomputing backward,
/// and the CubeCL backends (`wgpu`, `cuda` features) run the same kernel
/// written with backend ops.
#[backend_extension(Flex, Autodiff, Cube: cfg(any(feature = "wgpu", feature = "cuda")))]
pub trait LmHeadBackend: Backend {
    /// hidden `[N, d]`, weight `[V, d]`, targets `[N]` → log-probs `[N]`.
    fn target_logprobs(
        hidden: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        targets: IntTensor<Self>,
        chunk: usize,
    ) -> FloatTensor<Self>;
}

impl LmHeadBackend for Flex {
    fn target_logprobs(
        hidden: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        targets: IntTensor<Self>,
        chunk: usize,
    ) -> FloatTensor<Self> {
        kernel::forward::<Self>(hidden, weight, targets, chunk).0
    }
}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
impl LmHeadBackend for burn::backend::Cube {
    fn target_logprobs(
        hidden: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        targets: IntTensor<Self>,
        chunk: usize,
    ) -> FloatTensor<Self> {
        kernel::forward::<Self>(hidden, weight, targets, chunk).0
    }
}

/// `log softmax(hidden · weightᵀ)[i, targets[i]]` for every row `i`, `[N]`,
/// computing logits for at most `chunk` rows at a time (forward and, on an
/// autodiff device, backward). `chunk` 0 is treated as 1.
///
/// # Shapes
/// - hidden: `[N, d]`; weight: `[vocab, d]` (an embedding table, or a
///   `Linear` weight transposed); targets: `[N]`, each `< vocab`
///
/// # Panics
/// On mismatched shapes, as burn's own ops do.
pub fn target_logprobs(
    hidden: Tensor<2>,
    weight: Tensor<2>,
    targets: Tensor<1, Int>,
    chunk: usize,
) -> Tensor<1> {
    let ([n, d], [_, dw], [nt]) = (hidden.dims(), weight.dims(), targets.dims());
    assert!(
        d == dw && n == nt,
        "target_logprobs: hidden {:?}, weight {:?}, targets {:?} (need [N, d], [V, d], [N])",
        hidden.dims(),
        weight.dims(),
        targets.dims()
    );
    let out = <Dispatch as LmHeadBackend>::target_logprobs(
        hidden.into_dispatch(),
        weight.into_dispatch(),
        targets.into_dispatch(),
        chunk.max(1),
    );
    Tensor::from_dispatch(out)
}
