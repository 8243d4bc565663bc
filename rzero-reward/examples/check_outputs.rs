//! Checks whole model outputs against gold answers, as `verify_texts` reads
//! them: the answer found in each text, then the verdict.
//!
//! Run with: `cargo run -p rzero-reward --example check_outputs [-- pairs.jsonl]`
//! (lines `{"gold": …, "pred": …}`; a small built-in set without an argument).
#![expect(clippy::print_stdout, reason = "an example reports on stdout")]

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
    let pairs: Vec<(String, String)> = match std::env::args().nth(1) {
        Some(path) => {
            let text = std::fs::read_to_string(&path)?;
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
    for (gold, pred) in &pairs {
        let out = verify_texts(gold, pred);
        println!(
            "{:<5} gold {:?} pred {:?}",
            out.verdict.equal, out.gold_answer, out.pred_answer
        );
    }
    Ok(())
}
