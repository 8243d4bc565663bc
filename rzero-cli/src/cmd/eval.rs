//! `rzero eval`: greedy evaluation of a model on benchmarks.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use rzero_core::phases::eval::{BenchSource, evaluate};
use rzero_core::policy::Policy;
use rzero_model::DeviceSpec;

/// Arguments of `rzero eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model directory (HF layout); default: the built-in tiny model.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Comma-separated benchmarks: math500, gsm8k, …, synthetic, math, general, all.
    #[arg(long, default_value = "synthetic")]
    bench: String,
    /// Items per benchmark (0 = all).
    #[arg(long, default_value_t = 0)]
    limit: usize,
    /// Greedy completion budget.
    #[arg(long, default_value_t = 4096)]
    max_new_tokens: usize,
    /// Directory of the paper's benchmark files.
    #[arg(long)]
    bench_dir: Option<PathBuf>,
    /// Device: cpu, wgpu[:N] or cuda[:N].
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Evaluates and prints accuracy per benchmark.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let model = match &args.model {
        Some(m) => m.clone(),
        None => {
            rzero_core::builtin::builtin_model_dir().context("unpacking the built-in tiny model")?
        }
    };
    let mut config = rzero_core::preset("tiny")?;
    config.eval.benches = vec![args.bench.clone()];
    config.eval.limit = args.limit;
    config.eval.max_new_tokens = args.max_new_tokens;
    let mut source = BenchSource::default();
    if let Some(dir) = &args.bench_dir {
        source.bench_dir = dir.clone();
    }
    let policy = Policy::load(&model, &args.device.device()?)?;
    let (report, _) = evaluate(&config, 0, &policy.tokenizer, &policy, &source)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    for (name, acc) in &report.accuracy {
        println!(
            "{name:<16} {:>6.1} %  ({} items)",
            100.0 * acc,
            report.items.get(name).copied().unwrap_or(0)
        );
    }
    println!("{:<16} {:>6.1} %", "boxed", 100.0 * report.boxed_rate);
    Ok(())
}
