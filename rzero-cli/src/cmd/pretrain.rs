//! `rzero pretrain`: train the built-in tiny base model from scratch on the
//! synthetic corpus (docs/DESIGN.md §8), or measure a model directory's
//! capability profile with `--eval-only DIR`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rzero_pretrain::eval::record_transformers_check;
use rzero_pretrain::{
    CapabilityConfig, CapabilityReport, LossTokens, PretrainConfig, PretrainOptions,
    PretrainProgress, StepReport, evaluate_model_dir, pretrain,
};

/// Arguments of `rzero pretrain`.
#[derive(Debug, Args)]
pub struct PretrainArgs {
    /// Output directory: the Hugging Face model, `checkpoints/`, `pretrain.json`.
    #[arg(long, value_name = "DIR", required_unless_present = "eval_only")]
    out: Option<PathBuf>,
    /// Optimizer steps (default: the tiny recipe's).
    #[arg(long)]
    steps: Option<u64>,
    /// Seed of the weight init and batch order.
    #[arg(long)]
    seed: Option<u64>,
    /// Continue from the newest checkpoint in `--out`.
    #[arg(long)]
    resume: bool,
    /// Device: cpu, wgpu[:N] or cuda[:N] (GPU backends need their cargo feature).
    #[arg(long, default_value = "cpu")]
    device: String,
    /// A JSON `PretrainConfig` replacing the tiny recipe.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Start from this model directory's weights and tokenizer (a second
    /// curriculum stage) instead of a fresh init.
    #[arg(long, value_name = "DIR")]
    init: Option<PathBuf>,
    /// Tokens the loss is taken over.
    #[arg(long, value_enum)]
    loss_tokens: Option<LossTokensArg>,
    /// Stop after this many steps, with a checkpoint (resume later with --resume).
    #[arg(long, value_name = "N")]
    stop_after: Option<u64>,
    /// Only measure the capability profile of the model in DIR.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "resume", "steps", "config", "init"])]
    eval_only: Option<PathBuf>,
    /// With --eval-only: also compare with transformers' logits in FILE
    /// (written by rzero-pretrain/tests/fixtures/tiny_model/check_transformers.py).
    #[arg(long, value_name = "FILE", requires = "eval_only")]
    transformers_check: Option<PathBuf>,
    /// Skip the capability evaluation after training.
    #[arg(long)]
    no_eval: bool,
    /// Held-out questions per level in the evaluation.
    #[arg(long, default_value_t = 250)]
    per_level: usize,
    /// Samples per question for maj@m in the evaluation (0: greedy only).
    #[arg(long, default_value_t = 8)]
    maj: usize,
    /// Challenger samples (temperature 1.0) in the evaluation.
    #[arg(long, default_value_t = 200)]
    challenger_samples: usize,
}

/// `--loss-tokens` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum LossTokensArg {
    Completion,
    All,
}

struct Bar(ProgressBar);

impl PretrainProgress for Bar {
    fn stage(&mut self, what: &str) {
        self.0.set_message(format!("preparing {what}"));
    }
    fn start(&mut self, first_step: u64, total_steps: u64) {
        self.0.set_length(total_steps);
        self.0.set_position(first_step);
        self.0.reset_eta();
    }
    fn step(&mut self, report: &StepReport) {
        self.0.set_position(report.step);
        self.0
            .set_message(format!("loss {:.3} lr {:.1e}", report.loss, report.lr));
    }
    fn validation(&mut self, step: u64, loss: f32) {
        self.0
            .println(format!("step {step:>6}: validation loss {loss:.4}"));
    }
    fn checkpoint(&mut self, step: u64, dir: &std::path::Path) {
        tracing::info!(step, dir = %dir.display(), "checkpoint");
    }
}

