//! [`KvCache`]: keys and values of past positions, kept outside the module.

use burn::prelude::*;

/// Keys and values of one layer in a buffer of `capacity` positions,
/// `[batch, kv_heads, capacity, head_dim]` (after `k_norm` and RoPE, before
/// the GQA head repeat), of which the first `len` are filled.
///
/// New positions are written into the buffer in place (burn's
/// `slice_assign` reuses a buffer nothing else holds), so a decoding step
/// copies only its own keys instead of the whole cache.
#[derive(Debug, Clone)]
struct LayerKv {
    key: Tensor<4>,
    value: Tensor<4>,
    len: usize,
}

impl LayerKv {
    /// Capacity in positions.
    fn capacity(&self) -> usize {
        self.key.dims()[2]
    }

    /// Filled positions of the keys and values (views of the buffers).
    fn filled(&self) -> (Tensor<4>, Tensor<4>) {
        (
            self.key.clone().narrow(2, 0, self.len),
            self.value.clone().narrow(2, 0, self.len),
        )
    }

    /// The buffers grown to at least `capacity` positions (zeros after `len`).
    fn grow(self, capacity: usize) -> Self {
        let [b, kv, cap, d] = self.key.dims();
        if capacity <= cap {
            return self;
        }
        let device = self.key.device();
        let extra = || Tensor::<4>::zeros([b, kv, capacity - cap, d], &device);
        Self {
            key: Tensor::cat(vec![self.key, extra()], 2),
            value: Tensor::cat(vec![self.value, extra()], 2),
            len: self.len,
        }
    }

    /// The first keys and values (`[batch, kv_heads, new, head_dim]`), with
    /// room for `reserve` more positions.
    ///
    /// The buffer is allocated at its full size and written in place: growing
    /// the first keys by `cat` would hold them, the zeros and the result at
    /// once (about twice the layer's cache).
    fn first(key: Tensor<4>, value: Tensor<4>, reserve: usize) -> Self {
        let [b, kv, len, d] = key.dims();
        if reserve == 0 {
            return Self { key, value, len };
        }
        let device = key.device();
        let empty = || Tensor::<4>::zeros([b, kv, len + reserve, d], &device);
        Self {
            key: empty(),
            value: empty(),
            len: 0,
        }
        .append(key, value)
    }

    /// Writes `key` and `value` (`[batch, kv_heads, new, head_dim]`) after
    /// the filled positions, growing the buffers (at least doubling) if
    /// they are full.
    fn append(self, key: Tensor<4>, value: Tensor<4>) -> Self {
        let new = key.dims()[2];
        let end = self.len + new;
        let cap = self.capacity();
        let grown = if end > cap {
            self.grow(end.max(2 * cap))
        } else {
            self
        };
        let range = [
            0..key.dims()[0],
            0..key.dims()[1],
            grown.len..end,
            0..key.dims()[3],
        ];
        Self {
            key: grown.key.slice_assign(range.clone(), key),
            value: grown.value.slice_assign(range, value),
            len: end,
        }
    }
}

impl LayerKv {
    /// `part`'s rows written to the rows `members`, right-aligned at `end`.
    fn place_rows(self, part: LayerKv, members: &[usize], end: usize) -> Self {
        let (key, value) = part.filled();
        let [_, heads, n, dim] = key.dims();
        let (mut into_key, mut into_value) = (self.key, self.value);
        for (from, &row) in members.iter().enumerate() {
            let at = [row..row + 1, 0..heads, end - n..end, 0..dim];
            into_key = into_key.slice_assign(at.clone(), key.clone().narrow(0, from, 1));
            into_value = into_value.slice_assign(at, value.clone().narrow(0, from, 1));
        }
        Self {
            key: into_key,
            value: into_value,
            len: self.len,
        }
    }
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
    /// Positions allocated beyond the first `forward` call's (see
    /// [`KvCache::reserve`]).
    reserve: usize,
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
            reserve: 0,
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

    /// Allocates room for `positions` more positions than the first
    /// `forward` call brings (e.g. `max_new_tokens`), so decoding never
    /// regrows the buffers. Without it they grow by doubling. Takes effect
    /// on layers not yet written.
    pub fn reserve(mut self, positions: usize) -> Self {
        self.reserve = positions;
        self
    }

