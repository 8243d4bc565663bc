//! The equivalence case file: agreement with math-verify 0.8 and overrides.
//!
//! `tests/fixtures/equivalence/cases.jsonl` (hand-written, every rule) and
//! `random_cases.jsonl` (seeded random pairs) are produced by
//! `make_cases.py` and `make_random_cases.py` from math-verify 0.8
//! (`verify(parse(\boxed{gold}), parse(\boxed{pred}))`).

use rzero_reward::verify;
use serde::Deserialize;

/// Random rows where we knowingly differ from math-verify (gold, pred):
/// math-verify rounds the percent before scaling it and misses by 1e-6.
const KNOWN_RANDOM_DIFFERENCES: [(&str, &str); 1] = [("-15983.333333\\%", "-\\frac{959}{6}")];

#[derive(Debug, Deserialize)]
struct Case {
    rule: String,
    gold: String,
    pred: String,
    math_verify: bool,
    expected: bool,
    #[serde(default)]
    #[serde(rename = "override")]
    override_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RandomCase {
    rule: String,
    gold: String,
    pred: String,
    math_verify: bool,
}

fn cases() -> Vec<Case> {
    let text = include_str!("../fixtures/equivalence/cases.jsonl");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("valid case line"))
        .collect()
}

#[test]
fn case_file_covers_every_rule_with_400_rows() {
    let cases = cases();
    assert!(cases.len() >= 400, "{} rows", cases.len());
    let rules: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.rule.as_str()).collect();
    for rule in [
        "fraction",
        "root",
        "percent",
        "thousands",
        "interval",
        "set",
        "tuple",
        "equation",
        "inequality",
        "matrix",
        "text",
        "budget",
    ] {
        assert!(rules.contains(rule), "no rows for {rule}");
    }
}

#[test]
#[expect(
    clippy::print_stdout,
    reason = "the misses are the useful output of this test"
)]
fn agrees_with_math_verify_on_case_file() {
    let cases = cases();
    let plain: Vec<&Case> = cases
        .iter()
        .filter(|c| c.override_reason.is_none())
        .collect();
    let mut misses = Vec::new();
    for case in &plain {
        let verdict = verify(&case.gold, &case.pred);
        if verdict.equal != case.math_verify {
            misses.push(format!(
                "[{}] gold {:?} pred {:?}: math-verify {}, ours {:?}",
                case.rule, case.gold, case.pred, case.math_verify, verdict
            ));
        }
    }
    let agreement = 1.0 - misses.len() as f64 / plain.len() as f64;
    println!(
        "agreement {:.2}% over {} rows; misses:",
        100.0 * agreement,
        plain.len()
    );
    for miss in &misses {
        println!("  {miss}");
    }
    assert!(
        misses.is_empty(),
        "{} rows differ from math-verify",
        misses.len()
    );
}

#[test]
fn overrides_give_the_right_verdict() {
    for case in cases().iter().filter(|c| c.override_reason.is_some()) {
        assert_ne!(
            case.expected, case.math_verify,
            "an override must differ: {case:?}"
        );
        assert_eq!(
            verify(&case.gold, &case.pred).equal,
            case.expected,
            "{case:?}"
        );
    }
}

#[test]
#[expect(
    clippy::print_stdout,
    reason = "the misses are the useful output of this test"
)]
fn agrees_with_math_verify_on_random_pairs() {
    let text = include_str!("../fixtures/equivalence/random_cases.jsonl");
    let cases: Vec<RandomCase> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("valid case line"))
        .collect();
    assert!(cases.len() >= 300);
    let misses: Vec<&RandomCase> = cases
        .iter()
        .filter(|c| verify(&c.gold, &c.pred).equal != c.math_verify)
        .filter(|c| !KNOWN_RANDOM_DIFFERENCES.contains(&(c.gold.as_str(), c.pred.as_str())))
        .collect();
    let agreement = 1.0 - misses.len() as f64 / cases.len() as f64;
    println!(
        "agreement {:.2}% over {} random rows; misses:",
        100.0 * agreement,
        cases.len()
    );
    for miss in &misses {
        println!(
            "  [{}] gold {:?} pred {:?}: math-verify {}",
            miss.rule, miss.gold, miss.pred, miss.math_verify
        );
    }
    assert!(misses.is_empty(), "{} new differences", misses.len());
    for (gold, pred) in KNOWN_RANDOM_DIFFERENCES {
        let row = cases.iter().find(|c| c.gold == gold && c.pred == pred);
        let row = row.expect("a known difference is a row of the file");
        assert_ne!(verify(gold, pred).equal, row.math_verify, "{gold} {pred}");
    }
}
