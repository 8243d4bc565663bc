//! A whole Qwen3 decoder layer as one op whose backward recomputes the layer
//! from its input (layer recomputation, "activation checkpointing").
//!
//! On an autodiff device burn keeps every intermediate of every layer for
//! the backward pass: at Qwen3-0.6B shapes (hidden 1024, 16 / 8 heads of
//! 128, FFN 3072) about 143 KB per token per layer, 16 GB for 28 layers at
//! 4,096 tokens. This op keeps only the layer's input (`4 · hidden` bytes
//! per token, 4 KB at hidden 1024) and its weights (held by the model
//! anyway); its backward runs the layer forward again, one layer at a time,
//! and back-propagates through it by hand. The cost is one more forward
//! pass of the layer stack.
//!
//! burn cannot nest autodiff inside a backward step, and its own operation
//! checkpointing only recomputes element-wise ops, so the layer's backward
//! is written out (`kernel.rs`): RMSNorm, per-head RMSNorm, RoPE (its
//! transpose), the block-wise attention's own backward
//! ([`crate::attention_op`]), SwiGLU and the seven projections.
//!
//! The weights are op inputs, so their gradients flow on to whatever built
//! them: a LoRA-adapted weight `W + s·A·B` passes its gradient to `A` and `B`.

mod autodiff;
mod kernel;
mod parts;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, ExtensionType, Flex, backend_extension};
use burn::prelude::*;

use crate::model::{DecoderLayer, Rope};

/// Default shortest sequence for which the model recomputes its layers in
/// the backward pass (see [`crate::Qwen3::set_recompute`]): `usize::MAX`,
/// never (the caller chooses when memory matters more than one extra
/// forward pass).
pub const DEFAULT_RECOMPUTE_MIN_SEQ: usize = usize::MAX;

/// A decoder layer's weight tensors, burn layout (`Linear` weights
/// `[in, out]`, norm weights `[width]`).
#[derive(ExtensionType, Debug, Clone)]
pub struct LayerWeights<B: Backend> {
    /// `input_layernorm`, `[hidden]`.
    pub input_norm: FloatTensor<B>,
    /// `q_proj`, `[hidden, heads · head_dim]`.
    pub q_proj: FloatTensor<B>,
    /// `k_proj`, `[hidden, kv_heads · head_dim]`.
    pub k_proj: FloatTensor<B>,
    /// `v_proj`, `[hidden, kv_heads · head_dim]`.
    pub v_proj: FloatTensor<B>,
    /// `q_norm`, `[head_dim]`.
    pub q_norm: FloatTensor<B>,
    /// `k_norm`, `[head_dim]`.
    pub k_norm: FloatTensor<B>,
    /// `o_proj`, `[heads · head_dim, hidden]`.
    pub o_proj: FloatTensor<B>,
    /// `post_attention_layernorm`, `[hidden]`.
    pub post_norm: FloatTensor<B>,
    /// `gate_proj`, `[hidden, intermediate]`.
    pub gate_proj: FloatTensor<B>,
    /// `up_proj`, `[hidden, intermediate]`.
    pub up_proj: FloatTensor<B>,
    /// `down_proj`, `[intermediate, hidden]`.
    pub down_proj: FloatTensor<B>,
}

/// Number of weight tensors in [`LayerWeights`].
pub(crate) const NUM_WEIGHTS: usize = 11;

impl<B: Backend> LayerWeights<B> {
    /// The weights in declaration order.
    pub(crate) fn into_array(self) -> [FloatTensor<B>; NUM_WEIGHTS] {
        [
            self.input_norm,
            self.q_proj,
            self.k_proj,
            self.v_proj,
            self.q_norm,
            self.k_norm,
            self.o_proj,
            self.post_norm,
            self.gate_proj,
            self.up_proj,
            self.down_proj,
        ]
    }

    /// Inverse of [`LayerWeights::into_array`].
    pub(crate) fn from_array(weights: [FloatTensor<B>; NUM_WEIGHTS]) -> Self {
        let [
            input_norm,
            q_proj,
            k_proj,
            v_proj,
            q_norm,
            k_norm,
            o_proj,
            post_norm,
            gate_proj,
            up_proj,
            down_proj,
        ] = weights;
        Self {
            input_norm,
            q_proj,
            k_proj,
            v_proj,
            q_norm,
            k_norm,
            o_proj,
            post_norm,
            gate_proj,
            up_proj,
            down_proj,
        }
    }
}

/// RoPE tables, `[batch, 1, seq, head_dim]` each (see `model/rope.rs`).
#[derive(ExtensionType, Debug, Clone)]
pub struct RopeTables<B: Backend> {
    /// `cos(angle)`.
    pub cos: FloatTensor<B>,
    /// `[-sin, sin]` over the two halves (`rotate_half`'s sign folded in).
    pub signed_sin: FloatTensor<B>,
}

/// The sizes and constants of a layer that its weights do not carry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerSpec {
    /// Query heads.
    pub num_heads: usize,
    /// Key/value heads (dividing `num_heads`).
    pub num_kv_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// RMSNorm epsilons: input, post-attention, q, k.
    pub eps: [f64; 4],
    /// Query rows per block of the attention kernel.
    pub block: usize,
}

