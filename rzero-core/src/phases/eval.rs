//! ④ Evaluation: greedy decoding with the Solver prompt on held-out sets,
//! scored by the answer checker on the whole output (math), the boxed
//! answer (synthetic levels) or exact match (multiple choice).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use rzero_data::bench::{general_match, parse_benchmark_list, solver_user_message};
use rzero_data::synthetic::corpus::{HeldOut, HeldOutConfig};
use rzero_data::{Benchmark, EvalItem, load_benchmark};
use serde::{Deserialize, Serialize};

use super::{answer_of, seed, solver_prompts, vote_on};
use crate::config::{RunConfig, SamplingConfig};
use crate::error::Result;
use crate::metrics::MetricsRecord;
use crate::policy::{SampleRequest, Sampler};
use rzero_model::tokenizer::Tokenizer;

/// Scores of one model on every benchmark asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Iteration whose Solver was evaluated (0 = base model).
    pub iteration: usize,
    /// Greedy accuracy per benchmark name.
    pub accuracy: BTreeMap<String, f64>,
    /// Standard error of each greedy accuracy, `sqrt(p(1 − p)/n)`.
    #[serde(default)]
    pub stderr: BTreeMap<String, f64>,
    /// Items scored per benchmark name.
    pub items: BTreeMap<String, usize>,
    /// Fraction of greedy outputs with a `\boxed{}` answer, over all items.
    pub boxed_rate: f64,
    /// Mean greedy accuracy over the synthetic levels evaluated, if any.
    pub synthetic_mean: Option<f64>,
    /// Its standard error, `sqrt(Σ se²)/k` over the k levels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synthetic_mean_stderr: Option<f64>,
    /// maj@m: the majority vote of m sampled answers, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub majority: Option<MajorityReport>,
}

/// maj@m scores: m answers sampled per item with the run's label sampling
/// settings, majority vote, scored like greedy answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MajorityReport {
    /// Samples per item.
    pub m: usize,
    /// maj@m accuracy per benchmark name.
    pub accuracy: BTreeMap<String, f64>,
    /// Standard error of each.
    pub stderr: BTreeMap<String, f64>,
    /// Mean maj@m accuracy over the synthetic levels.
    pub synthetic_mean: Option<f64>,
    /// Its standard error.
    pub synthetic_mean_stderr: Option<f64>,
}

/// Standard error of a proportion `p` measured on `n` items.
pub fn proportion_stderr(p: f64, n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    (p * (1.0 - p) / n as f64).sqrt()
}

/// Mean and standard error of the synthetic levels in `accuracy`/`stderr`.
fn synthetic_mean(
    accuracy: &BTreeMap<String, f64>,
    stderr: &BTreeMap<String, f64>,
) -> Option<(f64, f64)> {
    let levels: Vec<(&f64, f64)> = accuracy
        .iter()
        .filter(|(k, _)| k.starts_with("synthetic_"))
        .map(|(k, v)| (v, stderr.get(k).copied().unwrap_or(0.0)))
        .collect();
    if levels.is_empty() {
        return None;
    }
    let k = levels.len() as f64;
    let mean = levels.iter().map(|(v, _)| **v).sum::<f64>() / k;
    let se = levels.iter().map(|(_, s)| s * s).sum::<f64>().sqrt() / k;
    Some((mean, se))
}

/// Where benchmark files are looked up; synthetic levels fall back to the
/// deterministic generator when their files are absent (e.g. after
/// `cargo install`).
#[derive(Debug, Clone)]
pub struct BenchSource {
    /// Directory of the paper's sets (`data/bench`).
    pub bench_dir: PathBuf,
    /// Directory of the synthetic levels (`data/synthetic`).
    pub synthetic_dir: PathBuf,
}

impl Default for BenchSource {
    fn default() -> Self {
        Self {
            bench_dir: rzero_data::bench::default_bench_dir(),
            synthetic_dir: rzero_data::synthetic::corpus::default_heldout_dir(),
        }
    }
}

