//! `out = x · w` for a few rows of `x`, on plain `f32` slices.
//!
//! The shape of decoding: `x` is `[m, k]` with `m` about 1–32 (one token
//! per sequence), `w` is a `[k, n]` weight. Every output tile of `MR` rows
//! and `NR` columns stays in registers while `k` runs, so each weight row
//! segment is loaded once per tile and each `x` element is broadcast once;
//! the weight panel (`k × NR`) is reused from L1 by the next row block.
//!
//! The tile loops are written in plain Rust and compiled three times, with
//! AVX-512, with AVX2 + FMA and with the baseline target, by
//! `#[target_feature]` wrappers; LLVM vectorises the `NR` loop into one to
//! four registers. The instruction set is chosen at run time.
//!
//! [`matmul_parallel`] splits the rows over rayon's threads when the product
//! is large enough to pay for the hand-off (a few microseconds).

use std::sync::OnceLock;

use burn::tensor::bf16;

/// An element a weight is stored in: `f32`, or `bf16` widened to `f32` as
/// it is loaded (the products are then those of the widened weight, to the
/// bit, with half the weight bytes read).
pub trait Weight: Copy + Send + Sync {
    /// Zero (pads the last, narrower column panel).
    const ZERO: Self;
    /// The value as `f32`.
    fn widen(self) -> f32;
}

impl Weight for f32 {
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn widen(self) -> f32 {
        self
    }
}

impl Weight for bf16 {
    const ZERO: Self = bf16::ZERO;
    #[inline(always)]
    fn widen(self) -> f32 {
        f32::from_bits(u32::from(self.to_bits()) << 16)
    }
}

/// The instruction set a kernel runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// AVX-512F (16 lanes, 32 registers): tiles of 4 × 64.
    Avx512,
    /// AVX2 with FMA (8 lanes, 16 registers): tiles of 4 × 16.
    Avx2Fma,
    /// Whatever the build target has (SSE2 on x86-64): tiles of 4 × 8,
    /// separate multiply and add.
    Scalar,
}

impl Isa {
    /// The best instruction set this CPU has (detected once).
    pub fn detect() -> Self {
        static DETECTED: OnceLock<Isa> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    return Isa::Avx512;
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    return Isa::Avx2Fma;
                }
            }
            Isa::Scalar
        })
    }

    /// Whether this CPU can run kernels built for `self`.
    pub fn is_available(self) -> bool {
        match self {
            Isa::Scalar => true,
            Isa::Avx2Fma => matches!(Isa::detect(), Isa::Avx2Fma | Isa::Avx512),
            Isa::Avx512 => Isa::detect() == Isa::Avx512,
        }
    }
}

/// The sizes of one product: `x [m, k] · w [k, n] = out [m, n]`.
#[derive(Debug, Clone, Copy)]
pub struct Dims {
    /// Rows of `x` and `out`.
    pub m: usize,
    /// Columns of `x`, rows of `w`.
    pub k: usize,
    /// Columns of `w` and `out`.
    pub n: usize,
}

/// `out = x · w`, all row-major and contiguous, with `isa` (falls back to
/// [`Isa::Scalar`] when the CPU lacks it).
///
/// # Panics
/// When a slice is shorter than its shape says.
pub fn matmul<W: Weight>(isa: Isa, x: &[f32], w: &[W], out: &mut [f32], dims: Dims) {
    let Dims { m, k, n } = dims;
    assert!(
        x.len() >= m * k && w.len() >= k * n && out.len() >= m * n,
        "small matmul: slices shorter than [{m}, {k}] · [{k}, {n}]"
    );
    let isa = if isa.is_available() { isa } else { Isa::Scalar };
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            // SAFETY: `is_available` checked that the CPU has AVX-512F.
            #[expect(
                unsafe_code,
                reason = "calling a target_feature function after detection"
            )]
            unsafe {
                matmul_avx512(x, w, out, dims)
            }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => {
            // SAFETY: `is_available` checked that the CPU has AVX2 and FMA.
            #[expect(
                unsafe_code,
                reason = "calling a target_feature function after detection"
            )]
            unsafe {
                matmul_avx2(x, w, out, dims)
            }
        }
        _ => matmul_tiles::<W, 4, 8, false>(x, w, out, dims),
    }
}