/// The extension trait; the model calls it on an autodiff device when
/// recomputation is on (see [`crate::Qwen3::set_recompute`]).
#[backend_extension(Flex, Autodiff, Cube: cfg(any(feature = "wgpu", feature = "cuda")))]
pub trait DecoderLayerBackend: Backend {
    /// `out = h + mlp(norm₂(h))`, `h = x + attn(norm₁(x))` for x
    /// `[batch, seq, hidden]`, causal, no padding mask.
    fn decoder_layer(
        x: FloatTensor<Self>,
        #[extension_type] weights: LayerWeights<Self>,
        #[extension_type] rope: RopeTables<Self>,
        spec: LayerSpec,
    ) -> FloatTensor<Self>;
}

impl DecoderLayerBackend for Flex {
    fn decoder_layer(
        x: FloatTensor<Self>,
        weights: LayerWeights<Self>,
        rope: RopeTables<Self>,
        spec: LayerSpec,
    ) -> FloatTensor<Self> {
        kernel::forward::<Self>(x, &weights, &rope, spec).0
    }
}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
impl DecoderLayerBackend for burn::backend::Cube {
    fn decoder_layer(
        x: FloatTensor<Self>,
        weights: LayerWeights<Self>,
        rope: RopeTables<Self>,
        spec: LayerSpec,
    ) -> FloatTensor<Self> {
        kernel::forward::<Self>(x, &weights, &rope, spec).0
    }
}

/// True where `layer` can run as the op: no biases (Qwen3 has none; the op
/// does not model them).
pub(crate) fn supports(layer: &DecoderLayer) -> bool {
    let attn = &layer.self_attn;
    let mlp = &layer.mlp;
    [
        &attn.q_proj,
        &attn.k_proj,
        &attn.v_proj,
        &attn.o_proj,
        &mlp.gate_proj,
        &mlp.up_proj,
        &mlp.down_proj,
    ]
    .iter()
    .all(|linear| linear.bias.is_none())
}

/// One decoder layer on `x`, causal, without cache or padding mask, run
/// as the op: on an autodiff device only `x` (and the weights) are kept for
/// the backward pass, which runs the layer again. A layer with biases (not
/// Qwen3) takes the plain path. `block` is the attention kernel's query
/// rows per block (0 is treated as 1).
///
/// The model does this itself when [`crate::Qwen3::set_recompute`] allows;
/// this entry point serves tests and tools that hold a layer.
///
/// # Shapes
/// - x: `[batch, seq, hidden]`; positions: `[batch, seq]` (RoPE positions);
///   output `[batch, seq, hidden]`
pub fn decoder_layer(
    layer: &DecoderLayer,
    x: Tensor<3>,
    positions: Tensor<2, Int>,
    rope_theta: f64,
    block: usize,
) -> Tensor<3> {
    let [head_dim] = layer.self_attn.q_norm.gamma.dims();
    let rope = Rope::new(positions, head_dim, rope_theta);
    if supports(layer) {
        recomputed(layer, x, &rope, block)
    } else {
        layer.forward(x, &rope, None, None)
    }
}

/// `layer` on `x` through the op; check [`supports`] first.
pub(crate) fn recomputed(
    layer: &DecoderLayer,
    x: Tensor<3>,
    rope: &Rope,
    block: usize,
) -> Tensor<3> {
    let attn = &layer.self_attn;
    let [head_dim] = attn.q_norm.gamma.dims();
    let width = |linear: &burn::nn::Linear| linear.weight.dims()[1];
    let spec = LayerSpec {
        num_heads: width(&attn.q_proj) / head_dim,
        num_kv_heads: width(&attn.k_proj) / head_dim,
        head_dim,
        eps: [
            layer.input_layernorm.epsilon,
            layer.post_attention_layernorm.epsilon,
            attn.q_norm.epsilon,
            attn.k_norm.epsilon,
        ],
        block: block.max(1),
    };
    let weights = LayerWeights {
        input_norm: layer.input_layernorm.gamma.val().into_dispatch(),
        q_proj: attn.q_proj.weight.val().into_dispatch(),
        k_proj: attn.k_proj.weight.val().into_dispatch(),
        v_proj: attn.v_proj.weight.val().into_dispatch(),
        q_norm: attn.q_norm.gamma.val().into_dispatch(),
        k_norm: attn.k_norm.gamma.val().into_dispatch(),
        o_proj: attn.o_proj.weight.val().into_dispatch(),
        post_norm: layer.post_attention_layernorm.gamma.val().into_dispatch(),
        gate_proj: layer.mlp.gate_proj.weight.val().into_dispatch(),
        up_proj: layer.mlp.up_proj.weight.val().into_dispatch(),
        down_proj: layer.mlp.down_proj.weight.val().into_dispatch(),
    };
    let (cos, signed_sin) = rope.tables();
    let rope = RopeTables {
        cos: cos.into_dispatch(),
        signed_sin: signed_sin.into_dispatch(),
    };
    let out =
        <Dispatch as DecoderLayerBackend>::decoder_layer(x.into_dispatch(), weights, rope, spec);
    Tensor::from_dispatch(out)
}
