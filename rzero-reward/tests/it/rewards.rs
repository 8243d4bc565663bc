//! Reward ranges over the whole input domain.

use proptest::prelude::*;
use rzero_reward::rewards::{ChallengerForm, SolverForm, challenger_reward, solver_reward_with};
use rzero_reward::uncertainty::{UncertaintyForm, uncertainty_reward};

fn repetition() -> impl Strategy<Value = f64> {
    // r_rep = |C| / B: in (0, 1].
    (1usize..=64, 1usize..=64).prop_map(|(c, b)| c.min(b) as f64 / b as f64)
}

proptest! {
    #[test]
    fn uncertainty_rewards_stay_in_range(p in 0.0f64..=1.0) {
        let official = uncertainty_reward(p, UncertaintyForm::Official);
        let paper = uncertainty_reward(p, UncertaintyForm::Paper);
        prop_assert!((0.0..=0.5).contains(&official));
        prop_assert!((0.0..=1.0).contains(&paper));
    }

    #[test]
    fn official_challenger_reward_ranges(p in 0.0f64..=1.0, r in repetition(), ok in any::<bool>()) {
        let reward = challenger_reward(ChallengerForm::Official, ok, p, r);
        if ok {
            prop_assert!((-1.0..0.5).contains(&reward), "valid reward {}", reward);
        } else {
            prop_assert!((-2.0..-1.0).contains(&reward), "invalid reward {}", reward);
        }
    }

    #[test]
    fn paper_challenger_reward_ranges(p in 0.0f64..=1.0, r in repetition(), lambda in 0.0f64..4.0, ok in any::<bool>()) {
        let reward = challenger_reward(ChallengerForm::Paper { lambda }, ok, p, r);
        prop_assert!((0.0..=1.0).contains(&reward));
        if !ok {
            prop_assert_eq!(reward, 0.0);
        }
    }

    #[test]
    fn solver_rewards_take_only_their_four_values(body in ".{0,40}", think in any::<bool>(), boxed in 0u8..3, label in 0u8..3) {
        let output = format!("{}{body}{}", if think { "<think>" } else { "" }, match boxed {
            0 => String::new(),
            b => format!("</think> \\boxed{{{b}}}"),
        });
        let same = |a: &str, b: &str| a == b;
        let official = solver_reward_with(SolverForm::Official, &output, &label.to_string(), same);
        let binary = solver_reward_with(SolverForm::Binary, &output, &label.to_string(), same);
        prop_assert!([0.0, 0.1, 0.9, 1.0].iter().any(|v| (official - v).abs() < 1e-12), "official {}", official);
        prop_assert!(binary == 0.0 || binary == 1.0);
        prop_assert!(official >= 0.9 * binary - 1e-12);
    }
}

mod batch {
    use rzero_reward::repetition::{DISTANCE_THRESHOLD, bleu_distance_matrix};
    use rzero_reward::rewards::{ChallengerForm, ChallengerSample, challenger_rewards};

    const NEAR: [&str; 2] = [
        "how many primes are there below one hundred",
        "how many primes are there below two hundred",
    ];

    fn batch() -> [ChallengerSample<'static>; 3] {
        [
            ChallengerSample {
                question: Some(NEAR[0]),
                consistency: 0.5,
            },
            ChallengerSample {
                question: Some(NEAR[1]),
                consistency: 0.25,
            },
            ChallengerSample {
                question: None,
                consistency: 0.9,
            },
        ]
    }

    #[test]
    fn the_threshold_decides_which_questions_cluster() {
        let d = bleu_distance_matrix(&NEAR).get(0, 1);
        assert!(d > 0.0 && d < DISTANCE_THRESHOLD, "distance {d}");
        // Above the distance the near-duplicates share a cluster, below it they do not.
        let merged = challenger_rewards(ChallengerForm::Official, DISTANCE_THRESHOLD, &batch());
        let apart = challenger_rewards(ChallengerForm::Official, d / 2.0, &batch());
        assert_eq!(merged[0].repetition, 2.0 / 3.0);
        assert_eq!(apart[0].repetition, 1.0 / 3.0);
        assert!((merged[0].total - (0.5 - 2.0 / 3.0)).abs() < 1e-12);
        assert!((apart[1].total - (0.25 - 1.0 / 3.0)).abs() < 1e-12);
    }

    #[test]
    fn a_failed_output_ignores_its_consistency() {
        let paper = ChallengerForm::Paper { lambda: 1.0 };
        let parts = challenger_rewards(paper, DISTANCE_THRESHOLD, &batch());
        assert_eq!(parts[2].uncertainty, 0.0);
        assert_eq!(parts[2].total, 0.0);
        // Paper form: 1 − 2|p̂ − ½| = 1 at p̂ = ½, minus λ·r_rep.
        assert_eq!(parts[0].uncertainty, 1.0);
        assert!((parts[0].total - (1.0 - 2.0 / 3.0)).abs() < 1e-12);
    }
}
