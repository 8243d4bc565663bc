//! Sampling rules: greedy, temperature, top-k, top-p, seeding.

use proptest::prelude::*;
use rzero_model::ModelError;
use rzero_model::sampling::{Sampler, Sampling, argmax, sample_seed};

fn softmax(logits: &[f32], temperature: f64) -> Vec<f64> {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &l| m.max(l));
    let e: Vec<f64> = logits
        .iter()
        .map(|&l| ((f64::from(l) - f64::from(max)) / temperature).exp())
        .collect();
    let total: f64 = e.iter().sum();
    e.iter().map(|x| x / total).collect()
}

fn frequencies(sampler: &mut Sampler, logits: &[f32], draws: usize) -> Vec<f64> {
    let mut counts = vec![0usize; logits.len()];
    for _ in 0..draws {
        counts[sampler.sample(logits) as usize] += 1;
    }
    counts.iter().map(|&c| c as f64 / draws as f64).collect()
}

#[test]
fn greedy_is_argmax() {
    let logits = [0.1, -2.0, 3.5, 3.4, f32::NAN];
    let mut s = Sampler::new(Sampling::Greedy, 7);
    assert_eq!(s.sample(&logits), 2);
    assert_eq!(s.sample(&[1.0, 1.0, 0.0]), 0, "ties go to the lowest id");
}

#[test]
fn temperature_frequencies_match_softmax() {
    let logits = [1.0, 0.0, -1.0, 2.0, 0.5];
    for temperature in [0.7f32, 1.0, 1.5] {
        let mut s = Sampler::new(Sampling::Temperature { temperature }, 42);
        let freq = frequencies(&mut s, &logits, 40_000);
        let expected = softmax(&logits, f64::from(temperature));
        for (f, e) in freq.iter().zip(&expected) {
            // Binomial standard error at 40k draws is at most 0.0025.
            assert!(
                (f - e).abs() < 0.012,
                "t={temperature}: {freq:?} vs {expected:?}"
            );
        }
    }
}

#[test]
fn top_k_frequencies_match_renormalised_softmax() {
    let logits = [1.0, 0.0, -1.0, 2.0, 0.5];
    let mut s = Sampler::new(
        Sampling::TopK {
            k: 2,
            temperature: 1.0,
        },
        3,
    );
    let freq = frequencies(&mut s, &logits, 20_000);
    let e = softmax(&[2.0, 1.0], 1.0);
    assert!(
        (freq[3] - e[0]).abs() < 0.015 && (freq[0] - e[1]).abs() < 0.015,
        "{freq:?}"
    );
    assert_eq!(freq[1] + freq[2] + freq[4], 0.0);
}

#[test]
fn same_seed_same_sequence_other_seed_differs() {
    let logits: Vec<f32> = (0..50).map(|i| (i as f32 * 0.37).sin()).collect();
    let rule = Sampling::TopKTopP {
        k: 20,
        p: 0.9,
        temperature: 1.2,
    };
    let run = |seed| {
        let mut s = Sampler::new(rule, seed);
        (0..64).map(|_| s.sample(&logits)).collect::<Vec<u32>>()
    };
    assert_eq!(run(11), run(11));
    assert_ne!(run(11), run(12));
    assert_ne!(sample_seed(1, 0, 0, 0), sample_seed(1, 0, 0, 1));
}

#[test]
fn from_vllm_maps_and_validates() {
    assert_eq!(Sampling::from_vllm(0.0, 0.5, 10).unwrap(), Sampling::Greedy);
    assert_eq!(
        Sampling::from_vllm(1.0, 1.0, -1).unwrap(),
        Sampling::Temperature { temperature: 1.0 }
    );
    assert_eq!(
        Sampling::from_vllm(0.6, 1.0, 0).unwrap(),
        Sampling::Temperature { temperature: 0.6 }
    );
    assert_eq!(
        Sampling::from_vllm(0.6, 1.0, 20).unwrap(),
        Sampling::TopK {
            k: 20,
            temperature: 0.6
        }
    );
    assert_eq!(
        Sampling::from_vllm(0.6, 0.95, -1).unwrap(),
        Sampling::TopP {
            p: 0.95,
            temperature: 0.6
        }
    );
    assert_eq!(
        Sampling::from_vllm(0.6, 0.95, 20).unwrap(),
        Sampling::TopKTopP {
            k: 20,
            p: 0.95,
            temperature: 0.6
        }
    );
    for (t, p, k) in [
        (-0.1, 1.0, -1),
        (f32::NAN, 1.0, -1),
        (1.0, 0.0, -1),
        (1.0, 1.1, -1),
        (1.0, 1.0, -2),
    ] {
        let err = Sampling::from_vllm(t, p, k).unwrap_err();
        assert!(matches!(err, ModelError::BadSampling { .. }), "{err}");
    }
}

