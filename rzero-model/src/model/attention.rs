//! Grouped-query self-attention with per-head q/k RMSNorm (Qwen3).

use burn::nn::{Linear, RmsNorm};
use burn::prelude::*;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;

use super::cache::KvCache;
use super::rope::Rope;

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
        }
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
        let q = self
            .q_norm
            .forward(self.q_proj.forward(x.clone()).reshape([batch, seq, h, hd]));
        let k = self
            .k_norm
            .forward(self.k_proj.forward(x.clone()).reshape([batch, seq, kv, hd]));
        let v = self.v_proj.forward(x).reshape([batch, seq, kv, hd]);
        let q = rope.apply(q.swap_dims(1, 2));
        let k = rope.apply(k.swap_dims(1, 2));
        let v = v.swap_dims(1, 2);
        // 2. Past positions.
        let (k, v) = match cache {
            Some((cache, layer)) => cache.append(layer, k, v),
            None => (k, v),
        };
        // 3. Attend causally (bottom-right aligned, so the same call serves
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
        // 4. Merge heads, project back.
        self.o_proj
            .forward(out.swap_dims(1, 2).reshape([batch, seq, h * hd]))
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
