//! Fused element-wise ops on flex: the MLP's `silu(gate) ⊙ up` in one pass
//! (and its backward, [`crate::kernels`]), and the vectorisable [`exp`] it,
//! the attention kernels, the LM head and the log-probs of sampled tokens use.
//!
//! flex computes `exp` one element at a time through libm (about 2 ns per
//! element, 4 ns for SiLU: BURN-NOTES.md), and `silu(gate) * up` takes three
//! passes and two temporaries. Here the polynomial `exp` lets LLVM
//! vectorise the whole loop.

use burn::backend::Dispatch;
use burn::prelude::*;

use crate::kernels::KernelBackend;

/// `silu(gate) ⊙ up = gate · σ(gate) ⊙ up` through
/// [`KernelBackend::silu_mul`]: one fused pass on flex (on an autodiff
/// device with a fused backward too), burn's ops elsewhere. Agrees with
/// burn's `silu(gate) * up` within a few ulp.
///
/// # Shapes
/// - gate, up: the same shape; output: that shape
///
/// # Panics
/// When the shapes differ.
pub fn silu_mul<const D: usize>(gate: Tensor<D>, up: Tensor<D>) -> Tensor<D> {
    assert_eq!(
        gate.dims(),
        up.dims(),
        "silu_mul: gate and up shapes differ"
    );
    let out = <Dispatch as KernelBackend>::silu_mul(gate.into_dispatch(), up.into_dispatch());
    Tensor::from_dispatch(out)
}

/// `eˣ` within 3 ulp on `[-87, 88]`, clamped above 88 and exactly 0 below
/// `ln` of the smallest normal float (about -87.34; `-inf` gives 0; NaN
/// stays NaN), branch-free so loops over it vectorise: `eˣ = 2ⁿ · e^r` with
/// `n = round(x / ln 2)`, `|r| ≤ ln 2 / 2`, and `e^r` from its degree-6
/// Taylor polynomial (error `r⁷/7! < 1.3e-7`).
///
/// Flushing to 0 below the normal range matters: subnormal probabilities
/// (a masked score's `exp(-inf)`) fed into a matmul cost microcode assists,
/// about 100× per operation (a training step ran 3× slower).
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding 1.5 · 2²³ rounds to the nearest integer in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    // Below this the result would be subnormal.
    const MIN_NORMAL_LN: f32 = -87.336_54;
    let tiny = x < MIN_NORMAL_LN;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let poly = 1.0
        + r * (1.0
            + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r / 720.0)))));
    // n + 127 in the exponent bits: the low bits of `shifted` hold n.
    let bits = shifted
        .to_bits()
        .wrapping_sub(ROUND.to_bits())
        .wrapping_add(127)
        << 23;
    let value = f32::from_bits(bits) * poly;
    // NaN compares false and stays NaN (the clamp keeps it).
    if tiny { 0.0 } else { value }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Distribution;

    use super::*;

    #[test]
    fn exp_is_within_three_ulp_of_std() {
        for i in -8700..8800 {
            let x = i as f32 * 0.01 + 0.003;
            let (got, want) = (exp(x), x.exp());
            // 3 ulp: 3 · 2⁻²³ relative (Horner rounding on top of the r⁷/7! term).
            assert!(
                (got - want).abs() <= 3.0 * f32::EPSILON * want,
                "{x}: {got} vs {want}"
            );
        }
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(-87.4), 0.0);
        assert!(exp(-87.3) >= f32::MIN_POSITIVE);
        assert!(exp(f32::NAN).is_nan());
    }

    #[test]
    fn silu_mul_matches_burns_silu_times_up() {
        let device = Device::flex();
        for shape in [[1, 1, 1], [3, 1, 7], [16, 1, 384], [2, 5, 33]] {
            let gate = Tensor::<3>::random(shape, Distribution::Normal(0.0, 4.0), &device);
            let up = Tensor::<3>::random(shape, Distribution::Normal(0.0, 1.0), &device);
            let want = burn::tensor::activation::silu(gate.clone()) * up.clone();
            let got = silu_mul(gate, up);
            let vec = |t: Tensor<3>| t.into_data().convert::<f32>().try_into_vec::<f32>();
            let (got, want) = (vec(got).unwrap_or_default(), vec(want).unwrap_or_default());
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-6 * (1.0 + w.abs()), "{g} vs {w}");
            }
        }
    }
}