#[test]
fn all_masked_row_yields_token_zero_without_panic() {
    let row = [f32::NEG_INFINITY, f32::NAN, f32::NEG_INFINITY];
    for rule in [
        Sampling::Greedy,
        Sampling::TopP {
            p: 0.5,
            temperature: 1.0,
        },
    ] {
        assert_eq!(Sampler::new(rule, 0).sample(&row), 0);
    }
    assert_eq!(
        Sampler::new(Sampling::Temperature { temperature: 1.0 }, 0).sample(&[]),
        0
    );
}

/// Straightforward reference: full sort, top-k keeping ties, softmax, then
/// the shortest prefix whose mass reaches `p`, renormalised.
fn naive(logits: &[f32], k: Option<usize>, p: Option<f32>, t: f32) -> Vec<(u32, f64)> {
    let mut v: Vec<(u32, f64)> = (0u32..)
        .zip(logits)
        .map(|(i, &l)| (i, f64::from(l) / f64::from(t)))
        .collect();
    v.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap().then(a.0.cmp(&b.0)));
    if let Some(k) = k.filter(|&k| k < v.len()) {
        let threshold = v[k - 1].1;
        v.retain(|x| x.1 >= threshold);
    }
    let max = v[0].1;
    let z: f64 = v.iter().map(|x| (x.1 - max).exp()).sum();
    let mut probs: Vec<(u32, f64)> = v.iter().map(|x| (x.0, (x.1 - max).exp() / z)).collect();
    if let Some(p) = p {
        let (mut above, mut n) = (0.0, 0);
        while n < probs.len() && (n == 0 || above < f64::from(p)) {
            above += probs[n].1;
            n += 1;
        }
        probs.truncate(n);
        let z: f64 = probs.iter().map(|x| x.1).sum();
        probs.iter_mut().for_each(|x| x.1 /= z);
    }
    probs
}

fn logits_strategy() -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(-20.0f32..20.0, 1..64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn top_k_one_is_greedy(logits in logits_strategy(), seed in any::<u64>(), t in 0.1f32..3.0) {
        let greedy = argmax(&logits).unwrap();
        let tied = logits.iter().filter(|&&l| l == logits[greedy as usize]).count();
        prop_assume!(tied == 1);
        let mut s = Sampler::new(Sampling::TopK { k: 1, temperature: t }, seed);
        prop_assert_eq!(s.sample(&logits), greedy);
    }

    #[test]
    fn top_p_stays_in_nucleus(logits in logits_strategy(), seed in any::<u64>(), p in 0.05f32..0.99) {
        let probs = softmax(&logits, 1.0);
        let mut s = Sampler::new(Sampling::TopP { p, temperature: 1.0 }, seed);
        for _ in 0..16 {
            let id = s.sample(&logits) as usize;
            // Mass of tokens strictly more likely than the sampled one must be < p.
            let above: f64 = probs.iter().filter(|&&q| q > probs[id]).sum();
            prop_assert!(above < f64::from(p) + 1e-9, "id {} above {} p {}", id, above, p);
        }
    }

    #[test]
    fn candidates_are_a_distribution(logits in logits_strategy(), k in 1usize..10, p in 0.05f32..1.0) {
        let c = Sampling::TopKTopP { k, p, temperature: 0.8 }.candidates(&logits);
        prop_assert!(!c.is_empty() && c.len() <= logits.len());
        let total: f64 = c.iter().map(|&(_, q)| q).sum();
        prop_assert!((total - 1.0).abs() < 1e-9);
        prop_assert_eq!(c[0].0, argmax(&logits).unwrap());
        prop_assert!(c.windows(2).all(|w| w[0].1 >= w[1].1));
    }

    #[test]
    fn candidates_match_naive_reference(
        logits in prop::collection::vec(-3.0f32..3.0, 1..400),
        k in prop::option::of(1usize..300),
        p in prop::option::of(0.05f32..0.999),
        t in 0.3f32..2.0,
    ) {
        let rule = match (k, p) {
            (None, None) => Sampling::Temperature { temperature: t },
            (Some(k), None) => Sampling::TopK { k, temperature: t },
            (None, Some(p)) => Sampling::TopP { p, temperature: t },
            (Some(k), Some(p)) => Sampling::TopKTopP { k, p, temperature: t },
        };
        let ours = rule.candidates(&logits);
        let reference = naive(&logits, k, p, t);
        let ids = |c: &[(u32, f64)]| c.iter().map(|x| x.0).collect::<Vec<_>>();
        prop_assert_eq!(ids(&ours), ids(&reference));
        for (a, b) in ours.iter().zip(&reference) {
            prop_assert!((a.1 - b.1).abs() < 1e-9, "{} vs {}", a.1, b.1);
        }
    }

    #[test]
    fn sample_never_panics_and_is_in_range(
        logits in prop::collection::vec(prop_oneof![any::<f32>(), Just(f32::NAN), Just(f32::INFINITY)], 1..32),
        seed in any::<u64>(),
    ) {
        let rule = Sampling::TopKTopP { k: 3, p: 0.7, temperature: 0.5 };
        let id = Sampler::new(rule, seed).sample(&logits);
        prop_assert!((id as usize) < logits.len());
    }
}
