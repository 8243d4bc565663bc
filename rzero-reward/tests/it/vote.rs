//! Majority vote properties with a checker that is a true equivalence.

use proptest::prelude::*;
use rzero_reward::vote::{majority_vote, majority_vote_with};

/// "k", "k.0" and "k/1" all mean the number k; "" is an empty answer.
fn value(answer: &str) -> Option<&str> {
    let a = answer.trim();
    (!a.is_empty()).then(|| a.trim_end_matches(".0").trim_end_matches("/1"))
}

fn same_value(a: &str, b: &str) -> bool {
    value(a).is_some() && value(a) == value(b)
}

fn answers() -> impl Strategy<Value = Vec<String>> {
    let forms = prop_oneof![
        (0u8..4).prop_map(|k| k.to_string()),
        (0u8..4).prop_map(|k| format!("{k}.0")),
        (0u8..4).prop_map(|k| format!("{k}/1")),
        Just(String::new()),
        Just("  ".to_string()),
    ];
    prop::collection::vec(forms, 1..12)
}

fn sorted_sizes(sizes: Vec<usize>) -> Vec<usize> {
    let mut sizes = sizes;
    sizes.sort_unstable();
    sizes
}

proptest! {
    #[test]
    fn consistency_is_in_range_and_classes_partition_the_answers(answers in answers()) {
        let vote = majority_vote_with(&answers, same_value);
        let m = answers.len() as f64;
        let non_empty = answers.iter().filter(|a| !a.trim().is_empty()).count();
        prop_assert_eq!(vote.class_sizes().iter().sum::<usize>(), non_empty);
        if non_empty > 0 {
            prop_assert!(vote.consistency >= 1.0 / m && vote.consistency <= 1.0);
            let label = vote.pseudo_label.unwrap_or_default();
            let expected = answers.iter().filter(|a| same_value(a, label)).count() as f64 / m;
            prop_assert_eq!(vote.consistency, expected);
        } else {
            prop_assert_eq!(vote.consistency, 0.0);
            prop_assert!(vote.pseudo_label.is_none());
        }
    }

    #[test]
    fn vote_is_invariant_under_permutation(answers in answers(), seed in any::<u64>()) {
        let mut shuffled = answers.clone();
        // Fisher–Yates with a fixed LCG so the permutation is reproducible.
        let mut state = seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        let a = majority_vote_with(&answers, same_value);
        let b = majority_vote_with(&shuffled, same_value);
        prop_assert_eq!(a.consistency, b.consistency);
        prop_assert_eq!(sorted_sizes(a.class_sizes()), sorted_sizes(b.class_sizes()));
        let sizes = a.class_sizes();
        let top = sizes.iter().max().copied().unwrap_or(0);
        if sizes.iter().filter(|&&s| s == top).count() == 1 {
            prop_assert_eq!(a.pseudo_label.and_then(value), b.pseudo_label.and_then(value));
        }
    }

    #[test]
    fn swapping_two_equal_answers_changes_nothing(answers in answers(), i in any::<prop::sample::Index>(), j in any::<prop::sample::Index>()) {
        let (i, j) = (i.index(answers.len()), j.index(answers.len()));
        prop_assume!(answers[i] == answers[j]);
        let mut swapped = answers.clone();
        swapped.swap(i, j);
        let (a, b) = (majority_vote_with(&answers, same_value), majority_vote_with(&swapped, same_value));
        prop_assert_eq!(a.pseudo_label, b.pseudo_label);
        prop_assert_eq!(a.consistency, b.consistency);
        prop_assert_eq!(a.class_sizes(), b.class_sizes());
    }
}

#[test]
fn first_seen_class_wins_ties_and_its_first_member_is_the_label() {
    let vote = majority_vote_with(&["3.0", "2", "3", "2/1", ""], same_value);
    assert_eq!(vote.pseudo_label, Some("3.0"));
    assert_eq!(vote.class_sizes(), vec![2, 2]);
    assert_eq!(vote.classes[0].members, vec![0, 2]);
    assert!((vote.consistency - 0.4).abs() < 1e-15);
}

#[test]
fn crate_checker_groups_equal_decimals() {
    let vote = majority_vote(&["0.5", "0.50", "7"]);
    assert_eq!(vote.pseudo_label, Some("0.5"));
    assert_eq!(vote.class_sizes(), vec![2, 1]);
}
