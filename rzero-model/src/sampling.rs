//! Token sampling from logits: the [`Sampling`] rule and its seeded [`Sampler`].
//!
//! Filtering follows vLLM (`apply_top_k_top_p`): logits are divided by the
//! temperature, then top-k keeps every token whose scaled logit is at least
//! the k-th largest (ties at the k-th value are all kept, as in vLLM and
//! transformers), then top-p keeps the smallest prefix of the remaining
//! tokens, in descending order, whose probability mass reaches `p`:
//! token `i` stays when the mass of the tokens ranked above it is `< p`, so
//! the most likely token always stays. The draw is from
//! `softmax(logits / temperature)` renormalised over the kept tokens.
//!
//! NaN logits count as `-inf` and `+inf` as the largest finite `f32`. A row
//! with nothing above `-inf` yields token 0.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{ModelError, Result};

/// Below this temperature vLLM samples greedily.
const GREEDY_TEMPERATURE: f32 = 1e-5;

/// How the next token is chosen from logits; combinations as vLLM allows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    /// The most likely token; ties go to the lowest id.
    Greedy,
    /// Draw from `softmax(logits / temperature)`.
    Temperature {
        /// Divides the logits; `> 0`.
        temperature: f32,
    },
    /// Draw among the `k` most likely tokens.
    TopK {
        /// How many tokens to keep; `>= 1`.
        k: usize,
        /// Divides the logits; `> 0`.
        temperature: f32,
    },
    /// Draw from the nucleus holding probability mass `p`.
    TopP {
        /// Nucleus mass, in `(0, 1)`.
        p: f32,
        /// Divides the logits; `> 0`.
        temperature: f32,
    },
    /// Top-k first, then top-p over what is left.
    TopKTopP {
        /// How many tokens to keep; `>= 1`.
        k: usize,
        /// Nucleus mass, in `(0, 1)`.
        p: f32,
        /// Divides the logits; `> 0`.
        temperature: f32,
    },
}

impl Sampling {
    /// Builds the rule from vLLM-style `SamplingParams`.
    ///
    /// vLLM semantics: `temperature < 1e-5` means greedy (top-k and top-p
    /// are then ignored); `top_k` of `-1` or `0` means off; `top_p == 1`
    /// means off. Errors when `temperature` is negative or not finite,
    /// `top_p` is outside `(0, 1]`, or `top_k < -1`.
    pub fn from_vllm(temperature: f32, top_p: f32, top_k: i64) -> Result<Self> {
        let bad = |reason: String| Err(ModelError::BadSampling { reason });
        if !temperature.is_finite() || temperature < 0.0 {
            return bad(format!(
                "temperature must be finite and >= 0, got {temperature}"
            ));
        }
        if !(top_p > 0.0 && top_p <= 1.0) {
            return bad(format!("top_p must be in (0, 1], got {top_p}"));
        }
        if top_k < -1 {
            return bad(format!("top_k must be -1, 0 (off) or >= 1, got {top_k}"));
        }
        if temperature < GREEDY_TEMPERATURE {
            return Ok(Self::Greedy);
        }
        let k = usize::try_from(top_k).ok().filter(|&k| k >= 1);
        let p = (top_p < 1.0).then_some(top_p);
        Ok(match (k, p) {
            (None, None) => Self::Temperature { temperature },
            (Some(k), None) => Self::TopK { k, temperature },
            (None, Some(p)) => Self::TopP { p, temperature },
            (Some(k), Some(p)) => Self::TopKTopP { k, p, temperature },
        })
    }

    /// Whether this rule ignores the RNG.
    pub fn is_greedy(&self) -> bool {
        matches!(self, Self::Greedy)
    }

    /// `(top_k, top_p, temperature)`, with `None` for a filter that is off.
    fn parts(&self) -> (Option<usize>, Option<f32>, f32) {
        match *self {
            Self::Greedy => (Some(1), None, 1.0),
            Self::Temperature { temperature } => (None, None, temperature),
            Self::TopK { k, temperature } => (Some(k), None, temperature),
            Self::TopP { p, temperature } => (None, Some(p), temperature),
            Self::TopKTopP { k, p, temperature } => (Some(k), Some(p), temperature),
        }
    }

    /// The tokens this rule may emit and their renormalised probabilities,
    /// most likely first (ties by lowest id). Empty when every logit is `-inf`
    /// or NaN.
    ///
    /// For [`Sampling::Greedy`] this is the single argmax token.
    pub fn candidates(&self, logits: &[f32]) -> Vec<(u32, f64)> {
        if self.is_greedy() {
            return argmax(logits).map(|t| vec![(t, 1.0)]).unwrap_or_default();
        }
        let mut kept = Vec::new();
        let total = self.weights(logits, true, &mut kept);
        kept.iter_mut().for_each(|(_, w)| *w /= total);
        kept
    }