fn config(args: &PretrainArgs) -> anyhow::Result<PretrainConfig> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => PretrainConfig::tiny(),
    };
    if let Some(steps) = args.steps {
        config.steps = steps;
    }
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if let Some(init) = &args.init {
        config.init_from = Some(init.clone());
    }
    if let Some(which) = args.loss_tokens {
        config.loss_tokens = match which {
            LossTokensArg::Completion => LossTokens::Completion,
            LossTokensArg::All => LossTokens::All,
        };
    }
    Ok(config)
}

fn print_report(report: &CapabilityReport) {
    println!(
        "level  items  boxed  greedy %  maj@{} %",
        report.config.maj_m
    );
    for l in &report.levels {
        let maj = l
            .majority_accuracy()
            .map_or("-".to_string(), |m| format!("{:.1}", 100.0 * m));
        println!(
            "{:>5}  {:>5}  {:>5}  {:>8.1}  {:>7}",
            l.level,
            l.items,
            l.boxed,
            100.0 * l.accuracy(),
            maj
        );
    }
    for (name, value, ok) in report.targets() {
        let measured = if name.ends_with("(count)") {
            format!("{value:>8}")
        } else {
            format!("{:>6.1} %", 100.0 * value)
        };
        println!(
            "{name:<56} {measured}  {}",
            if ok { "met" } else { "MISSED" }
        );
    }
}

/// Runs `rzero pretrain`.
pub fn run(args: PretrainArgs) -> anyhow::Result<()> {
    let device_spec: rzero_model::device::DeviceSpec = args.device.parse()?;
    let device = device_spec.device()?;
    let eval_config = CapabilityConfig {
        per_level: args.per_level,
        challenger_samples: args.challenger_samples,
        maj_m: args.maj,
        ..CapabilityConfig::default()
    };
    if let Some(dir) = &args.eval_only {
        if let Some(fixture) = &args.transformers_check {
            let check = record_transformers_check(dir, fixture, &device).with_context(|| {
                format!("comparing {} with {}", dir.display(), fixture.display())
            })?;
            println!(
                "transformers: max |Δlogit| {:.2e}, same prompt {}, same ids {}, same greedy tokens {}",
                check.max_abs_diff, check.prompt_matches, check.ids_match, check.greedy_matches
            );
        }
        let report = evaluate_model_dir(dir, &eval_config, &device)
            .with_context(|| format!("evaluating {}", dir.display()))?;
        print_report(&report);
        return Ok(());
    }
    let out = args.out.clone().context("--out is required")?;
    let config = config(&args)?;
    let command = std::iter::once("rzero".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let handler_stop = std::sync::Arc::clone(&stop);
    ctrlc::set_handler(move || handler_stop.store(true, std::sync::atomic::Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;
    let options = PretrainOptions {
        out: out.clone(),
        resume: args.resume,
        device: device.clone(),
        stop_after: args.stop_after,
        command,
        stop: std::sync::Arc::clone(&stop),
    };
    let bar = ProgressBar::new(config.steps);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{wide_bar}] {pos}/{len} steps, ETA {eta_precise} {msg}",
        )
        .context("progress template")?,
    );
    let outcome = pretrain(&config, &options, &mut Bar(bar.clone()))
        .with_context(|| format!("pretraining into {}", out.display()))?;
    bar.finish_and_clear();
    if let Some(last) = outcome.state.history.last() {
        println!(
            "step {}: train loss {:.4}, validation loss {:.4}",
            last.step, last.train_loss, last.val_loss
        );
    }
    if !outcome.finished {
        println!(
            "stopped after {} steps; continue with --resume",
            outcome.state.step
        );
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            // Ctrl-C at a safe point (a checkpoint was written): exit code 130.
            std::process::exit(130);
        }
        return Ok(());
    }
    println!("model written to {}", out.display());
    if !args.no_eval {
        let report = evaluate_model_dir(&out, &eval_config, &device)
            .with_context(|| format!("evaluating {}", out.display()))?;
        print_report(&report);
    }
    Ok(())
}
