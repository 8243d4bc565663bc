//! Rotary embedding as one op: `x ⊙ cos + rotate_half(x) ⊙ signed_sin`,
//! `rotate_half([x1, x2]) = [x2, x1]` (the sign lives in the table).
//!
//! Composed, it was a slice pair, a concatenation, two products and a sum,
//! each a pass over `x`, plus a copy of the heads-swapped view (6 % of a
//! scoring forward). Its transpose is the same op with the sine table's
//! halves swapped: `d x = dy ⊙ cos + rotate_half(dy) ⊙ rotate_half(signed_sin)`
//! (for the model's `[-sin, sin]` table, the negated table).

use std::mem::MaybeUninit;

use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, DType, Slice, TensorMetadata};
use burn::tensor::TensorData;
use rayon::prelude::*;

/// The op from the backend's own ops.
pub(super) fn composed<B: Backend>(
    x: FloatTensor<B>,
    cos: FloatTensor<B>,
    signed_sin: FloatTensor<B>,
) -> FloatTensor<B> {
    B::float_add(
        B::float_mul(x.clone(), cos),
        B::float_mul(swap_halves::<B>(x), signed_sin),
    )
}

/// `[x1, x2] → [x2, x1]` over the last dim of a rank-4 tensor.
pub(super) fn swap_halves<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    let d = x.shape()[3];
    let half = d / 2;
    let last = |range: std::ops::Range<usize>| {
        let slices = [
            Slice::full(),
            Slice::full(),
            Slice::full(),
            Slice::from(range),
        ];
        B::float_slice(x.clone(), &slices)
    };
    B::float_cat(vec![last(half..d), last(0..half)], 3)
}

/// Rows of `d` values per rayon task.
const ROWS_PER_TASK: usize = 256;

/// The op on flex `f32` tensors, `x` read through its strides (last stride
/// 1, none negative); `None` when the operands do not fit that.
pub(super) fn flex(x: &FlexTensor, cos: &FlexTensor, sin: &FlexTensor) -> Option<FlexTensor> {
    let layout = x.layout();
    let &[b, h, s, d] = layout.shape().as_slice() else {
        return None;
    };
    let strides: Vec<usize> = layout
        .strides()
        .iter()
        .map(|&st| usize::try_from(st).ok())
        .collect::<Option<_>>()?;
    let table_ok =
        |t: &FlexTensor| t.dtype() == DType::F32 && t.layout().shape().as_slice() == [b, 1, s, d];
    if x.dtype() != DType::F32 || !table_ok(cos) || !table_ok(sin) || d % 2 != 0 {
        return None;
    }
    if strides[3] != 1 || b * h * s * d == 0 {
        return None;
    }
    let (cos, sin) = (
        super::contiguous(cos.clone()),
        super::contiguous(sin.clone()),
    );
    let (cos, sin) = (cos.as_slice::<f32>()?, sin.as_slice::<f32>()?);
    let xs = x.storage::<f32>();
    let offset = layout.start_offset();
    let last = offset + (b - 1) * strides[0] + (h - 1) * strides[1] + (s - 1) * strides[2] + d;
    if last > xs.len() {
        return None;
    }
    let half = d / 2;
    let mut out = super::uninit(b * h * s * d);
    out.par_chunks_mut(ROWS_PER_TASK * d)
        .enumerate()
        .for_each(|(task, out)| {
            for (i, y) in out.chunks_exact_mut(d).enumerate() {
                // Output row `r` is (batch, head, position) in row-major order.
                let r = task * ROWS_PER_TASK + i;
                let (pos, bh) = (r % s, r / s);
                let (head, batch) = (bh % h, bh / h);
                let at = offset + batch * strides[0] + head * strides[1] + pos * strides[2];
                let row = &xs[at..at + d];
                let table = (batch * s + pos) * d;
                rotate(row, &cos[table..table + d], &sin[table..table + d], half, y);
            }
        });
    // SAFETY: the tasks' rows cover `out`, and `rotate` writes each row whole.
    #[expect(unsafe_code, reason = "every element was written")]
    let out = unsafe { super::assume_written(out) };
    Some(FlexTensor::from_data(TensorData::new(out, [b, h, s, d])))
}

/// One row: `y = x ⊙ c + [x2, x1] ⊙ t`.
#[inline(always)]
fn rotate(x: &[f32], c: &[f32], t: &[f32], half: usize, y: &mut [MaybeUninit<f32>]) {
    let (x1, x2) = x.split_at(half);
    let (y1, y2) = y.split_at_mut(half);
    let (c1, c2) = c.split_at(half);
    let (t1, t2) = t.split_at(half);
    for i in 0..half {
        y1[i].write(x1[i] * c1[i] + x2[i] * t1[i]);
        y2[i].write(x2[i] * c2[i] + x1[i] * t2[i]);
    }
}
