//! The chunked LM-head log-prob math on backend primitives, shared by every
//! backend's forward and by the autodiff backward.
//!
//! Shapes: hidden `[N, d]`, weight `[V, d]`, targets `[N]` (int). At most one
//! chunk's `[chunk, V]` logits (and their softmax in the backward) exist at a
//! time.

// Every backend here runs its products through `matmul_t` (the packed
// kernel on flex); `KernelBackend` is a `Backend` with that op
// and a vectorised `exp`.
use crate::kernels::KernelBackend as Backend;
use burn::backend::tensor::{FloatTensor, IndexingUpdateOp, IntTensor};
use burn::backend::{Shape, Slice, TensorMetadata};

/// Row ranges `start..end` of at most `chunk` rows covering `0..n`.
fn chunks(n: usize, chunk: usize) -> impl Iterator<Item = (usize, usize)> {
    let chunk = chunk.max(1);
    (0..n).step_by(chunk).map(move |s| (s, (s + chunk).min(n)))
}

/// Rows `start..end` of a tensor (a view where the backend allows).
fn rows<B: Backend>(t: &FloatTensor<B>, start: usize, end: usize) -> FloatTensor<B> {
    let mut slices = vec![Slice::from(start..end)];
    slices.extend((1..t.shape().num_dims()).map(|_| Slice::full()));
    B::float_slice(t.clone(), &slices)
}

/// `[end - start, 1]` target ids of one chunk.
fn target_column<B: Backend>(targets: &IntTensor<B>, start: usize, end: usize) -> IntTensor<B> {
    let t = B::int_slice(targets.clone(), &[Slice::from(start..end)]);
    B::int_reshape(t, Shape::new([end - start, 1]))
}

/// `[rows, 1]` slice of a `[N]` vector as a column.
fn column<B: Backend>(v: &FloatTensor<B>, start: usize, end: usize) -> FloatTensor<B> {
    B::float_reshape(rows::<B>(v, start, end), Shape::new([end - start, 1]))
}

/// Zeros of `like`'s shape, device and dtype.
fn zeros_like<B: Backend>(like: &FloatTensor<B>) -> FloatTensor<B> {
    B::float_zeros(like.shape(), &like.device(), like.dtype().into())
}

/// Log-probs `[N]` and the per-row log-sum-exp `[N]` (kept for the backward).
pub(super) fn forward<B: Backend>(
    hidden: FloatTensor<B>,
    weight: FloatTensor<B>,
    targets: IntTensor<B>,
    chunk: usize,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let n = hidden.shape()[0];
    if n == 0 {
        let empty = B::float_zeros(Shape::new([0]), &hidden.device(), hidden.dtype().into());
        return (empty.clone(), empty);
    }
    let mut logprobs = Vec::new();
    let mut lses = Vec::new();
    for (start, end) in chunks(n, chunk) {
        let logits = B::matmul_t(rows::<B>(&hidden, start, end), weight.clone(), false, true);
        let max = B::float_max_dim(logits.clone(), 1);
        let shifted = B::exp(B::float_sub(logits.clone(), max.clone()));
        let lse = B::float_add(B::float_log(B::float_sum_dim(shifted, 1)), max);
        let target = B::float_gather(1, logits, target_column::<B>(&targets, start, end));
        logprobs.push(B::float_sub(target, lse.clone()));
        lses.push(lse);
    }
    let flat =
        |parts: Vec<FloatTensor<B>>| B::float_reshape(B::float_cat(parts, 0), Shape::new([n]));
    (flat(logprobs), flat(lses))
}

/// What the backward needs besides the upstream gradient.
pub(super) struct Saved<B: Backend> {
    pub hidden: FloatTensor<B>,
    pub weight: FloatTensor<B>,
    pub targets: IntTensor<B>,
    pub lse: FloatTensor<B>,
    pub chunk: usize,
}

/// Gradients w.r.t. hidden `[N, d]` and weight `[V, d]` (each only if asked),
/// recomputing each chunk's softmax from the saved log-sum-exp:
/// `dlogits = g ⊙ (onehot(t) − softmax)`, `dh = dlogits · W`, `dW = Σ dlogitsᵀ · h`.
pub(super) fn backward<B: Backend>(
    saved: Saved<B>,
    grad: FloatTensor<B>,
    want_hidden: bool,
    want_weight: bool,
) -> (Option<FloatTensor<B>>, Option<FloatTensor<B>>) {
    let Saved {
        hidden,
        weight,
        targets,
        lse,
        chunk,
    } = saved;
    let n = hidden.shape()[0];
    if n == 0 {
        return (
            want_hidden.then(|| zeros_like::<B>(&hidden)),
            want_weight.then(|| zeros_like::<B>(&weight)),
        );
    }
    let mut d_hidden = Vec::new();
    let mut d_weight: Option<FloatTensor<B>> = None;
    for (start, end) in chunks(n, chunk) {
        let h = rows::<B>(&hidden, start, end);
        let g = column::<B>(&grad, start, end);
        let logits = B::matmul_t(h.clone(), weight.clone(), false, true);
        let softmax = B::exp(B::float_sub(logits, column::<B>(&lse, start, end)));
        let d_logits = B::float_scatter(
            1,
            B::float_mul(softmax, B::float_neg(g.clone())),
            target_column::<B>(&targets, start, end),
            g,
            IndexingUpdateOp::Add,
        );
        if want_hidden {
            d_hidden.push(B::matmul_t(d_logits.clone(), weight.clone(), false, false));
        }
        if want_weight {
            let part = B::matmul_t(d_logits, h, true, false);
            d_weight = Some(match d_weight {
                Some(acc) => B::float_add(acc, part),
                None => part,
            });
        }
    }
    (want_hidden.then(|| B::float_cat(d_hidden, 0)), d_weight)
}
