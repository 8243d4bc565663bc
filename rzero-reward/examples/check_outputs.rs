//! Checks whole model outputs against gold answers, as `verify_texts` reads
//! them: the answer found in each text, then the verdict.
//!
//! Run with: `cargo run -p rzero-reward --example check_outputs [-- pairs.jsonl]`
//! (lines `{"gold": …, "pred": …}`; a small built-in set without an argument).
//! With a file, it prints the count of equal pairs and the checks per second
//! (median of 20 passes) instead of one line per pair.
#![expect(clippy::print_stdout, reason = "an example reports on stdout")]

use std::time::Instant;

use rzero_reward::verify_texts;

const DEMO: [(&str, &str); 5] = [
    (
        "$\\frac{14}{3}$",
        "Adding, $2+\\frac{5}{3}+1=\\boxed{\\frac{14}{3}}$.",
    ),
    ("14916", "Therefore, $14{,}916$ is our answer."),
    ("[-2,7]", "so the answer is $-2 \\le x \\le 7$."),
    ("B", "The answer is (C)."),
    ("72", "She sold 48 + 24 = 72 clips.\n#### 72"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::args().nth(1);
    let pairs: Vec<(String, String)> = match &file {
        Some(path) => {
            let text = std::fs::read_to_string(path)?;
            let mut pairs = Vec::new();
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let row: serde_json::Value = serde_json::from_str(line)
                    .map_err(|e| format!("{path}:{}: not JSON: {e}", i + 1))?;
                let field = |name: &str| {
                    row[name]
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("{path}:{}: no string field `{name}`", i + 1))
                };
                pairs.push((field("gold")?, field("pred")?));
            }
            pairs
        }
        None => DEMO
            .iter()
            .map(|(g, p)| ((*g).to_owned(), (*p).to_owned()))
            .collect(),
    };
    if file.is_some() {
        let mut times = Vec::new();
        let mut equal = 0;
        for _ in 0..20 {
            let started = Instant::now();
            equal = pairs
                .iter()
                .filter(|(g, p)| verify_texts(g, p).verdict.equal)
                .count();
            times.push(started.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "{} pairs, {equal} equal; median {:.2} ms per pass = {:.0} checks/s",
            pairs.len(),
            median * 1e3,
            pairs.len() as f64 / median
        );
        return Ok(());
    }
    for (gold, pred) in &pairs {
        let out = verify_texts(gold, pred);
        println!(
            "{:<5} gold {:?} pred {:?}",
            out.verdict.equal, out.gold_answer, out.pred_answer
        );
    }
    Ok(())
}
