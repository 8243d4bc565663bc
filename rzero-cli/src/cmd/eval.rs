//! `rzero eval`: greedy and maj@m evaluation of a model on benchmarks, with
//! standard errors.

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
    /// maj@m: answers sampled per item (the preset's label sampling
    /// settings), majority vote; 0 = greedy only. Default: the preset's m.
    #[arg(long)]
    maj: Option<usize>,
    /// Preset whose label sampling settings maj@m uses.
    #[arg(long, default_value = "tiny")]
    preset: String,
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
    let mut config = rzero_core::preset(&args.preset)?;
    config.eval.benches = vec![args.bench.clone()];
    config.eval.limit = args.limit;
    config.eval.max_new_tokens = args.max_new_tokens;
    config.eval.maj_m = args.maj.unwrap_or(config.question_set.m_label);
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
    print_table(&report);
    Ok(())
}

fn percent(value: Option<f64>, se: Option<f64>) -> String {
    match (value, se) {
        (Some(v), Some(se)) => format!("{:>5.1} ± {:>4.1}", 100.0 * v, 100.0 * se),
        (Some(v), None) => format!("{:>5.1}       ", 100.0 * v),
        _ => format!("{:>12}", "-"),
    }
}

fn print_table(report: &rzero_core::phases::eval::EvalReport) {
    let maj = report.majority.as_ref();
    let maj_header = maj.map_or(String::new(), |m| {
        format!("  {:>12}", format!("maj@{}", m.m))
    });
    println!("{:<16} {:>12}{maj_header}  items", "benchmark", "greedy %");
    for (name, acc) in &report.accuracy {
        let maj_cell = maj.map_or(String::new(), |m| {
            format!(
                "  {}",
                percent(m.accuracy.get(name).copied(), m.stderr.get(name).copied())
            )
        });
        println!(
            "{name:<16} {}{maj_cell}  {}",
            percent(Some(*acc), report.stderr.get(name).copied()),
            report.items.get(name).copied().unwrap_or(0)
        );
    }
    if report.synthetic_mean.is_some() {
        let maj_cell = maj.map_or(String::new(), |m| {
            format!("  {}", percent(m.synthetic_mean, m.synthetic_mean_stderr))
        });
        println!(
            "{:<16} {}{maj_cell}",
            "synthetic_mean",
            percent(report.synthetic_mean, report.synthetic_mean_stderr)
        );
    }
    println!("{:<16} {}", "boxed", percent(Some(report.boxed_rate), None));
}
