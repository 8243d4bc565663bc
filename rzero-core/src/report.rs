//! `rzero report`: plots (SVG) and a Markdown summary of a run directory.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use rzero_data::QuestionRecord;

use crate::error::Result;
use crate::metrics::MetricsRecord;
use crate::phases::eval::EvalReport;
use crate::rundir::RunDir;
use crate::svg::{Series, bar_chart, line_chart};

/// Files written by [`write_report`].
#[derive(Debug, Clone)]
pub struct ReportFiles {
    /// `report/summary.md`.
    pub summary: PathBuf,
    /// The SVG plots.
    pub plots: Vec<PathBuf>,
}

fn series(records: &[MetricsRecord], phase: &str, key: &str, label: &str) -> Series {
    let mut points = Vec::new();
    let mut x = 0.0;
    for r in records.iter().filter(|r| r.phase == phase) {
        x += 1.0;
        if let Some(v) = r.get(key) {
            points.push((x, v));
        }
    }
    Series {
        label: label.to_string(),
        points,
    }
}

fn per_iteration(records: &[MetricsRecord], phase: &str, key: &str, label: &str) -> Series {
    let points = records
        .iter()
        .filter(|r| r.phase == phase)
        .filter_map(|r| r.get(key).map(|v| (r.iteration as f64, v)))
        .collect();
    Series {
        label: label.to_string(),
        points,
    }
}

fn write_svg(dir: &Path, name: &str, svg: &str, out: &mut Vec<PathBuf>) -> Result<()> {
    let path = dir.join(name);
    rzero_data::atomic_write_bytes(&path, svg.as_bytes())?;
    out.push(path);
    Ok(())
}

fn plots(dir: &Path, m: &[MetricsRecord]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let reward = [series(m, "challenger", "reward_mean", "challenger reward")];
    write_svg(
        dir,
        "challenger_reward.svg",
        &line_chart(
            "Challenger reward per rollout step",
            "step",
            "mean reward",
            &reward,
        ),
        &mut out,
    )?;
    let qs = [
        per_iteration(
            m,
            "question_set",
            "pseudo_label_accuracy_kept",
            "pseudo-label accuracy (kept)",
        ),
        per_iteration(m, "question_set", "band_yield", "band yield"),
    ];
    write_svg(
        dir,
        "pseudo_labels.svg",
        &line_chart("Question set per iteration", "iteration", "fraction", &qs),
        &mut out,
    )?;
    let level = [per_iteration(
        m,
        "question_set",
        "oracle_level_mean_kept",
        "true difficulty (oracle level)",
    )];
    write_svg(
        dir,
        "difficulty.svg",
        &line_chart(
            "Question difficulty per iteration",
            "iteration",
            "mean level",
            &level,
        ),
        &mut out,
    )?;
    let eval = [
        per_iteration(
            m,
            "eval",
            "accuracy_synthetic_mean",
            "held-out synthetic mean",
        ),
        per_iteration(m, "eval", "boxed_rate", "boxed rate"),
    ];
    write_svg(
        dir,
        "eval_accuracy.svg",
        &line_chart(
            "Solver evaluation per iteration",
            "iteration",
            "accuracy",
            &eval,
        ),
        &mut out,
    )?;
    let hist: Vec<Series> = m
        .iter()
        .filter(|r| r.phase == "question_set")
        .map(|r| {
            let counts: Vec<f64> = (0..5)
                .map(|b| r.get(&format!("consistency_hist_{b}")).unwrap_or(0.0))
                .collect();
            let total = counts.iter().sum::<f64>().max(1.0);
            Series {
                label: format!("iteration {}", r.iteration),
                points: counts
                    .iter()
                    .enumerate()
                    .map(|(b, c)| (b as f64, c / total))
                    .collect(),
            }
        })
        .collect();
    let bins: Vec<String> = (0..5)
        .map(|b| format!("{:.1}–{:.1}", b as f64 / 5.0, (b + 1) as f64 / 5.0))
        .collect();
    write_svg(
        dir,
        "consistency_hist.svg",
        &bar_chart("p̂ histogram per iteration", &bins, &hist),
        &mut out,
    )?;
    Ok(out)
}

