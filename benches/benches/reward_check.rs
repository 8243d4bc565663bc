//! Answer checks per second on the equivalence case file, on whole texts
//! (`verify_texts` on the text case file), and the cost of the hostile
//! inputs that must stay within the checker's budget.
//!
//! Run with: `cargo bench -p rzero-benches -- reward_check`
//! Peer: `python3 rzero-reward/tests/fixtures/equivalence/bench_math_verify.py`
//! (`--texts` for the text file).

use std::hint::black_box;

use criterion::{Criterion, Throughput};

/// (gold, pred) pairs of a JSONL case file.
fn pairs_of(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|row| {
            Some((
                row["gold"].as_str()?.to_owned(),
                row["pred"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

fn case_pairs() -> Vec<(String, String)> {
    pairs_of(include_str!(
        "../../rzero-reward/tests/fixtures/equivalence/cases.jsonl"
    ))
}

fn text_pairs() -> Vec<(String, String)> {
    pairs_of(include_str!(
        "../../rzero-reward/tests/fixtures/texts/text_cases.jsonl"
    ))
}

/// Inputs built to blow up a naive checker.
fn hostile_pairs() -> Vec<(String, String)> {
    let sum = vec!["1"; 10_000].join("+");
    let deep = format!("{}1{}", "(".repeat(1000), ")".repeat(1000));
    [
        ("10^{10^{10}}", "1"),
        ("9^{9^{9^9}}", "9^{9^{9^{9}}}"),
        ("1000000!", "1"),
        ("\\binom{100000}{50000}", "7"),
        (sum.as_str(), "10000"),
        (deep.as_str(), "1"),
        ("\\frac{{{{{{", "}}}}"),
        ("", ""),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect()
}

/// The `reward_check` group.
pub fn reward_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("reward_check");
    for (name, pairs) in [("case_file", case_pairs()), ("hostile", hostile_pairs())] {
        group.throughput(Throughput::Elements(pairs.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let equal = pairs
                    .iter()
                    .filter(|(g, p)| rzero_reward::verify(black_box(g), black_box(p)).equal)
                    .count();
                black_box(equal)
            });
        });
    }
    let texts = text_pairs();
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("text_file", |b| {
        b.iter(|| {
            let equal = texts
                .iter()
                .filter(|(g, p)| {
                    rzero_reward::verify_texts(black_box(g), black_box(p))
                        .verdict
                        .equal
                })
                .count();
            black_box(equal)
        });
    });
    group.finish();
}
