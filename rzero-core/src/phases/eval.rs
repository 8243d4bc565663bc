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

use super::{answer_of, solver_prompts};
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
    /// Accuracy per benchmark name.
    pub accuracy: BTreeMap<String, f64>,
    /// Items scored per benchmark name.
    pub items: BTreeMap<String, usize>,
    /// Fraction of outputs with a `\boxed{}` answer, over all items.
    pub boxed_rate: f64,
    /// Mean accuracy over the synthetic levels evaluated, if any.
    pub synthetic_mean: Option<f64>,
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

/// Evaluates `solver` on `config.eval.benches` (first `limit` items of
/// each), its prompts rendered with `tokenizer`.
pub fn evaluate(
    config: &RunConfig,
    iteration: usize,
    tokenizer: &Tokenizer,
    solver: &dyn Sampler,
    source: &BenchSource,
) -> Result<(EvalReport, MetricsRecord)> {
    let started = Instant::now();
    let benches = parse_benchmark_list(&config.eval.benches.join(","))?;
    let greedy = SamplingConfig {
        temperature: 0.0,
        top_p: 1.0,
        top_k: -1,
        max_new_tokens: config.eval.max_new_tokens,
    };
    let mut report = EvalReport {
        iteration,
        accuracy: BTreeMap::new(),
        items: BTreeMap::new(),
        boxed_rate: 0.0,
        synthetic_mean: None,
    };
    let (mut boxed, mut total) = (0usize, 0usize);
    let mut heldout = None;
    for bench in benches {
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
        let outputs = if prompts.is_empty() {
            Vec::new()
        } else {
            solver.sample(&SampleRequest {
                prompts,
                n: 1,
                sampling: greedy,
                seed: 0,
            })?
        };
        let mut right = 0usize;
        for (item, out) in items.iter().zip(&outputs) {
            let pred = answer_of(out);
            boxed += usize::from(!pred.is_empty());
            let ok = if matches!(bench, Benchmark::Synthetic(_)) {
                !pred.is_empty() && rzero_reward::equivalent(&item.answer, &pred)
            } else if bench.is_math() {
                // The paper's sets: the answer is found in the whole output
                // (last box, then math-verify's fallbacks), as its harness does.
                let text = out.text.as_deref().unwrap_or("");
                rzero_reward::verify_texts(&item.answer, text).verdict.equal
            } else {
                general_match(&pred, &item.answer)
            };
            right += usize::from(ok);
        }
        total += items.len();
        report.items.insert(bench.name().to_string(), items.len());
        report.accuracy.insert(
            bench.name().to_string(),
            right as f64 / items.len().max(1) as f64,
        );
    }
    report.boxed_rate = boxed as f64 / total.max(1) as f64;
    let synthetic: Vec<f64> = report
        .accuracy
        .iter()
        .filter(|(k, _)| k.starts_with("synthetic_"))
        .map(|(_, v)| *v)
        .collect();
    if !synthetic.is_empty() {
        report.synthetic_mean = Some(synthetic.iter().sum::<f64>() / synthetic.len() as f64);
    }
    let mut m = MetricsRecord::new(iteration, "eval", 0);
    for (name, acc) in &report.accuracy {
        m.set(&format!("accuracy_{name}"), *acc);
    }
    m.set("boxed_rate", report.boxed_rate);
    m.set("seconds_generate", started.elapsed().as_secs_f64());
    if let Some(mean) = report.synthetic_mean {
        m.set("accuracy_synthetic_mean", mean);
    }
    Ok((report, m))
}