/// `acc ± se` in percent (`acc` alone for a report written before
/// standard errors were recorded).
fn with_se(acc: Option<f64>, se: Option<f64>) -> String {
    match (acc, se) {
        (Some(a), Some(se)) => format!("{:.1} ± {:.1}", 100.0 * a, 100.0 * se),
        (Some(a), None) => format!("{:.1}", 100.0 * a),
        _ => "–".into(),
    }
}

fn eval_table(md: &mut String, evals: &[EvalReport]) {
    let names: Vec<&String> = evals
        .first()
        .map(|e| e.accuracy.keys().collect())
        .unwrap_or_default();
    let mean = evals.iter().any(|e| e.synthetic_mean.is_some());
    let _ = writeln!(
        md,
        "| iteration | {}{} | boxed |",
        names
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        if mean { " | synthetic mean" } else { "" }
    );
    let columns = names.len() + usize::from(mean);
    let _ = writeln!(md, "|---|{}---|", "---|".repeat(columns));
    for e in evals {
        let mut cells: Vec<String> = names
            .iter()
            .map(|n| with_se(e.accuracy.get(*n).copied(), e.stderr.get(*n).copied()))
            .collect();
        if mean {
            cells.push(with_se(e.synthetic_mean, e.synthetic_mean_stderr));
        }
        let _ = writeln!(
            md,
            "| {} | {} | {:.1} |",
            e.iteration,
            cells.join(" | "),
            100.0 * e.boxed_rate
        );
    }
    let _ = writeln!(
        md,
        "\n± one standard error, `sqrt(p(1 − p)/n)` per set over its n items (the mean's: `sqrt(Σ se²)/k`)."
    );
}

fn question_table(md: &mut String, m: &[MetricsRecord]) {
    let _ = writeln!(
        md,
        "| iteration | labelled | kept | pseudo-label acc. (kept) | oracle level (kept) | Solver true acc. (kept) | distinct questions (all) |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    let pct = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{:.1}", 100.0 * v));
    for r in m.iter().filter(|r| r.phase == "question_set") {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.iteration,
            r.get("labelled").unwrap_or(0.0),
            r.get("kept").unwrap_or(0.0),
            pct(r.get("pseudo_label_accuracy_kept")),
            r.get("oracle_level_mean_kept")
                .map_or("–".into(), |v| format!("{v:.2}")),
            pct(r.get("solver_true_accuracy_kept")),
            pct(r.get("distinct_rate_all")),
        );
    }
}

/// Where the time goes: `seconds_*` metrics summed per phase.
const TIME_PARTS: [(&str, &str); 4] = [
    ("seconds_generate", "generation"),
    ("seconds_solver_sampling", "Solver sampling"),
    ("seconds_score", "scoring"),
    ("seconds_train", "training"),
];

fn time_table(md: &mut String, m: &[MetricsRecord]) {
    let _ = writeln!(
        md,
        "| phase | {} | total |",
        TIME_PARTS.map(|p| p.1).join(" | ")
    );
    let _ = writeln!(md, "|---|{}---|", "---:|".repeat(TIME_PARTS.len()));
    for phase in ["challenger", "question_set", "solver", "eval"] {
        let sums = TIME_PARTS.map(|(key, _)| {
            m.iter()
                .filter(|r| r.phase == phase)
                .filter_map(|r| r.get(key))
                .sum::<f64>()
                + 0.0 // an empty sum is -0.0
        });
        let cells: Vec<String> = sums.iter().map(|s| format!("{s:.1}")).collect();
        let total: f64 = sums.iter().sum();
        let _ = writeln!(md, "| {phase} | {} | {total:.1} |", cells.join(" | "));
    }
}

