//! The benchmark copies in data/bench, their loader, prompt and aggregates.

use std::collections::{BTreeMap, HashSet};

use rzero_data::bench::{
    Benchmark, GENERAL_SUFFIX, default_bench_dir, general_match, load_benchmark, math_avg, overall,
    parse_benchmark_list, solver_user_message,
};
use rzero_data::{DataError, EvalItem};

#[test]
fn every_benchmark_loads_with_its_documented_size() {
    let dir = default_bench_dir();
    let sizes = [
        (Benchmark::Math500, 500),
        (Benchmark::Gsm8k, 1319),
        (Benchmark::Amc23, 40),
        (Benchmark::MinervaMath, 272),
        (Benchmark::OlympiadBench, 675),
        (Benchmark::Aime24, 30),
        (Benchmark::Aime25, 30),
        (Benchmark::MmluPro, 1000),
        (Benchmark::SuperGpqa, 300),
        (Benchmark::Bbeh, 1000),
    ];
    for (bench, size) in sizes {
        let items = load_benchmark(&dir, bench).unwrap();
        assert_eq!(items.len(), size, "{bench}");
        let ids: HashSet<&str> = items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids.len(), size, "{bench}: ids unique");
        let mc = matches!(bench, Benchmark::MmluPro | Benchmark::SuperGpqa);
        for item in &items {
            assert_eq!(item.choices.is_some(), mc, "{bench} {}", item.id);
            if let Some(choices) = &item.choices {
                let letter = item.answer.chars().next().unwrap();
                let index = (letter as usize) - ('A' as usize);
                assert!(
                    index < choices.len(),
                    "{} answer {} of {}",
                    item.id,
                    item.answer,
                    choices.len()
                );
            }
        }
    }
    assert!(dir.join("README.md").exists());
}

#[test]
fn names_and_groups() {
    assert_eq!(
        Benchmark::from_name("Minerva-Math").unwrap(),
        Benchmark::MinervaMath
    );
    let err = Benchmark::from_name("mmlu").unwrap_err();
    assert!(matches!(err, DataError::UnknownBenchmark { .. }));
    assert!(err.to_string().contains("mmlu_pro"), "{err}");
    assert_eq!(parse_benchmark_list("gsm8k, math").unwrap().len(), 7);
    assert_eq!(
        parse_benchmark_list("general,bbeh").unwrap(),
        Benchmark::GENERAL.to_vec()
    );
    assert_eq!(parse_benchmark_list("all").unwrap().len(), 10);
    for b in Benchmark::ALL {
        assert_eq!(Benchmark::from_name(b.name()).unwrap(), b);
    }
}

#[test]
fn solver_message_for_math_and_multiple_choice() {
    let math = EvalItem {
        id: "x".into(),
        question: "What is 1+1?".into(),
        answer: "2".into(),
        choices: None,
    };
    assert_eq!(solver_user_message(Benchmark::Gsm8k, &math), "What is 1+1?");
    let mc = EvalItem {
        id: "y".into(),
        question: "Pick one.".into(),
        answer: "B".into(),
        choices: Some(vec!["red".into(), "blue".into()]),
    };
    let expected = format!("Pick one.\n\nOptions:\nA. red\nB. blue\n\n{GENERAL_SUFFIX}");
    assert_eq!(solver_user_message(Benchmark::MmluPro, &mc), expected);
    let bbeh = EvalItem {
        choices: None,
        ..mc
    };
    assert_eq!(
        solver_user_message(Benchmark::Bbeh, &bbeh),
        format!("Pick one.\n\n{GENERAL_SUFFIX}")
    );
    assert!(GENERAL_SUFFIX.contains("\\boxed{A}"));
}

#[test]
fn general_match_normalises_lightly() {
    assert!(general_match("B", "B"));
    assert!(general_match("(E)", "E"));
    assert!(general_match("\\text{No}", "No"));
    assert!(!general_match("b", "B"));
    assert!(!general_match("", ""));
    assert!(!general_match("A", "B"));
}

#[test]
fn math_avg_and_overall() {
    // Values chosen so each mean is exact: math 7 × 0.4, then (0.4+0.1+0.2+0.3)/4.
    let mut scores: BTreeMap<Benchmark, f64> = Benchmark::MATH.iter().map(|b| (*b, 0.4)).collect();
    scores.insert(Benchmark::Aime24, 0.05);
    scores.insert(Benchmark::Aime25, 0.75);
    assert!((math_avg(&scores).unwrap() - 0.4).abs() < 1e-12);
    assert!(matches!(
        overall(&scores),
        Err(DataError::MissingScore { .. })
    ));
    scores.insert(Benchmark::SuperGpqa, 0.1);
    scores.insert(Benchmark::MmluPro, 0.2);
    scores.insert(Benchmark::Bbeh, 0.3);
    assert!((overall(&scores).unwrap() - 0.25).abs() < 1e-12);
    scores.remove(&Benchmark::Gsm8k);
    let err = math_avg(&scores).unwrap_err();
    assert!(err.to_string().contains("gsm8k"), "{err}");
}

#[test]
fn synthetic_levels_are_benchmarks_too() {
    use rzero_data::synthetic::{HeldOutConfig, Level};
    let b = Benchmark::from_name("synthetic_l4").unwrap();
    assert_eq!(b, Benchmark::Synthetic(Level::new(4).unwrap()));
    assert_eq!(b.name(), "synthetic_l4");
    assert!(b.is_math());
    let all = parse_benchmark_list("synthetic").unwrap();
    assert_eq!(all.len(), 6);
    for b in all {
        let items = load_benchmark(&b.default_dir(), b).unwrap();
        assert_eq!(items.len(), HeldOutConfig::default().per_level, "{b}");
        assert_eq!(solver_user_message(b, &items[0]), items[0].question);
    }
    assert_eq!(Benchmark::Gsm8k.default_dir(), default_bench_dir());
}
