//! Grouped-query self-attention with per-head q/k RMSNorm (Qwen3).

use burn::nn::{Linear, RmsNorm};
use burn::prelude::*;
use burn::tensor::DType;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;

use super::Qwen3;
use super::cache::KvCache;
use super::rope::Rope;
use crate::attention_op::{self, DEFAULT_ATTENTION_BLOCK, DEFAULT_ATTENTION_OP_MIN_SEQ};
use crate::decode_attention::decode_attention;
use crate::kernels::rms_norm;
use crate::small_matmul::{project, uses_small_kernel};

/// `self_attn` of a Qwen3 block. Field names are HF tensor names.
#[derive(Module, Debug)]
pub struct Attention {
    /// `[hidden] → [heads · head_dim]`.
    pub q_proj: Linear,
    /// `[hidden] → [kv_heads · head_dim]`.
    pub k_proj: Linear,
    /// `[hidden] → [kv_heads · head_dim]`.
    pub v_proj: Linear,
    /// `[heads · head_dim] → [hidden]`.
    pub o_proj: Linear,
    /// RMSNorm over each query head.
    pub q_norm: RmsNorm,
    /// RMSNorm over each key head.
    pub k_norm: RmsNorm,
    num_heads: usize,
    num_kv_heads: usize,
    head_dim: usize,
    /// Shortest sequence for which an autodiff forward uses
    /// [`attention_op::causal_attention`] (`usize::MAX`: never).
    op_min_seq: usize,
    /// Query rows per block of that op.
    op_block: usize,
}

impl Attention {
    pub(crate) fn new(
        projections: [Linear; 4],
        norms: [RmsNorm; 2],
        num_heads: usize,
        num_kv_heads: usize,
        head_dim: usize,
    ) -> Self {
        let [q_proj, k_proj, v_proj, o_proj] = projections;
        let [q_norm, k_norm] = norms;
        Self {
            q_proj,
            k_proj,
            v_proj,
            o_proj,
            q_norm,
            k_norm,
            num_heads,
            num_kv_heads,
            head_dim,
            op_min_seq: DEFAULT_ATTENTION_OP_MIN_SEQ,
            op_block: DEFAULT_ATTENTION_BLOCK,
        }
    }

    /// Use the memory-efficient [`attention_op::causal_attention`] (with
    /// `block` query rows per block) on an autodiff device for sequences of
    /// at least `min_seq` positions; `usize::MAX` never uses it. Defaults:
    /// [`DEFAULT_ATTENTION_OP_MIN_SEQ`], [`DEFAULT_ATTENTION_BLOCK`].
    pub fn set_attention_op(&mut self, min_seq: usize, block: usize) {
        self.op_min_seq = min_seq;
        self.op_block = block.max(1);
    }

