//! Seeded normal values with random access: element `i` of a tensor depends
//! only on `(seed, tensor name, i)`, so tensors can be generated in any
//! order, in parallel chunks, and checked one element at a time.
//!
//! The generator is counter-based SplitMix64 (`mix(key + n·γ)`, Steele et
//! al. 2014) feeding Box–Muller, written here rather than taken from `rand`
//! so a dependency upgrade never changes a written checkpoint.

/// SplitMix64's increment γ (2⁶⁴ / golden ratio).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a of a tensor name: a stable per-tensor stream id.
fn fnv1a(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// `N(0, std)` values of one tensor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NormalStream {
    key: u64,
    std: f64,
}

impl NormalStream {
    /// The stream of tensor `name` under `seed`.
    pub(crate) fn new(seed: u64, name: &str, std: f64) -> Self {
        Self {
            key: mix(seed ^ fnv1a(name)),
            std,
        }
    }

    /// The `n`-th uniform 64-bit word of the stream.
    fn word(&self, n: u64) -> u64 {
        mix(self.key.wrapping_add(n.wrapping_add(1).wrapping_mul(GAMMA)))
    }

    /// Box–Muller pair `k` (elements `2k` and `2k + 1`): with `u1 ∈ (0, 1]`,
    /// `u2 ∈ [0, 1)`, `r = √(−2 ln u1)`, the pair is `std·r·(cos 2πu2, sin 2πu2)`.
    fn pair(&self, k: u64) -> (f32, f32) {
        let unit = |w: u64| (w >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let u1 = unit(self.word(2 * k)) + 1.0 / (1u64 << 53) as f64;
        let u2 = unit(self.word(2 * k + 1));
        let r = self.std * (-2.0 * u1.ln()).sqrt();
        let (sin, cos) = (std::f64::consts::TAU * u2).sin_cos();
        ((r * cos) as f32, (r * sin) as f32)
    }

    /// Element `i` of the tensor.
    pub(crate) fn value(&self, i: u64) -> f32 {
        let (even, odd) = self.pair(i / 2);
        if i.is_multiple_of(2) { even } else { odd }
    }

    /// Elements `start .. start + out.len()`.
    pub(crate) fn fill(&self, start: u64, out: &mut [f32]) {
        let mut k = start / 2;
        // An odd start begins with the second half of pair `k`.
        let mut first_half = start.is_multiple_of(2);
        let mut at = 0;
        while at < out.len() {
            let (even, odd) = self.pair(k);
            if first_half {
                out[at] = even;
                at += 1;
            }
            if at < out.len() {
                out[at] = odd;
                at += 1;
            }
            first_half = true;
            k += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_at_any_offset_equals_element_by_element() {
        let stream = NormalStream::new(7, "model.norm.weight", 0.02);
        for (start, len) in [(0u64, 9usize), (3, 6), (5, 1), (10, 0)] {
            let mut out = vec![0.0; len];
            stream.fill(start, &mut out);
            let one: Vec<f32> = (start..start + len as u64)
                .map(|i| stream.value(i))
                .collect();
            assert_eq!(out, one, "start {start}");
        }
    }

    #[test]
    fn moments_are_those_of_the_normal() {
        let n = 200_000;
        let mut out = vec![0.0f32; n];
        NormalStream::new(1, "t", 0.02).fill(0, &mut out);
        let mean = out.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
        let var = out
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        // Standard errors: 0.02/√n ≈ 4.5e-5 for the mean, ~0.3 % for the std.
        assert!(mean.abs() < 2.5e-4, "mean {mean}");
        assert!((var.sqrt() - 0.02).abs() < 2e-4, "std {}", var.sqrt());
        let beyond_2sd = out.iter().filter(|v| v.abs() > 0.04).count() as f64 / n as f64;
        assert!((beyond_2sd - 0.0455).abs() < 0.003, "{beyond_2sd}");
    }

    #[test]
    fn streams_differ_by_seed_and_name() {
        let a = NormalStream::new(0, "a", 1.0).value(0);
        assert_ne!(a, NormalStream::new(1, "a", 1.0).value(0));
        assert_ne!(a, NormalStream::new(0, "b", 1.0).value(0));
        assert_eq!(a, NormalStream::new(0, "a", 1.0).value(0));
    }
}
