//! Seeds: every RNG is seeded from the run seed and its place in the run,
//! so a resumed run draws exactly what an uninterrupted one would.

/// SplitMix64 finaliser of `a` and `b`.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(0x6A09_E667_F3BC_C909);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Seed of one unit of work: `(run seed, iteration, phase tag, step)`.
pub fn unit_seed(run_seed: u64, iteration: usize, phase: &str, step: usize) -> u64 {
    let tag = phase.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    mix(mix(mix(run_seed, iteration as u64), tag), step as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_get_distinct_seeds() {
        let a = unit_seed(1, 1, "solver", 0);
        assert_ne!(a, unit_seed(1, 1, "solver", 1));
        assert_ne!(a, unit_seed(1, 2, "solver", 0));
        assert_ne!(a, unit_seed(1, 1, "challenger", 0));
        assert_ne!(a, unit_seed(2, 1, "solver", 0));
        assert_eq!(a, unit_seed(1, 1, "solver", 0));
    }
}