    /// Fills `kept` with the tokens a non-greedy rule may draw and their
    /// weights `exp(l / T - max)`; returns the weights' sum. `sorted ==
    /// false` skips ordering where no filter needs it (the order only
    /// decides which token a uniform draw maps to, not the distribution).
    ///
    /// Cost is O(V) expected, with one `exp` per token surviving top-k:
    /// top-k partitions with `select_nth`, top-p finds the nucleus by
    /// repeated halving (vLLM sorts all V, O(V log V)).
    fn weights(&self, logits: &[f32], sorted: bool, kept: &mut Vec<(u32, f64)>) -> f64 {
        let (top_k, top_p, temperature) = self.parts();
        let inv_t = 1.0 / f64::from(temperature);
        kept.clear();
        // NaN and -inf can never be drawn; +inf counts as the largest f32.
        kept.extend(
            (0u32..)
                .zip(logits)
                .filter(|(_, l)| !l.is_nan() && **l != f32::NEG_INFINITY)
                .map(|(i, &l)| (i, f64::from(l.min(f32::MAX)) * inv_t)),
        );
        if let Some(k) = top_k.filter(|&k| k < kept.len()) {
            kept.select_nth_unstable_by(k - 1, by_weight_desc);
            let threshold = kept[k - 1].1;
            kept.retain(|&(_, s)| s >= threshold);
        }
        let max = kept.iter().fold(f64::NEG_INFINITY, |m, &(_, s)| m.max(s));
        kept.iter_mut().for_each(|(_, s)| *s = (*s - max).exp());
        if let Some(p) = top_p {
            let total: f64 = kept.iter().map(|&(_, w)| w).sum();
            let len = nucleus_len(kept, f64::from(p) * total);
            kept.truncate(len);
        }
        if sorted {
            kept.sort_unstable_by(by_weight_desc);
        }
        kept.iter().map(|&(_, w)| w).sum()
    }
}

/// Descending weight (or scaled logit), then ascending id: a total order,
/// so results never depend on the selection algorithm.
fn by_weight_desc(a: &(u32, f64), b: &(u32, f64)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

/// Length of the nucleus: in [`by_weight_desc`] order, the shortest
/// non-empty prefix whose weight reaches `target`. Reorders `kept` so that
/// the nucleus is `kept[..len]` (in no particular order).
///
/// Halving search: `select_nth` splits the undecided range at its middle;
/// if the upper half's mass completes `target`, the cut lies in it,
/// otherwise that half is wholly kept. O(V) expected.
fn nucleus_len(kept: &mut [(u32, f64)], target: f64) -> usize {
    // kept[..lo] is in the nucleus and outranks kept[lo..hi]; the cut is in lo..=hi.
    let (mut lo, mut hi, mut above) = (0, kept.len(), 0.0);
    while hi - lo > 32 {
        let mid = lo + (hi - lo) / 2;
        kept[lo..hi].select_nth_unstable_by(mid - lo, by_weight_desc);
        let upper: f64 = kept[lo..mid].iter().map(|&(_, w)| w).sum();
        if above + upper >= target {
            hi = mid;
        } else {
            above += upper;
            lo = mid;
        }
    }
    kept[lo..hi].sort_unstable_by(by_weight_desc);
    for (i, &(_, w)) in (lo..).zip(&kept[lo..hi]) {
        if i > 0 && above >= target {
            return i;
        }
        above += w;
    }
    hi
}

/// Index of the largest logit, lowest index on ties; `None` when every
/// logit is `-inf` or NaN (NaN never compares greater).
pub fn argmax(logits: &[f32]) -> Option<u32> {
    let mut best = None;
    let mut best_logit = f32::NEG_INFINITY;
    for (i, &l) in (0u32..).zip(logits) {
        if l > best_logit {
            best_logit = l;
            best = Some(i);
        }
    }
    best
}

/// A [`Sampling`] rule with the RNG it owns.
///
/// ```
/// use rzero_model::sampling::{Sampler, Sampling, sample_seed};
///
/// let rule = Sampling::from_vllm(0.6, 0.95, 20)?;
/// let mut sampler = Sampler::new(rule, sample_seed(42, 0, 3, 1));
/// let token = sampler.sample(&[0.1, 2.5, -1.0, 2.4]);
/// assert!(token == 1 || token == 3);
/// # Ok::<(), rzero_model::ModelError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sampler {
    sampling: Sampling,
    rng: ChaCha8Rng,
    /// Reused between calls to avoid one allocation per token.
    buffer: Vec<(u32, f64)>,
}

