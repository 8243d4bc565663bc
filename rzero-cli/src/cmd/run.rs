//! `rzero run`: co-evolve a Challenger and a Solver (the main job).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use rzero_core::config::Override;
use rzero_core::phases::eval::{BenchSource, EvalReport};
use rzero_core::plan::{PlanOptions, plan_run};
use rzero_core::progress::StopFlag;
use rzero_core::run::{RunOptions, Runner, init_run};
use rzero_core::{CoreError, RunConfig};
use rzero_model::DeviceSpec;

use crate::progress::Bar;

/// Arguments of `rzero run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// TOML run config, whole or partial: its keys override the preset's.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Preset: tiny (default; the built-in model on a CPU), smoke (CI) or
    /// paper. Default: the config file's `preset`, else tiny.
    #[arg(long)]
    preset: Option<String>,
    /// Override one key after the preset and --config, e.g.
    /// `--set grpo.optimizer.lr=1e-4` (value read as TOML, else as a string); repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<Override>,
    /// Base model directory (HF layout); default: the built-in tiny model.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Run directory to create (default: runs/<preset>-<unix time>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in this directory after an interruption (with the
    /// config stored in it).
    #[arg(long, conflicts_with_all = ["config", "preset", "set", "model", "out", "memory"])]
    resume: Option<PathBuf>,
    /// Device: cpu, wgpu[:N] or cuda[:N].
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// Print the merged config as TOML (with --resume: the run's own) and exit.
    #[arg(long)]
    print_config: bool,
    /// Memory the run must fit in (20GiB, 80GB, 512MiB, bytes); default: the
    /// device's memory where it can be read (a CPU's MemTotal). A run that
    /// cannot fit is refused; micro-batches are lowered to fit (`rzero plan`).
    #[arg(long, value_parser = crate::cmd::plan::memory_size)]
    memory: Option<u64>,
}

fn resolve_config(args: &RunArgs) -> anyhow::Result<RunConfig> {
    if let Some(dir) = &args.resume {
        return Ok(rzero_core::rundir::RunDir::new(dir).read_config()?);
    }
    Ok(RunConfig::layered(
        args.preset.as_deref(),
        args.config.as_deref(),
        &args.set,
    )?)
}

/// Plans the run's memory: refuses a run that cannot fit, lowers
/// `grpo.micro_batch_rows` and the `[memory]` settings when smaller ones are
/// what fits.
fn fit_memory(
    config: &mut RunConfig,
    model: &std::path::Path,
    args: &RunArgs,
) -> anyhow::Result<()> {
    let Some((bytes, source)) = crate::cmd::plan::budget(args.memory, args.device)? else {
        tracing::warn!(
            "the memory of device {} cannot be read: no memory check (pass --memory)",
            args.device
        );
        return Ok(());
    };
    let plan = plan_run(
        config,
        model,
        &PlanOptions::for_device(bytes, args.device == DeviceSpec::Cpu),
    )?;
    if let Some(message) = plan.refusal() {
        bail!("{message} ({source}); `rzero plan` shows every phase");
    }
    if let Some(rows) = plan.update_rows() {
        eprintln!(
            "plan: grpo.micro_batch_rows {} -> {rows} to fit {}",
            config.grpo.micro_batch_rows,
            rzero_core::plan::size::format_size(bytes)
        );
        config.grpo.micro_batch_rows = rows as usize;
    }
    let memory = plan.memory_settings(&config.memory);
    if memory != config.memory {
        eprintln!(
            "plan: [memory] {:?} -> {memory:?} to fit {}",
            config.memory,
            rzero_core::plan::size::format_size(bytes)
        );
        config.memory = memory;
    }
    Ok(())
}

fn new_run(args: &RunArgs) -> anyhow::Result<PathBuf> {
    let mut config = resolve_config(args)?;
    let model = match (&args.model, &config.model) {
        (Some(m), _) | (None, Some(m)) => m.clone(),
        (None, None) => {
            rzero_core::builtin::builtin_model_dir().context("unpacking the built-in tiny model")?
        }
    };
    if !model.join("config.json").exists() {
        bail!(
            "{}: not a model directory (no config.json)",
            model.display()
        );
    }
    fit_memory(&mut config, &model, args)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        PathBuf::from(format!("runs/{}-{secs}", config.preset))
    });
    init_run(&out, &config, &model)?;
    Ok(out)
}

/// Runs `rzero run`; `Ok(false)` means it stopped on Ctrl-C at a safe point.
pub fn run(args: &RunArgs) -> anyhow::Result<bool> {
    if args.print_config {
        print!("{}", resolve_config(args)?.to_toml()?);
        return Ok(true);
    }
    let dir = match &args.resume {
        Some(dir) => dir.clone(),
        None => new_run(args)?,
    };
    let config = rzero_core::rundir::RunDir::new(&dir).read_config()?;
    let base_model = config
        .model
        .clone()
        .context("the run config names no base model")?;
    let options = RunOptions {
        base_model,
        device: args.device.device()?,
        benches: BenchSource::default(),
    };
    let stop = Arc::new(StopFlag::default());
    let handler_stop = Arc::clone(&stop);
    ctrlc::set_handler(move || handler_stop.request()).context("installing the Ctrl-C handler")?;
    eprintln!("run directory: {}", dir.display());
    let bar = Bar::new();
    let mut runner = Runner::open(&dir, options, &bar, &stop)?;
    let result = runner.run();
    bar.finish();
    match result {
        Ok(evals) => {
            print_summary(&dir, &evals);
            Ok(true)
        }
        Err(CoreError::Interrupted) => {
            eprintln!(
                "stopped at a safe point; continue with: rzero run --resume {}",
                dir.display()
            );
            Ok(false)
        }
        Err(e) => Err(e).with_context(|| format!("run in {}", dir.display())),
    }
}

fn print_summary(dir: &std::path::Path, evals: &[EvalReport]) {
    println!("R-Zero run finished: {}", dir.display());
    println!("{:<10} {:>12} {:>8}", "iteration", "held-out %", "boxed %");
    for e in evals {
        let acc = e
            .synthetic_mean
            .unwrap_or_else(|| e.accuracy.values().sum::<f64>() / e.accuracy.len().max(1) as f64);
        println!(
            "{:<10} {:>12.1} {:>8.1}",
            e.iteration,
            100.0 * acc,
            100.0 * e.boxed_rate
        );
    }
    println!(
        "metrics: {}/metrics.jsonl · report: rzero report {}",
        dir.display(),
        dir.display()
    );
}
