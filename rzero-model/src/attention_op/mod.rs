//! Causal self-attention that never holds a `[batch, heads, seq, seq]` score
//! tensor, in the forward pass or (on an autodiff device) the backward.
//!
//! Burn's autodiff differentiates a decomposed fallback of
//! `attention`, which keeps the full scores and softmax of every layer for
//! the backward pass (1 GiB per layer at 4,096 tokens and 16 heads). This
//! op works `block` query rows at a time, each against only the keys it may
//! see, keeps just its inputs, its output and the per-row log-sum-exp, and
//! has its own backward that recomputes each block's probabilities
//! (flash-attention-2 style). Peak extra memory is `O(block × seq)` per head.
//!
//! A burn backend extension like [`crate::lm_head`]: Flex and the CubeCL
//! backends run the block kernel written with backend ops; `Autodiff` adds
//! the recomputing backward.

mod autodiff;
mod flex;
// The layer op (`crate::layer_op`) reuses the kernel in its recomputing backward.
pub(crate) mod kernel;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::prelude::*;

/// Default query rows per block of [`causal_attention`] in the model.
///
/// Measured on 2 CPU cores (one layer of preset M's attention shape, seq
/// 2048, forward + backward): block 64 / 128 / 256 / 512 grew peak memory by
/// 83 / 87 / 107 / 145 MiB (the decomposed path: 587 MiB); 64 and 128 were
/// also the fastest at the tiny model's training shapes.
pub const DEFAULT_ATTENTION_BLOCK: usize = 128;

/// Default shortest sequence for which the model's autodiff forward uses
/// [`causal_attention`] (see [`crate::Qwen3::set_attention_op`]): 0, every
/// length. At the tiny model's training shapes (preset S, 8 rows of 64–300
/// positions) a training step was no slower with the op than with the
/// decomposed path (15–30 % faster from 200 positions on: query blocks skip
/// the keys the causal mask hides), so no threshold is needed.
pub const DEFAULT_ATTENTION_OP_MIN_SEQ: usize = 0;

/// The extension trait; call it through [`causal_attention`].
#[backend_extension(Flex, Autodiff, Cube: cfg(any(feature = "wgpu", feature = "cuda")))]
pub trait CausalAttentionBackend: Backend {
    /// q `[b, h, sq, d]`, k and v `[b, kv, sk, d]` → `[b, h, sq, d]`.
    fn causal_attention(
        query: FloatTensor<Self>,
        key: FloatTensor<Self>,
        value: FloatTensor<Self>,
        block: usize,
    ) -> FloatTensor<Self>;
}

impl CausalAttentionBackend for Flex {
    fn causal_attention(
        query: FloatTensor<Self>,
        key: FloatTensor<Self>,
        value: FloatTensor<Self>,
        block: usize,
    ) -> FloatTensor<Self> {
        kernel::forward::<Self>(query, key, value, block).0
    }
}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
impl CausalAttentionBackend for burn::backend::Cube {
    fn causal_attention(
        query: FloatTensor<Self>,
        key: FloatTensor<Self>,
        value: FloatTensor<Self>,
        block: usize,
    ) -> FloatTensor<Self> {
        kernel::forward::<Self>(query, key, value, block).0
    }
}

/// `softmax(q kᵀ / √d + causal mask) · v`, computed `block` query rows at a
/// time (forward and, on an autodiff device, backward). `block` 0 is treated
/// as 1.
///
/// Grouped-query attention is native: `k` and `v` carry `kv` heads and query
/// head `i` uses KV head `i / (h / kv)` (the layout of repeating each KV head
/// `h / kv` times), so no repeated copy of K and V is made in either pass.
///
/// The causal mask is aligned to the bottom-right corner like burn's
/// `attention(.., is_causal: true)`: query row `i` sees keys
/// `0 ..= i + (sk − sq)`. There is no padding mask; rows packed left-aligned
/// with trailing padding need none.
///
/// # Shapes
/// - query: `[b, h, sq, d]`; key, value: `[b, kv, sk, d]` with `kv` dividing
///   `h` and `sk ≥ sq`; output `[b, h, sq, d]`
///
/// # Panics
/// On shapes that break the rules above.
pub fn causal_attention(
    query: Tensor<4>,
    key: Tensor<4>,
    value: Tensor<4>,
    block: usize,
) -> Tensor<4> {
    let ([b, h, sq, d], [bk, kv, sk, dk], vdims) = (query.dims(), key.dims(), value.dims());
    assert!(
        b == bk && d == dk && vdims == key.dims() && kv > 0 && h % kv == 0 && sk >= sq,
        "causal_attention: query {:?}, key {:?}, value {:?} (need [b, h, sq, d], [b, kv, sk, d] twice, kv | h, sk >= sq)",
        query.dims(),
        key.dims(),
        value.dims()
    );
    let out = <Dispatch as CausalAttentionBackend>::causal_attention(
        query.into_dispatch(),
        key.into_dispatch(),
        value.into_dispatch(),
        block.max(1),
    );
    Tensor::from_dispatch(out)
}