impl Sampler {
    /// A sampler whose ChaCha8 RNG is seeded from `seed` (see [`sample_seed`]).
    pub fn new(sampling: Sampling, seed: u64) -> Self {
        Self {
            sampling,
            rng: ChaCha8Rng::seed_from_u64(seed),
            buffer: Vec::new(),
        }
    }

    /// The rule in use.
    pub fn sampling(&self) -> Sampling {
        self.sampling
    }

    /// Draws the next token id from one row of logits.
    ///
    /// Greedy consumes no randomness; every other rule draws exactly one
    /// uniform number per call, so sequences depend only on seed and logits.
    pub fn sample(&mut self, logits: &[f32]) -> u32 {
        if self.sampling.is_greedy() {
            return argmax(logits).unwrap_or(0);
        }
        let u: f64 = self.rng.random();
        let total = self.sampling.weights(logits, false, &mut self.buffer);
        let target = u * total;
        let mut cumulative = 0.0;
        for &(id, w) in &self.buffer {
            cumulative += w;
            if target < cumulative {
                return id;
            }
        }
        // Rounding left `cumulative` at or below `target`: take the last
        // token that has weight.
        self.buffer
            .iter()
            .rev()
            .find(|&&(_, w)| w > 0.0)
            .map_or(0, |&(id, _)| id)
    }
}

/// The seed of one sampling stream, from its place in a run.
///
/// Every RNG has one owner seeded from `(run_seed, iteration, index,
/// sample)`, so a sample's tokens do not depend on batch layout or on
/// what else ran. Mixing is SplitMix64 (Steele et al., 2014) applied to
/// each part in turn: stable across platforms and releases.
pub fn sample_seed(run_seed: u64, iteration: u64, index: u64, sample: u64) -> u64 {
    [iteration, index, sample]
        .into_iter()
        .fold(splitmix64(run_seed), |h, part| {
            splitmix64(h ^ splitmix64(part))
        })
}

/// One SplitMix64 output step.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_skips_nan_and_takes_lowest_tie() {
        assert_eq!(argmax(&[f32::NAN, 1.0, 3.0, 3.0]), Some(2));
        assert_eq!(argmax(&[f32::NEG_INFINITY, f32::NEG_INFINITY]), None);
        assert_eq!(argmax(&[f32::NEG_INFINITY, -1e30]), Some(1));
        assert_eq!(argmax(&[]), None);
    }

    #[test]
    fn top_k_keeps_ties_at_the_threshold() {
        let c = Sampling::TopK {
            k: 2,
            temperature: 1.0,
        }
        .candidates(&[1.0, 2.0, 1.0, 0.0]);
        let ids: Vec<u32> = c.iter().map(|&(i, _)| i).collect();
        assert_eq!(ids, vec![1, 0, 2]);
    }

    #[test]
    fn top_p_keeps_smallest_prefix_reaching_p() {
        // probs 0.5, 0.3, 0.2: p = 0.8 keeps two tokens, p = 0.81 keeps three.
        let logits = [0.5f32.ln(), 0.3f32.ln(), 0.2f32.ln()];
        let two = Sampling::TopP {
            p: 0.79,
            temperature: 1.0,
        }
        .candidates(&logits);
        assert_eq!(two.len(), 2);
        assert!((two[0].1 - 0.625).abs() < 1e-6);
        let three = Sampling::TopP {
            p: 0.81,
            temperature: 1.0,
        }
        .candidates(&logits);
        assert_eq!(three.len(), 3);
        let one = Sampling::TopP {
            p: 0.01,
            temperature: 1.0,
        }
        .candidates(&logits);
        assert_eq!(one, vec![(0, 1.0)]);
    }

    #[test]
    fn sample_seed_separates_every_part() {
        let base = sample_seed(1, 2, 3, 4);
        assert_eq!(base, sample_seed(1, 2, 3, 4));
        for other in [
            sample_seed(0, 2, 3, 4),
            sample_seed(1, 3, 3, 4),
            sample_seed(1, 2, 4, 4),
        ] {
            assert_ne!(base, other);
        }
        assert_ne!(base, sample_seed(1, 2, 3, 5));
        assert_ne!(sample_seed(1, 2, 3, 4), sample_seed(1, 2, 4, 3));
    }
}
