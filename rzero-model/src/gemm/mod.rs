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

/// Columns per thread, when the columns are split, are a multiple of this
/// (every kernel's `NR` divides it).
const COL_GRAIN: usize = 32;

/// `c = a · b` into the row-major `c` `[a.rows, b.cols]`, with `isa` (the
/// baseline kernel where the CPU lacks it), the rows (or, when there are
/// fewer rows than columns, the columns) split over rayon's threads when
/// the product is large. The result does not depend on the split: every
/// element is computed by the same code.
///
/// # Panics
/// When `a.cols != b.rows`, a view reaches past its data, or `c` is shorter
/// than `a.rows · b.cols`.
pub fn matmul(isa: Isa, a: MatRef<'_>, b: MatRef<'_>, c: &mut [f32]) {
    match split(a, b, c.len()) {
        Split::Cols(block) => kernel::gemm_cols(isa, a, b, c, block),
        split => split_rows(a, b, c, split, |a, c| {
            kernel::gemm(isa, a, b, c, b.cols, false)
        }),
    }
}

/// [`matmul`] into a new buffer: all `a.rows · b.cols` elements of `c` are
/// written, none read, so `c` needs no zeroing first.
///
/// # Panics
/// As [`matmul`].
pub fn matmul_uninit(isa: Isa, a: MatRef<'_>, b: MatRef<'_>, c: &mut [MaybeUninit<f32>]) {
    match split(a, b, c.len()) {
        Split::Cols(block) => kernel::gemm_uninit_cols(isa, a, b, c, block),
        split => split_rows(a, b, c, split, |a, c| {
            kernel::gemm_uninit(isa, a, b, c, b.cols)
        }),
    }
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

/// How [`matmul`] shares a product among rayon's threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// One thread.
    None,
    /// Blocks of this many rows (each thread packs all of `b`).
    Rows(usize),
    /// Blocks of this many columns (each thread packs its part of `b`).
    Cols(usize),
}

/// Checks the shapes and picks the split: none for small products, the
/// columns when there are fewer rows than columns and enough columns for a
/// panel per thread, else the rows.
fn split(a: MatRef<'_>, b: MatRef<'_>, c_len: usize) -> Split {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(
        k == b.rows && a.in_bounds() && b.in_bounds() && c_len >= m * n,
        "gemm: [{m}, {k}] · [{}, {n}] into {c_len} floats",
        b.rows,
    );
    let threads = rayon::current_num_threads().max(1);
    if threads == 1 || m * k * n < PARALLEL_MIN_WORK || n == 0 {
        return Split::None;
    }
    if m < n && n >= threads * COL_GRAIN {
        return Split::Cols(n.div_ceil(threads).next_multiple_of(COL_GRAIN));
    }
    if m < 2 * ROW_GRAIN {
        return Split::None;
    }
    Split::Rows(m.div_ceil(threads).next_multiple_of(ROW_GRAIN))
}

/// Runs `gemm(a_rows, c_rows)` on `split`'s blocks of rows over rayon's
/// threads (or once).
fn split_rows<T: Send>(
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: &mut [T],
    split: Split,
    gemm: impl Fn(MatRef<'_>, &mut [T]) + Sync,
) {
    use rayon::prelude::*;
    let n = b.cols;
    let Split::Rows(block) = split else {
        return gemm(a, c);
    };
    c[..a.rows * n]
        .par_chunks_mut(block * n)
        .enumerate()
        .for_each(|(t, c)| {
            let rows = c.len() / n;
            gemm(a.rows_slice(t * block, rows), c);
        });
}

#[cfg(test)]
mod tests {
    use super::kernel::tests::values;
    use super::*;

    /// Splitting rows or columns over threads gives the bits of one thread.
    #[test]
    fn a_split_product_equals_the_unsplit_one_bit_for_bit() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build();
        let pool = pool.unwrap_or_else(|e| panic!("a 2-thread pool: {e}"));
        // Fewer rows than columns (a weight gradient, `k` long), and more.
        for (m, k, n, want) in [
            (40, 700, 200, Split::Cols(128)),
            (200, 300, 40, Split::Rows(108)),
        ] {
            let (da, db) = (values(m * k, 3), values(k * n, 4));
            // aᵀ as a `xᵀ · dy` is read: a transposed view.
            let a = MatRef::row_major(&da, k, m).t();
            let b = MatRef::row_major(&db, k, n);
            for isa in [Isa::Avx512, Isa::Avx2Fma, Isa::Scalar] {
                let mut one = vec![f32::NAN; m * n];
                kernel::gemm(isa, a, b, &mut one, n, false);
                let split_here = pool.install(|| split(a, b, m * n));
                assert_eq!(split_here, want, "{m}x{k}x{n}");
                let mut c = vec![f32::NAN; m * n];
                pool.install(|| matmul(isa, a, b, &mut c));
                let fresh = pool.install(|| matmul_vec(isa, a, b));
                for got in [&c, &fresh] {
                    let same = got
                        .iter()
                        .zip(&one)
                        .all(|(x, y)| x.to_bits() == y.to_bits());
                    assert!(same, "{isa:?} {m}x{k}x{n}");
                }
            }
        }
    }
}
