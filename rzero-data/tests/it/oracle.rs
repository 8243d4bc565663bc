//! The oracle against the generator (property tests) and on arbitrary text.

use proptest::prelude::*;
use rzero_data::synthetic::{Level, Surface, TaskGenerator, level_of, oracle};

fn surface(word: bool) -> Surface {
    if word {
        Surface::WordProblem
    } else {
        Surface::Expression
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn oracle_answer_equals_generator_answer(seed in any::<u64>(), level in 1u8..=6, word in any::<bool>()) {
        let level = Level::new(level).unwrap();
        let task = TaskGenerator::new(seed).task(level, surface(word));
        prop_assert_eq!(task.level, level);
        prop_assert_eq!(task.surface, surface(word));
        prop_assert_eq!(level_of(&task.expr), Some(level));
        prop_assert_eq!(task.expr.eval(), Some(task.answer));
        let known = oracle(&task.question);
        prop_assert!(known.is_some(), "oracle refused {:?}", task.question);
        let known = known.unwrap();
        prop_assert_eq!(known.answer, task.answer, "{}", task.question);
        prop_assert_eq!(known.level, level);
        prop_assert_eq!(known.surface, task.surface);
        prop_assert_eq!(&known.expr, &task.expr);
    }

    #[test]
    fn oracle_tolerates_rephrasing(seed in any::<u64>(), level in 1u8..=6, variant in 0usize..8) {
        let task = TaskGenerator::new(seed).expression(Level::new(level).unwrap());
        let e = task.expr.to_string();
        let text = match variant {
            0 => e.clone(),
            1 => format!("  what   is {e} ?  "),
            2 => format!("Compute {e}."),
            3 => format!("{e} = ?"),
            4 => format!("WHAT IS {e}?"),
            5 => e.replace(' ', ""),
            6 => format!("Calculate: ${}$", e.replace('*', "\\times")),
            _ => format!("Evaluate\n{}\n", e.replace('*', "×").replace('-', "−")),
        };
        prop_assert_eq!(oracle(&text).map(|o| o.answer), Some(task.answer), "{}", text);
    }

    #[test]
    fn oracle_tolerates_word_problem_spacing_and_case(seed in any::<u64>(), level in 1u8..=6) {
        let task = TaskGenerator::new(seed).word_problem(Level::new(level).unwrap());
        let text = task.question.to_lowercase().replace(". ", ".\n   ").replace('?', " ?");
        prop_assert_eq!(oracle(&text).map(|o| o.answer), Some(task.answer), "{}", text);
    }

    #[test]
    fn oracle_says_none_on_random_text(text in "\\PC{0,300}") {
        prop_assert!(oracle(&text).is_none(), "{:?}", text);
    }

    #[test]
    fn oracle_never_panics_on_arithmetic_like_text(text in "[0-9+*x() ?.=-]{0,80}") {
        if let Some(known) = oracle(&text) {
            prop_assert_eq!(known.expr.eval(), Some(known.answer));
            prop_assert_eq!(level_of(&known.expr), Some(known.level));
        }
    }

    #[test]
    fn oracle_never_panics_on_word_like_text(
        words in proptest::collection::vec("(Tom|he|has|gets|more|apples|then|how|many|does|have|[0-9]{1,12}|times|as|[.?\n])", 0..40)
    ) {
        let text = words.join(" ");
        if let Some(known) = oracle(&text) {
            prop_assert!(known.answer >= 0, "word problems never go negative");
        }
    }
}

#[test]
fn huge_numbers_are_not_tasks() {
    assert!(
        oracle("What is 999999999999999999 * 999999999999999999 * 999999999999999999?").is_none()
    );
    assert!(oracle("What is 1234567890123456789 + 1?").is_none());
}

#[test]
fn every_level_has_both_surfaces_and_expected_shapes() {
    let mut generator = TaskGenerator::new(3);
    for level in Level::all() {
        for surface in [Surface::Expression, Surface::WordProblem] {
            for _ in 0..50 {
                let task = generator.task(level, surface);
                assert_eq!(
                    (task.level, task.surface),
                    (level, surface),
                    "{}",
                    task.question
                );
            }
        }
    }
}