fn load(
    source: &BenchSource,
    bench: Benchmark,
    heldout: &mut Option<HeldOut>,
) -> Result<Vec<EvalItem>> {
    if let Benchmark::Synthetic(level) = bench {
        let path = bench.path_in(&source.synthetic_dir);
        if !path.exists() {
            if heldout.is_none() {
                *heldout = Some(HeldOut::generate(&HeldOutConfig::default())?);
            }
            return Ok(heldout
                .as_ref()
                .map(|h| h.items(level).to_vec())
                .unwrap_or_default());
        }
        return Ok(load_benchmark(&source.synthetic_dir, bench)?);
    }
    Ok(load_benchmark(&source.bench_dir, bench)?)
}

/// Whether `pred` (the boxed answer) or the whole output `text` answers
/// `item` of `bench`.
fn is_right(bench: Benchmark, item: &EvalItem, pred: &str, text: Option<&str>) -> bool {
    if matches!(bench, Benchmark::Synthetic(_)) {
        !pred.is_empty() && rzero_reward::equivalent(&item.answer, pred)
    } else if bench.is_math() {
        // The paper's sets: the answer is found in the whole output (last
        // box, then math-verify's fallbacks), as its harness does.
        match text {
            Some(text) => rzero_reward::verify_texts(&item.answer, text).verdict.equal,
            None => !pred.is_empty() && rzero_reward::equivalent(&item.answer, pred),
        }
    } else {
        general_match(pred, &item.answer)
    }
}

/// One benchmark's items and Solver prompts.
struct Bench {
    bench: Benchmark,
    items: Vec<EvalItem>,
    prompts: Vec<Vec<u32>>,
}

fn benches(config: &RunConfig, tokenizer: &Tokenizer, source: &BenchSource) -> Result<Vec<Bench>> {
    let mut heldout = None;
    let mut out = Vec::new();
    for bench in parse_benchmark_list(&config.eval.benches.join(","))? {
        let mut items = load(source, bench, &mut heldout)?;
        if config.eval.limit > 0 {
            items.truncate(config.eval.limit);
        }
        let users: Vec<String> = items
            .iter()
            .map(|i| solver_user_message(bench, i))
            .collect();
        let refs: Vec<&str> = users.iter().map(String::as_str).collect();
        let prompts = solver_prompts(config, tokenizer, &refs)?;
        out.push(Bench {
            bench,
            items,
            prompts,
        });
    }
    Ok(out)
}

/// Greedy accuracy of every benchmark; returns the boxed-answer count.
fn greedy(
    config: &RunConfig,
    benches: &[Bench],
    solver: &dyn Sampler,
    report: &mut EvalReport,
) -> Result<usize> {
    let sampling = SamplingConfig {
        temperature: 0.0,
        top_p: 1.0,
        top_k: -1,
        max_new_tokens: config.eval.max_new_tokens,
    };
    let mut boxed = 0usize;
    for b in benches {
        let outputs = if b.prompts.is_empty() {
            Vec::new()
        } else {
            solver.sample(&SampleRequest {
                prompts: b.prompts.clone(),
                n: 1,
                sampling,
                seed: 0,
            })?
        };
        let mut right = 0usize;
        for (item, out) in b.items.iter().zip(&outputs) {
            let pred = answer_of(out);
            boxed += usize::from(!pred.is_empty());
            right += usize::from(is_right(b.bench, item, &pred, out.text.as_deref()));
        }
        let name = b.bench.name().to_string();
        let acc = right as f64 / b.items.len().max(1) as f64;
        report.items.insert(name.clone(), b.items.len());
        report
            .stderr
            .insert(name.clone(), proportion_stderr(acc, b.items.len()));
        report.accuracy.insert(name, acc);
    }
    Ok(boxed)
}

/// maj@m of every benchmark with the label sampling settings.
fn majority(
    config: &RunConfig,
    iteration: usize,
    m: usize,
    benches: &[Bench],
    solver: &dyn Sampler,
) -> Result<MajorityReport> {
    let mut report = MajorityReport {
        m,
        accuracy: BTreeMap::new(),
        stderr: BTreeMap::new(),
        synthetic_mean: None,
        synthetic_mean_stderr: None,
    };
    for (k, b) in benches.iter().enumerate() {
        let votes = vote_on(
            solver,
            b.prompts.clone(),
            m,
            config.question_set.label_sampling,
            seed(config, iteration, "eval_majority", k),
        )?;
        let right = b
            .items
            .iter()
            .zip(&votes.labels)
            .filter(|(item, label)| is_right(b.bench, item, label, None))
            .count();
        let acc = right as f64 / b.items.len().max(1) as f64;
        let name = b.bench.name().to_string();
        report
            .stderr
            .insert(name.clone(), proportion_stderr(acc, b.items.len()));
        report.accuracy.insert(name, acc);
    }
    if let Some((mean, se)) = synthetic_mean(&report.accuracy, &report.stderr) {
        report.synthetic_mean = Some(mean);
        report.synthetic_mean_stderr = Some(se);
    }
    Ok(report)
}