/// Fewest multiply-adds for which [`matmul_parallel`] splits the rows:
/// below it the hand-off to another thread costs more than it saves. Waking
/// a sleeping rayon worker costs tens of µs on the 2-vCPU machine (a third
/// of an S decode step's profile was the scheduler at `1 << 19`); a decode
/// step's projections of up to 16 × 256 × 768 stay on one thread.
pub(crate) const PARALLEL_MIN_WORK: usize = 1 << 22;

/// [`matmul`] with the rows split into one contiguous block per rayon
/// thread (blocks a multiple of 4 rows, so tiles stay whole) when `m · k · n`
/// reaches [`PARALLEL_MIN_WORK`]. Each output element is computed by the
/// same code either way, so the result does not depend on the split.
///
/// # Panics
/// When a slice is shorter than its shape says.
pub fn matmul_parallel<W: Weight>(isa: Isa, x: &[f32], w: &[W], out: &mut [f32], dims: Dims) {
    use rayon::prelude::*;
    let Dims { m, k, n } = dims;
    let threads = rayon::current_num_threads().max(1);
    if threads == 1 || m < 8 || m * k * n < PARALLEL_MIN_WORK {
        return matmul(isa, x, w, out, dims);
    }
    assert!(
        x.len() >= m * k && out.len() >= m * n,
        "small matmul: slices shorter than [{m}, {k}] · [{k}, {n}]"
    );
    let block = m.div_ceil(threads).next_multiple_of(4);
    out[..m * n]
        .par_chunks_mut(block * n)
        .zip(x[..m * k].par_chunks(block * k))
        .for_each(|(out, x)| {
            let rows = x.len() / k.max(1);
            matmul(isa, x, w, out, Dims { m: rows, k, n });
        });
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
fn matmul_avx512<W: Weight>(x: &[f32], w: &[W], out: &mut [f32], dims: Dims) {
    matmul_tiles::<W, 4, 64, true>(x, w, out, dims);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn matmul_avx2<W: Weight>(x: &[f32], w: &[W], out: &mut [f32], dims: Dims) {
    matmul_tiles::<W, 4, 16, true>(x, w, out, dims);
}

/// Every `MR × NR` tile; the last, narrower column panel goes through a
/// zero-padded copy so it uses the same tile code.
#[inline(always)]
fn matmul_tiles<W: Weight, const MR: usize, const NR: usize, const FMA: bool>(
    x: &[f32],
    w: &[W],
    out: &mut [f32],
    dims: Dims,
) {
    let Dims { m, k, n } = dims;
    let full = n / NR * NR;
    for j0 in (0..full).step_by(NR) {
        row_blocks::<W, MR, NR, FMA>(x, Panel { w, stride: n, j0 }, out, dims, NR);
    }
    if full < n {
        let width = n - full;
        let mut padded = vec![W::ZERO; k * NR];
        for (p, row) in padded.chunks_exact_mut(NR).enumerate() {
            row[..width].copy_from_slice(&w[p * n + full..p * n + n]);
        }
        let panel = Panel {
            w: &padded,
            stride: NR,
            j0: 0,
        };
        row_blocks::<W, MR, NR, FMA>(x, panel, &mut out[full..], Dims { m, k, n }, width);
    }
}

/// `NR` columns of a weight: row `p` is `w[p * stride + j0 ..][..NR]`.
#[derive(Clone, Copy)]
struct Panel<'a, W> {
    w: &'a [W],
    stride: usize,
    j0: usize,
}

/// All rows of one column panel, `MR` (then 4, 2, 1) rows at a time; writes
/// the first `width` columns of each tile to `out[i * n + j0 ..]`.
#[inline(always)]
fn row_blocks<W: Weight, const MR: usize, const NR: usize, const FMA: bool>(
    x: &[f32],
    panel: Panel<'_, W>,
    out: &mut [f32],
    dims: Dims,
    width: usize,
) {
    let mut i0 = 0;
    while i0 < dims.m {
        let rows = dims.m - i0;
        i0 += if rows >= MR {
            tile::<W, MR, NR, FMA>(x, panel, out, dims, i0, width)
        } else if rows >= 4 && MR > 4 {
            tile::<W, 4, NR, FMA>(x, panel, out, dims, i0, width)
        } else if rows >= 2 && MR > 2 {
            tile::<W, 2, NR, FMA>(x, panel, out, dims, i0, width)
        } else {
            tile::<W, 1, NR, FMA>(x, panel, out, dims, i0, width)
        };
    }
}

/// One `R × NR` tile at rows `i0..i0 + R`; returns `R`.
#[inline(always)]
fn tile<W: Weight, const R: usize, const NR: usize, const FMA: bool>(
    x: &[f32],
    panel: Panel<'_, W>,
    out: &mut [f32],
    dims: Dims,
    i0: usize,
    width: usize,
) -> usize {
    let Dims { k, n, .. } = dims;
    let mut acc = [[0.0f32; NR]; R];
    let x_rows: [&[f32]; R] = std::array::from_fn(|i| &x[(i0 + i) * k..(i0 + i + 1) * k]);
    for p in 0..k {
        let start = p * panel.stride + panel.j0;
        let Some(w_row) = panel.w.get(start..start + NR) else {
            break;
        };
        for (acc_row, x_row) in acc.iter_mut().zip(&x_rows) {
            let xi = x_row[p];
            for (a, &wv) in acc_row.iter_mut().zip(w_row) {
                let wv = wv.widen();
                *a = if FMA {
                    xi.mul_add(wv, *a)
                } else {
                    *a + xi * wv
                };
            }
        }
    }
    for (i, acc_row) in acc.iter().enumerate() {
        let start = (i0 + i) * n + panel.j0;
        out[start..start + width].copy_from_slice(&acc_row[..width]);
    }
    R
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(x: &[f32], w: &[f32], dims: Dims) -> Vec<f64> {
        let Dims { m, k, n } = dims;
        let mut out = vec![0.0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k)
                    .map(|p| f64::from(x[i * k + p]) * f64::from(w[p * n + j]))
                    .sum();
            }
        }
        out
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761) ^ seed) as f32 / u32::MAX as f32 - 0.5)
            .collect()
    }

    #[test]
    fn every_isa_matches_a_naive_product_on_odd_shapes() {
        for (m, k, n) in [
            (1, 1, 1),
            (3, 7, 5),
            (16, 256, 768),
            (9, 33, 47),
            (32, 64, 100),
            (5, 128, 31),
        ] {
            let dims = Dims { m, k, n };
            let (x, w) = (values(m * k, 1), values(k * n, 2));
            let want = naive(&x, &w, dims);
            for isa in [Isa::Avx512, Isa::Avx2Fma, Isa::Scalar] {
                let mut out = vec![f32::NAN; m * n];
                matmul(isa, &x, &w, &mut out, dims);
                for (got, want) in out.iter().zip(&want) {
                    let err = (f64::from(*got) - want).abs();
                    assert!(
                        err <= 1e-5 * (1.0 + want.abs()),
                        "{isa:?} {m}x{k}x{n}: {got} vs {want}"
                    );
                }
            }
        }
    }

    /// A BF16 weight gives the products of its widened f32 copy, to the bit.
    #[test]
    fn a_bf16_weight_equals_its_widened_copy() {
        for (m, k, n) in [(1, 7, 5), (16, 256, 768), (9, 33, 47)] {
            let dims = Dims { m, k, n };
            let x = values(m * k, 5);
            let w: Vec<bf16> = values(k * n, 6).into_iter().map(bf16::from_f32).collect();
            let wide: Vec<f32> = w.iter().map(|v| v.to_f32()).collect();
            for isa in [Isa::Avx512, Isa::Avx2Fma, Isa::Scalar] {
                let (mut got, mut want) = (vec![f32::NAN; m * n], vec![0.0; m * n]);
                matmul(isa, &x, &w, &mut got, dims);
                matmul(isa, &x, &wide, &mut want, dims);
                assert_eq!(got, want, "{isa:?} {m}x{k}x{n}");
            }
        }
    }

    #[test]
    fn the_parallel_split_gives_the_same_bits() {
        for (m, k, n) in [(16, 256, 768), (13, 300, 257), (32, 128, 512)] {
            let dims = Dims { m, k, n };
            let (x, w) = (values(m * k, 3), values(k * n, 4));
            let mut serial = vec![0.0; m * n];
            let mut parallel = vec![1.0; m * n];
            matmul(Isa::detect(), &x, &w, &mut serial, dims);
            matmul_parallel(Isa::detect(), &x, &w, &mut parallel, dims);
            assert_eq!(serial, parallel, "{m}x{k}x{n}");
        }
    }
}
