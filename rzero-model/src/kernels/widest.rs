//! Element-wise and row-wise loops compiled for the CPU's widest vectors.
//!
//! The crate builds for baseline x86-64 (SSE2), so a loop over
//! [`crate::fused::exp`] vectorised 4 lanes wide at best; `SiLU ⊙ up` took
//! 5 % of a scoring forward. [`widest`] runs a closure inside a
//! `#[target_feature]` function picked at run time: the closure, marked
//! `#[inline(always)]`, inlines there and LLVM vectorises its loops with
//! AVX-512 or AVX2. The same operations run in every case (Rust does not
//! contract `a * b + c` into an FMA), so the results are the same bits on
//! every CPU.

use crate::small_matmul::kernel::Isa;

/// `f()` compiled with the widest instruction set this CPU has.
///
/// Mark the closure `#[inline(always)]`: LLVM inlines it into the
/// `#[target_feature]` function only when it is small, and a closure it
/// leaves out-of-line runs as baseline SSE2 code (the RMSNorm and training
/// attention loops did, 3–4 % of a forward pass).
#[inline(always)]
pub(crate) fn widest<R>(f: impl FnOnce() -> R) -> R {
    with_isa(Isa::detect(), f)
}

/// `f()` compiled with `isa` (the baseline where the CPU lacks it).
#[inline(always)]
fn with_isa<R>(isa: Isa, f: impl FnOnce() -> R) -> R {
    let isa = if isa.is_available() { isa } else { Isa::Scalar };
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            // SAFETY: `is_available` found AVX-512F (VL taken with it, as
            // the matmul's tiles do).
            #[expect(
                unsafe_code,
                reason = "calling a target_feature function after detection"
            )]
            unsafe {
                avx512(f)
            }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => {
            // SAFETY: `is_available` found AVX2 and FMA.
            #[expect(
                unsafe_code,
                reason = "calling a target_feature function after detection"
            )]
            unsafe {
                avx2(f)
            }
        }
        _ => f(),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loop_gives_the_same_bits_under_every_instruction_set() {
        let xs: Vec<f32> = (0..4099).map(|i| (i as f32 - 2050.0) * 0.047).collect();
        let silu = |x: f32| x / (1.0 + crate::fused::exp(-x));
        let plain: Vec<f32> = xs.iter().map(|&x| silu(x)).collect();
        let wide = widest(
            #[inline(always)]
            || xs.iter().map(|&x| silu(x)).collect::<Vec<_>>(),
        );
        let same = plain
            .iter()
            .zip(&wide)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same && plain.len() == wide.len(), "{:?}", Isa::detect());
        assert!((silu(1.0) - 0.731_058_6).abs() < 1e-6);
    }
}