/// Evaluates `solver` on `config.eval.benches` (first `limit` items of
/// each), its prompts rendered with `tokenizer`: greedy accuracy, and maj@m
/// when `config.eval.maj_m > 0`.
pub fn evaluate(
    config: &RunConfig,
    iteration: usize,
    tokenizer: &Tokenizer,
    solver: &dyn Sampler,
    source: &BenchSource,
) -> Result<(EvalReport, MetricsRecord)> {
    let started = Instant::now();
    let benches = benches(config, tokenizer, source)?;
    let mut report = EvalReport {
        iteration,
        accuracy: BTreeMap::new(),
        stderr: BTreeMap::new(),
        items: BTreeMap::new(),
        boxed_rate: 0.0,
        synthetic_mean: None,
        synthetic_mean_stderr: None,
        majority: None,
    };
    let boxed = greedy(config, &benches, solver, &mut report)?;
    let total: usize = benches.iter().map(|b| b.items.len()).sum();
    report.boxed_rate = boxed as f64 / total.max(1) as f64;
    if let Some((mean, se)) = synthetic_mean(&report.accuracy, &report.stderr) {
        report.synthetic_mean = Some(mean);
        report.synthetic_mean_stderr = Some(se);
    }
    let seconds_greedy = started.elapsed().as_secs_f64();
    if config.eval.maj_m > 0 {
        report.majority = Some(majority(
            config,
            iteration,
            config.eval.maj_m,
            &benches,
            solver,
        )?);
    }
    let mut m = MetricsRecord::new(iteration, "eval", 0);
    set_metrics(&mut m, &report);
    m.set("seconds_generate", seconds_greedy);
    m.set(
        "seconds_majority",
        started.elapsed().as_secs_f64() - seconds_greedy,
    );
    Ok((report, m))
}

fn set_metrics(m: &mut MetricsRecord, report: &EvalReport) {
    for (name, acc) in &report.accuracy {
        m.set(&format!("accuracy_{name}"), *acc);
    }
    for (name, se) in &report.stderr {
        m.set(&format!("accuracy_{name}_stderr"), *se);
    }
    m.set("boxed_rate", report.boxed_rate);
    if let (Some(mean), Some(se)) = (report.synthetic_mean, report.synthetic_mean_stderr) {
        m.set("accuracy_synthetic_mean", mean);
        m.set("accuracy_synthetic_mean_stderr", se);
    }
    if let Some(maj) = &report.majority {
        for (name, acc) in &maj.accuracy {
            m.set(&format!("maj_accuracy_{name}"), *acc);
        }
        if let Some(mean) = maj.synthetic_mean {
            m.set("maj_accuracy_synthetic_mean", mean);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_errors_of_proportions_and_of_a_mean_of_levels() {
        assert_eq!(proportion_stderr(0.5, 0), 0.0);
        assert!((proportion_stderr(0.5, 100) - 0.05).abs() < 1e-12);
        assert_eq!(proportion_stderr(1.0, 250), 0.0);
        let acc: BTreeMap<String, f64> =
            [("synthetic_l1", 0.5), ("synthetic_l2", 0.9), ("gsm8k", 0.1)]
                .map(|(k, v)| (k.to_string(), v))
                .into();
        let se: BTreeMap<String, f64> = [
            ("synthetic_l1", 0.03),
            ("synthetic_l2", 0.04),
            ("gsm8k", 9.0),
        ]
        .map(|(k, v)| (k.to_string(), v))
        .into();
        let (mean, mean_se) = synthetic_mean(&acc, &se).unwrap();
        assert!((mean - 0.7).abs() < 1e-12);
        // sqrt(0.03² + 0.04²) / 2 = 0.025: independent levels, the other set ignored.
        assert!((mean_se - 0.025).abs() < 1e-12);
        assert_eq!(synthetic_mean(&BTreeMap::new(), &BTreeMap::new()), None);
    }
}