    /// # Shapes
    /// - x: `[batch, seq, hidden]` → `[batch, seq, hidden]`
    /// - mask: `[batch, 1, seq, past + seq]`, true = masked (padding)
    pub(crate) fn forward(
        &self,
        x: Tensor<3>,
        rope: &Rope,
        mask: Option<Tensor<4, Bool>>,
        cache: Option<(&mut KvCache, usize)>,
    ) -> Tensor<3> {
        let [batch, seq, _] = x.dims();
        let (h, kv, hd) = (self.num_heads, self.num_kv_heads, self.head_dim);
        // 1. Project, split heads, normalise each head, rotate.
        let q = rms_norm(
            &self.q_norm,
            project(&self.q_proj, x.clone()).reshape([batch, seq, h, hd]),
        );
        let k = rms_norm(
            &self.k_norm,
            project(&self.k_proj, x.clone()).reshape([batch, seq, kv, hd]),
        );
        let v = project(&self.v_proj, x).reshape([batch, seq, kv, hd]);
        let q = rope.apply(q.swap_dims(1, 2));
        let k = rope.apply(k.swap_dims(1, 2));
        let v = v.swap_dims(1, 2);
        // 2. Past positions.
        let scoring = cache.is_none() && native_gqa(&q);
        let (k, v) = match cache {
            Some((cache, layer)) => cache.append(layer, k, v),
            None => (k, v),
        };
        // 3. Training (autodiff device, no padding mask): the block-wise op
        //    with its own backward, GQA included, never keeps `[b, h, seq, seq]`
        //    scores; burn's autodiff would differentiate the decomposed
        //    fallback and keep them all. Scoring on flex (no cache, no mask)
        //    takes it too: its fused flex kernel is faster than flex's
        //    attention.
        if mask.is_none() && seq >= self.op_min_seq && (q.device().is_autodiff() || scoring) {
            let out = attention_op::causal_attention(q, k, v, self.op_block);
            return project(
                &self.o_proj,
                out.swap_dims(1, 2).reshape([batch, seq, h * hd]),
            );
        }
        // 4. One new position per row on flex (a decoding step): read the
        //    cache's buffers in place, GQA without copies.
        if seq == 1 && uses_small_kernel(&q.device()) && q.dtype() == DType::F32 {
            let total = k.dims()[2];
            let bias = Tensor::<2>::zeros([batch, total], &q.device());
            let bias = match mask {
                Some(mask) => bias.mask_fill(mask.reshape([batch, total]), f32::NEG_INFINITY),
                None => bias,
            };
            let out = decode_attention(q, k, v, bias);
            return project(&self.o_proj, out.reshape([batch, 1, h * hd]));
        }
        // 5. Otherwise attend causally (bottom-right aligned, so the same call serves
        //    prefill and one-token decoding). flex's kernel shares each KV head
        //    with its group of query heads and broadcasts the mask over heads;
        //    the generic fallback (autodiff, other backends) needs both copied.
        let (k, v, mask) = if native_gqa(&q) {
            (k, v, mask)
        } else {
            let total = k.dims()[2];
            (
                repeat_kv(k, h / kv),
                repeat_kv(v, h / kv),
                mask.map(|m| m.expand([batch, h, seq, total])),
            )
        };
        let options = AttentionModuleOptions {
            is_causal: true,
            ..Default::default()
        };
        let out = attention(q, k, v, mask, None, options);
        // 6. Merge heads, project back.
        project(
            &self.o_proj,
            out.swap_dims(1, 2).reshape([batch, seq, h * hd]),
        )
    }
}

impl Qwen3 {
    /// Sets, in every layer, when a forward on an autodiff device uses the
    /// memory-efficient [`attention_op::causal_attention`] instead of burn's
    /// decomposed attention (which keeps each layer's `[batch, heads, seq,
    /// seq]` probabilities for the backward): for sequences of at least
    /// `min_seq` positions, `block` query rows at a time. `usize::MAX` turns
    /// it off, 0 on for every length. Values agree to float rounding either
    /// way. On flex without autodiff the same setting picks the op for
    /// scoring forwards (no KV cache, no padding mask) over flex's attention.
    ///
    /// Defaults: [`DEFAULT_ATTENTION_OP_MIN_SEQ`], [`DEFAULT_ATTENTION_BLOCK`].
    pub fn set_attention_op(&mut self, min_seq: usize, block: usize) {
        for layer in &mut self.layers {
            layer.self_attn.set_attention_op(min_seq, block);
        }
    }
}

/// True where `attention` takes fewer KV heads than query heads and a
/// `[b, 1, s, t]` mask as they are: burn's flex backend without autodiff
/// (autodiff differentiates a decomposed fallback that needs equal heads).
fn native_gqa(q: &Tensor<4>) -> bool {
    let device = q.device();
    !device.is_autodiff() && device == Device::flex()
}

/// `[b, kv, t, d]` → `[b, kv · groups, t, d]`, each KV head repeated `groups` times.
fn repeat_kv(x: Tensor<4>, groups: usize) -> Tensor<4> {
    if groups == 1 {
        return x;
    }
    let [b, kv, t, d] = x.dims();
    x.unsqueeze_dim::<5>(2)
        .expand([b, kv, groups, t, d])
        .reshape([b, kv * groups, t, d])
}