    /// One cache of `rows` rows from `parts`, each `(cache, members)` a
    /// cache of prompts of one length whose rows go to the rows `members`
    /// of the new batch, left-padded with zero keys to `len` positions,
    /// with room for `reserve` more. The caller marks the padding with
    /// [`KvCache::with_key_padding`]. Each part's layer is released as soon
    /// as it is copied.
    pub(crate) fn left_padded(
        mut parts: Vec<(KvCache, Vec<usize>)>,
        rows: usize,
        len: usize,
        reserve: usize,
    ) -> Self {
        let num_layers = parts.first().map_or(0, |(c, _)| c.layers.len());
        let layers = (0..num_layers)
            .map(|layer| {
                let mut merged: Option<LayerKv> = None;
                for (cache, members) in &mut parts {
                    let Some(part) = cache.layers.get_mut(layer).and_then(Option::take) else {
                        continue;
                    };
                    let [_, heads, _, dim] = part.key.dims();
                    let into = merged.take().unwrap_or_else(|| {
                        let device = part.key.device();
                        let empty =
                            || Tensor::<4>::zeros([rows, heads, len + reserve, dim], &device);
                        LayerKv {
                            key: empty(),
                            value: empty(),
                            len,
                        }
                    });
                    merged = Some(into.place_rows(part, members, len));
                }
                merged
            })
            .collect();
        Self {
            layers,
            reserve,
            key_padding: None,
        }
    }

    /// Number of cached positions.
    pub fn len(&self) -> usize {
        match self.layers.first() {
            Some(Some(kv)) => kv.len,
            _ => 0,
        }
    }

    /// True before the first `forward` call.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cache of the rows `rows` (`[new_batch]` indices into the batch),
    /// in that order; indices may repeat.
    ///
    /// Consumes the cache and releases each old key (then value) buffer as
    /// soon as it is copied, so at most one of the `2 · layers` buffers
    /// exists twice: dropping a finished row costs `1 / (2 · layers)` of the
    /// cache on top of it, not a second cache.
    pub fn select_rows(self, rows: Tensor<1, Int>) -> Self {
        let layers = self
            .layers
            .into_iter()
            .map(|kv| {
                kv.map(|kv| LayerKv {
                    key: kv.key.select(0, rows.clone()),
                    value: kv.value.select(0, rows.clone()),
                    len: kv.len,
                })
            })
            .collect();
        let key_padding = self.key_padding.map(|p| p.select(0, rows));
        Self {
            layers,
            reserve: self.reserve,
            key_padding,
        }
    }

    /// Appends `len` zero positions to every layer written so far: the
    /// memory of a cache after `len` more positions, without running the
    /// model (`rzero plan --measure` measures a decode step at a full cache
    /// this way). Zero keys are real keys to attention, not padding.
    pub fn append_zeros(&mut self, len: usize) {
        for layer in 0..self.layers.len() {
            let Some(Some(kv)) = self.layers.get(layer) else {
                continue;
            };
            let [rows, kv_heads, _, head_dim] = kv.key.dims();
            let device = kv.key.device();
            let zeros = || Tensor::<4>::zeros([rows, kv_heads, len, head_dim], &device);
            // The views `append` returns are dropped at once, so the next
            // layer's append writes in place.
            let _ = self.append(layer, zeros(), zeros());
        }
    }

    /// Positions the buffers hold, filled or not (after the first `forward`
    /// call: its positions plus [`KvCache::reserve`]).
    pub fn capacity(&self) -> usize {
        match self.layers.first() {
            Some(Some(kv)) => kv.capacity(),
            _ => 0,
        }
    }

    /// Appends the new keys/values of `layer`; returns all of them (views
    /// of the cache's buffers: drop them before the next append, or that
    /// append copies the buffer instead of writing in place).
    pub(crate) fn append(
        &mut self,
        layer: usize,
        key: Tensor<4>,
        value: Tensor<4>,
    ) -> (Tensor<4>, Tensor<4>) {
        let Some(slot) = self.layers.get_mut(layer) else {
            return (key, value);
        };
        let merged = match slot.take() {
            Some(past) => past.append(key, value),
            None => LayerKv::first(key, value, self.reserve),
        };
        let out = merged.filled();
        *slot = Some(merged);
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
