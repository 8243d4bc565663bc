//! `op(a) · op(b)` for the model's training and scoring shapes, where
//! `op` is the identity or the transpose.
//!
//! flex's matmul (the `gemm` crate, AVX2 kernels unless burn's `x86-v4`
//! feature is on) was half of a training step's time; [`kernel`] packs both
//! operands and runs AVX-512 tiles where the CPU has them, detected at run
//! time. Transposed operands are read through their strides while packing,
//! so a linear layer's backward (`dy · wᵀ`, `xᵀ · dy`) needs no copies.
//!
//! [`crate::kernels::matmul_t`] runs it on burn tensors.
//!
//! ```
//! use rzero_model::gemm::{MatRef, matmul};
//! use rzero_model::small_matmul::kernel::Isa;
//!
//! let (a, b) = ([1.0, 2.0, 3.0, 4.0], [1.0, 0.0, 1.0, 1.0]);
//! let mut c = [0.0; 4];
//! // a · bᵀ
//! matmul(Isa::detect(), MatRef::row_major(&a, 2, 2), MatRef::row_major(&b, 2, 2).t(), &mut c);
//! assert_eq!(c, [1.0, 3.0, 3.0, 7.0]);
//! ```

pub mod kernel;

pub use kernel::MatRef;

use std::mem::MaybeUninit;

use crate::small_matmul::kernel::Isa;

/// Fewest multiply-adds for which [`matmul`] splits the rows over rayon's
/// threads: below it the hand-off costs more than it saves.
const PARALLEL_MIN_WORK: usize = 1 << 20;

/// Rows per thread are a multiple of this (every kernel's `MR` divides it),
/// so each thread's tiles are whole.
const ROW_GRAIN: usize = 12;

/// `c = a · b` into the row-major `c` `[a.rows, b.cols]`, with `isa` (the
/// baseline kernel where the CPU lacks it), the rows split over rayon's
/// threads when the product is large. The result does not depend on the
/// split: every element is computed by the same code.
///
/// # Panics
/// When `a.cols != b.rows`, a view reaches past its data, or `c` is shorter
/// than `a.rows · b.cols`.
pub fn matmul(isa: Isa, a: MatRef<'_>, b: MatRef<'_>, c: &mut [f32]) {
    split_rows(a, b, c, |a, c| kernel::gemm(isa, a, b, c, b.cols, false));
}

/// [`matmul`] into a new buffer: all `a.rows · b.cols` elements of `c` are
/// written, none read, so `c` needs no zeroing first.
///
/// # Panics
/// As [`matmul`].
pub fn matmul_uninit(isa: Isa, a: MatRef<'_>, b: MatRef<'_>, c: &mut [MaybeUninit<f32>]) {
    split_rows(a, b, c, |a, c| kernel::gemm_uninit(isa, a, b, c, b.cols));
}

/// `[a.rows · b.cols]` floats of a new vector, written by [`matmul_uninit`].
pub fn matmul_vec(isa: Isa, a: MatRef<'_>, b: MatRef<'_>) -> Vec<f32> {
    let len = a.rows * b.cols;
    let mut out = Vec::with_capacity(len);
    matmul_uninit(isa, a, b, &mut out.spare_capacity_mut()[..len]);
    // SAFETY: `matmul_uninit` wrote all `len` elements.
    #[expect(unsafe_code, reason = "the product wrote every element")]
    unsafe {
        out.set_len(len)
    };
    out
}

/// Checks the shapes, then runs `gemm(a_rows, c_rows)` on blocks of rows
/// over rayon's threads (or once when the product is small).
fn split_rows<T: Send>(
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: &mut [T],
    gemm: impl Fn(MatRef<'_>, &mut [T]) + Sync,
) {
    use rayon::prelude::*;
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(
        k == b.rows && a.in_bounds() && b.in_bounds() && c.len() >= m * n,
        "gemm: [{m}, {k}] · [{}, {n}] into {} floats",
        b.rows,
        c.len()
    );
    let threads = rayon::current_num_threads().max(1);
    if threads == 1 || m < 2 * ROW_GRAIN || m * k * n < PARALLEL_MIN_WORK || n == 0 {
        return gemm(a, c);
    }
    let block = m.div_ceil(threads).next_multiple_of(ROW_GRAIN);
    c[..m * n]
        .par_chunks_mut(block * n)
        .enumerate()
        .for_each(|(t, c)| {
            let rows = c.len() / n;
            gemm(a.rows_slice(t * block, rows), c);
        });
}
