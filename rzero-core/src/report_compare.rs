//! Several runs side by side (`rzero report DIR DIR…`): runs whose directory
//! names differ only in a trailing `-s<seed>` form a group, and each figure
//! is shown per iteration as the mean ± standard error over its seeds.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use crate::error::Result;
use crate::metrics::MetricsRecord;
use crate::rundir::RunDir;

/// One figure of the comparison: the mean over an iteration's records of
/// `phase` of `key`, scaled by `scale` for display.
struct Figure {
    phase: &'static str,
    key: &'static str,
    title: &'static str,
    scale: f64,
}

const FIGURES: [Figure; 8] = [
    Figure {
        phase: "eval",
        key: "accuracy_synthetic_mean",
        title: "Held-out synthetic mean, greedy (%)",
        scale: 100.0,
    },
    Figure {
        phase: "question_set",
        key: "pseudo_label_accuracy_kept",
        title: "Pseudo-label accuracy on kept questions (%)",
        scale: 100.0,
    },
    Figure {
        phase: "question_set",
        key: "kept",
        title: "Kept questions",
        scale: 1.0,
    },
    Figure {
        phase: "question_set",
        key: "oracle_level_mean_kept",
        title: "Oracle level of kept questions",
        scale: 1.0,
    },
    Figure {
        phase: "question_set",
        key: "distinct_rate_all",
        title: "Distinct questions among all labelled (%)",
        scale: 100.0,
    },
    Figure {
        phase: "question_set",
        key: "solver_true_accuracy_kept",
        title: "Solver's true accuracy on its kept questions (%)",
        scale: 100.0,
    },
    Figure {
        phase: "challenger",
        key: "oracle_level_mean",
        title: "Challenger's questions in training: oracle level (mean over the iteration's steps)",
        scale: 1.0,
    },
    Figure {
        phase: "challenger",
        key: "reward_mean",
        title: "Challenger reward (mean over the iteration's steps)",
        scale: 1.0,
    },
];

/// One run's figures: `values[figure][iteration]`.
struct RunFigures {
    group: String,
    values: Vec<BTreeMap<usize, f64>>,
}

/// The group of a run directory: its name without a trailing `-s<digits>`.
pub fn group_name(dir: &Path) -> String {
    let name = dir
        .file_name()
        .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
    match name.rsplit_once("-s") {
        Some((head, seed)) if !seed.is_empty() && seed.bytes().all(|b| b.is_ascii_digit()) => {
            head.to_string()
        }
        _ => name,
    }
}

fn figures_of(records: &[MetricsRecord]) -> Vec<BTreeMap<usize, f64>> {
    FIGURES
        .iter()
        .map(|f| {
            let mut sums: BTreeMap<usize, (f64, usize)> = BTreeMap::new();
            for r in records.iter().filter(|r| r.phase == f.phase) {
                if let Some(v) = r.get(f.key) {
                    let e = sums.entry(r.iteration).or_default();
                    e.0 += v * f.scale;
                    e.1 += 1;
                }
            }
            sums.into_iter()
                .map(|(t, (s, n))| (t, s / n as f64))
                .collect()
        })
        .collect()
}

/// Mean and standard error (`sd/√n`, sample sd; 0 for one value).
pub fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return (f64::NAN, 0.0);
    }
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

fn cell(xs: &[f64]) -> String {
    match xs.len() {
        0 => "–".into(),
        1 => format!("{:.2}", xs[0]),
        _ => {
            let (m, se) = mean_se(xs);
            format!("{m:.2} ± {se:.2}")
        }
    }
}

/// The Markdown comparison of the runs in `dirs`.
pub fn compare_runs(dirs: &[&Path]) -> Result<String> {
    let mut runs = Vec::new();
    for dir in dirs {
        let records = RunDir::new(dir).read_metrics()?;
        runs.push(RunFigures {
            group: group_name(dir),
            values: figures_of(&records),
        });
    }
    let mut groups: Vec<String> = Vec::new();
    for r in &runs {
        if !groups.contains(&r.group) {
            groups.push(r.group.clone());
        }
    }
    let iterations = runs
        .iter()
        .flat_map(|r| r.values.iter().flat_map(|v| v.keys().copied()))
        .max()
        .unwrap_or(0);
    let mut md = String::new();
    gain_table(&mut md, &runs, &groups);
    for (k, figure) in FIGURES.iter().enumerate() {
        let _ = writeln!(md, "\n### {}\n", figure.title);
        let header: Vec<String> = (0..=iterations).map(|t| t.to_string()).collect();
        let _ = writeln!(md, "| runs | seeds | {} |", header.join(" | "));
        let _ = writeln!(md, "|---|---:|{}", "---:|".repeat(iterations + 1));
        for g in &groups {
            let members: Vec<&RunFigures> = runs.iter().filter(|r| &r.group == g).collect();
            let cells: Vec<String> = (0..=iterations)
                .map(|t| {
                    let xs: Vec<f64> = members
                        .iter()
                        .filter_map(|r| r.values[k].get(&t).copied())
                        .collect();
                    cell(&xs)
                })
                .collect();
            let _ = writeln!(md, "| {g} | {} | {} |", members.len(), cells.join(" | "));
        }
    }
    Ok(md)
}

/// Last evaluation minus the base model's, per group: mean ± SE, and the
/// smallest over seeds.
fn gain_table(md: &mut String, runs: &[RunFigures], groups: &[String]) {
    let _ = writeln!(
        md,
        "### Gain of the last Solver over the base model (held-out synthetic mean, points)\n"
    );
    let _ = writeln!(md, "| runs | seeds | gain | smallest | per seed |");
    let _ = writeln!(md, "|---|---:|---:|---:|---|");
    for g in groups {
        let gains: Vec<f64> = runs
            .iter()
            .filter(|r| &r.group == g)
            .filter_map(|r| {
                let eval = &r.values[0];
                Some(eval.values().next_back()? - eval.get(&0)?)
            })
            .collect();
        let smallest = gains.iter().copied().fold(f64::INFINITY, f64::min);
        let each: Vec<String> = gains.iter().map(|x| format!("{x:+.2}")).collect();
        let _ = writeln!(
            md,
            "| {g} | {} | {} | {:+.2} | {} |",
            gains.len(),
            cell(&gains),
            smallest,
            each.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_group_by_name_and_standard_errors_use_the_sample_sd() {
        assert_eq!(group_name(Path::new("runs/default-s2")), "default");
        assert_eq!(group_name(Path::new("runs/no-band-s10")), "no-band");
        assert_eq!(group_name(Path::new("runs/tiny-s")), "tiny-s");
        assert_eq!(group_name(Path::new("runs/oracle")), "oracle");
        let (m, se) = mean_se(&[1.0, 2.0, 3.0]);
        assert!((m - 2.0).abs() < 1e-12);
        // sd = 1 (n − 1 in the denominator), se = 1/√3.
        assert!((se - 1.0 / 3f64.sqrt()).abs() < 1e-12);
        assert_eq!(mean_se(&[5.0]), (5.0, 0.0));
    }
}
