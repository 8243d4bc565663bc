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