/// Writes `RUN/report/` (SVG plots and `summary.md`).
pub fn write_report(run_dir: &Path) -> Result<ReportFiles> {
    let run = RunDir::new(run_dir);
    let config = run.read_config()?;
    let metrics = run.read_metrics()?;
    let dir = run_dir.join("report");
    let plots = plots(&dir, &metrics)?;
    let mut evals = Vec::new();
    for t in 0..=config.iterations {
        if run.eval(t).exists() {
            evals.push(rzero_data::jsonl::read_json::<EvalReport>(&run.eval(t))?);
        }
    }
    let mut md = format!(
        "# rzero run report\n\nRun: `{}` · preset `{}` · seed {} · {} iterations\n\n",
        run_dir.display(),
        config.preset,
        config.seed,
        config.iterations
    );
    md.push_str("## Solver evaluation (greedy, % correct)\n\n");
    eval_table(&mut md, &evals);
    md.push_str("\n## Question sets (oracle figures for synthetic tasks)\n\n");
    question_table(&mut md, &metrics);
    md.push_str("\n## Where the time goes (seconds, all iterations)\n\n");
    time_table(&mut md, &metrics);
    md.push_str("\n## Example questions per iteration\n\n");
    let mut examples: BTreeMap<usize, Vec<QuestionRecord>> = BTreeMap::new();
    for t in 1..=config.iterations {
        if run.questions(t).exists() {
            let qs: Vec<QuestionRecord> = rzero_data::read_jsonl(run.questions(t))?;
            examples.insert(t, qs.into_iter().take(5).collect());
        }
    }
    for (t, qs) in examples {
        let _ = writeln!(md, "### Iteration {t}\n");
        for q in qs {
            let truth = q.oracle_answer.as_deref().unwrap_or("?");
            let _ = writeln!(
                md,
                "- `{}` → label `{}` (p̂ {:.2}, true {truth})",
                q.question.replace('\n', " "),
                q.pseudo_label,
                q.consistency
            );
        }
        md.push('\n');
    }
    md.push_str("## Plots\n\n");
    for p in &plots {
        if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
            let _ = writeln!(md, "![{name}]({name})");
        }
    }
    let summary = dir.join("summary.md");
    rzero_data::atomic_write_bytes(&summary, md.as_bytes())?;
    Ok(ReportFiles { summary, plots })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(phase: &str, step: usize, values: &[(&str, f64)]) -> MetricsRecord {
        let mut r = MetricsRecord::new(1, phase, step);
        for (k, v) in values {
            r.set(k, *v);
        }
        r
    }

    #[test]
    fn eval_table_shows_standard_errors_and_the_synthetic_mean() {
        let map = |pairs: &[(&str, f64)]| -> BTreeMap<String, f64> {
            pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
        };
        let report = EvalReport {
            iteration: 2,
            accuracy: map(&[("synthetic_l1", 0.9), ("synthetic_l2", 0.5)]),
            stderr: map(&[("synthetic_l1", 0.019), ("synthetic_l2", 0.0316)]),
            items: BTreeMap::new(),
            boxed_rate: 1.0,
            synthetic_mean: Some(0.7),
            synthetic_mean_stderr: Some(0.0184),
            majority: None,
        };
        let mut old = report.clone();
        old.stderr.clear();
        old.synthetic_mean_stderr = None;
        let mut md = String::new();
        eval_table(&mut md, &[report, old]);
        assert!(md.contains("| synthetic_l1 | synthetic_l2 | synthetic mean | boxed |"));
        assert!(
            md.contains("| 2 | 90.0 ± 1.9 | 50.0 ± 3.2 | 70.0 ± 1.8 | 100.0 |"),
            "{md}"
        );
        assert!(md.contains("| 2 | 90.0 | 50.0 | 70.0 | 100.0 |"), "{md}");
    }

    #[test]
    fn time_table_sums_each_part_per_phase() {
        let m = vec![
            record(
                "challenger",
                0,
                &[("seconds_generate", 1.0), ("seconds_train", 2.0)],
            ),
            record(
                "challenger",
                1,
                &[("seconds_generate", 0.5), ("seconds_score", 0.3)],
            ),
            record("solver", 0, &[("seconds_train", 4.0)]),
        ];
        let mut md = String::new();
        time_table(&mut md, &m);
        let row = |phase: &str| {
            md.lines()
                .find(|l| l.starts_with(&format!("| {phase} |")))
                .unwrap()
                .to_string()
        };
        assert_eq!(
            row("challenger"),
            "| challenger | 1.5 | 0.0 | 0.3 | 2.0 | 3.8 |"
        );
        assert_eq!(row("solver"), "| solver | 0.0 | 0.0 | 0.0 | 4.0 | 4.0 |");
        assert_eq!(row("eval"), "| eval | 0.0 | 0.0 | 0.0 | 0.0 | 0.0 |");
    }
}
