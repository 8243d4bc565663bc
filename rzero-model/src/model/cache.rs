//! [`KvCache`]: keys and values of past positions, kept outside the module.

use burn::prelude::*;

/// Keys and values of one layer, `[batch, kv_heads, len, head_dim]`
/// (after `k_norm` and RoPE, before the GQA head repeat).
#[derive(Debug, Clone)]
struct LayerKv {
    key: Tensor<4>,
    value: Tensor<4>,
}

/// Per-layer keys and values of the positions seen so far, plus which of
/// them are padding.
///
/// Decoding passes the same cache to every `forward` call; the model appends
/// the new positions. Rows can be replicated or dropped with
/// [`KvCache::select_rows`] (n samples sharing one prefill; finished rows).
#[derive(Debug, Clone)]
pub struct KvCache {
    layers: Vec<Option<LayerKv>>,
    /// `[batch, len]`, 1 where the key is padding (never attended to). Kept
    /// as Int: flex's bool `select` returns a different bool dtype, which
    /// its `cat` then rejects.
    key_padding: Option<Tensor<2, Int>>,
}

impl KvCache {
    /// An empty cache for a model with `num_layers` blocks.
    pub fn new(num_layers: usize) -> Self {
        Self {
            layers: vec![None; num_layers],
            key_padding: None,
        }
    }

    /// Marks padding positions of the first `forward` call (`[batch, seq]`,
    /// true = padding, e.g. left padding of a ragged prompt batch). Later
    /// positions count as real tokens.
    pub fn with_key_padding(mut self, padding: Tensor<2, Bool>) -> Self {
        self.key_padding = Some(padding.int());
        self
    }

    /// Number of cached positions.
    pub fn len(&self) -> usize {
        match self.layers.first() {
            Some(Some(kv)) => kv.key.dims()[2],
            _ => 0,
        }
    }

    /// True before the first `forward` call.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A cache holding the rows `rows` (`[new_batch]` indices into the batch),
    /// in that order; indices may repeat.
    pub fn select_rows(&self, rows: Tensor<1, Int>) -> Self {
        let layers = self
            .layers
            .iter()
            .map(|kv| {
                kv.as_ref().map(|kv| LayerKv {
                    key: kv.key.clone().select(0, rows.clone()),
                    value: kv.value.clone().select(0, rows.clone()),
                })
            })
            .collect();
        let key_padding = self
            .key_padding
            .as_ref()
            .map(|p| p.clone().select(0, rows.clone()));
        Self {
            layers,
            key_padding,
        }
    }

    /// Appends `len` zero positions to every layer, for `rows` rows of
    /// `kv_heads` heads of `head_dim`: the memory of a cache after `len`
    /// more positions, without running the model (`rzero plan --measure`
    /// measures a decode step at a full cache this way). Zero keys are
    /// real keys to attention, not padding.
    pub fn append_zeros(&mut self, [rows, kv_heads, len, head_dim]: [usize; 4], device: &Device) {
        for layer in 0..self.layers.len() {
            let zeros = || Tensor::<4>::zeros([rows, kv_heads, len, head_dim], device);
            self.append(layer, zeros(), zeros());
        }
    }

    /// Appends the new keys/values of `layer`; returns all of them.
    pub(crate) fn append(
        &mut self,
        layer: usize,
        key: Tensor<4>,
        value: Tensor<4>,
    ) -> (Tensor<4>, Tensor<4>) {
        let merged = match self.layers.get_mut(layer).and_then(Option::take) {
            Some(past) => LayerKv {
                key: Tensor::cat(vec![past.key, key], 2),
                value: Tensor::cat(vec![past.value, value], 2),
            },
            None => LayerKv { key, value },
        };
        let out = (merged.key.clone(), merged.value.clone());
        if let Some(slot) = self.layers.get_mut(layer) {
            *slot = Some(merged);
        }
        out
    }

    /// The padding mask for `new` query positions after `past` cached ones:
    /// `[batch, 1, new, past + new]`, true = masked. Only real queries are
    /// masked off padding keys, so no row is fully masked.
    pub(crate) fn padding_mask(&mut self, past: usize, new: usize) -> Option<Tensor<4, Bool>> {
        let padding = self.key_padding.take()?;
        let [batch, len] = padding.dims();
        let total = past + new;
        let padding = if len < total {
            let device = padding.device();
            let extra = Tensor::<2, Int>::zeros([batch, total - len], &device);
            Tensor::cat(vec![padding, extra], 1)
        } else {
            padding
        };
        self.key_padding = Some(padding.clone());
        let real_query = padding.clone().narrow(1, past, new).equal_elem(0);
        let keys = padding
            .equal_elem(1)
            .unsqueeze_dim::<3>(1)
            .expand([batch, new, total]);
        let queries = real_query.unsqueeze_dim::<3>(2).expand([batch, new, total]);
        Some(keys.bool_and(queries).unsqueeze_dim::<4>(1))
    }
}
