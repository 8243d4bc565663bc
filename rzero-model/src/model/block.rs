//! One pre-norm decoder block and its SwiGLU MLP.

use burn::nn::{Linear, RmsNorm};
use burn::prelude::*;

use super::attention::Attention;
use super::cache::KvCache;
use super::rope::Rope;
use crate::attention_op::DEFAULT_ATTENTION_BLOCK;
use crate::fused::silu_mul;
use crate::kernels::rms_norm;
use crate::layer_op;
use crate::small_matmul::project;

/// `mlp` of a Qwen3 block: `down(silu(gate(x)) ⊙ up(x))`.
#[derive(Module, Debug)]
pub struct Mlp {
    /// `[hidden] → [intermediate]`, through SiLU.
    pub gate_proj: Linear,
    /// `[hidden] → [intermediate]`.
    pub up_proj: Linear,
    /// `[intermediate] → [hidden]`.
    pub down_proj: Linear,
}

impl Mlp {
    /// `[batch, seq, hidden]` → `[batch, seq, hidden]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let gate = project(&self.gate_proj, x.clone());
        let up = project(&self.up_proj, x);
        project(&self.down_proj, silu_mul(gate, up))
    }
}

/// `layers.N`: `h = x + attn(norm₁(x))`, `out = h + mlp(norm₂(h))`.
#[derive(Module, Debug)]
pub struct DecoderLayer {
    /// Attention.
    pub self_attn: Attention,
    /// Feed-forward.
    pub mlp: Mlp,
    /// RMSNorm before attention.
    pub input_layernorm: RmsNorm,
    /// RMSNorm before the MLP.
    pub post_attention_layernorm: RmsNorm,
    /// Shortest sequence for which an autodiff forward runs this layer as
    /// [`layer_op`] (recomputed in the backward; `usize::MAX`: never).
    pub(crate) recompute_min_seq: usize,
}

impl DecoderLayer {
    pub(crate) fn forward(
        &self,
        x: Tensor<3>,
        rope: &Rope,
        mask: Option<Tensor<4, Bool>>,
        cache: Option<(&mut KvCache, usize)>,
    ) -> Tensor<3> {
        // Training forward (autodiff, no cache or padding): keep only `x` for
        // the backward pass, which runs the layer again.
        let seq = x.dims()[1];
        if mask.is_none()
            && cache.is_none()
            && seq >= self.recompute_min_seq
            && x.device().is_autodiff()
            && layer_op::supports(self)
        {
            return layer_op::recomputed(self, x, rope, DEFAULT_ATTENTION_BLOCK);
        }
        let attn = self.self_attn.forward(
            rms_norm(&self.input_layernorm, x.clone()),
            rope,
            mask,
            cache,
        );
        let h = x + attn;
        let mlp = self
            .mlp
            .forward(rms_norm(&self.post_attention_layernorm, h.clone()));
        h + mlp
    }
}
