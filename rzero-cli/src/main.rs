//! `rzero`: R-Zero self-evolving reasoning training in one binary.
//!
//! Exit codes: 0 success, 1 error (bad input, I/O, model), 2 usage error
//! (clap), 130 interrupted by Ctrl-C.
#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the CLI is the one crate that prints"
)]

mod cmd;
#[cfg(all(feature = "wgpu", unix))]
mod gpu_env;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// R-Zero: a Challenger and a Solver co-evolve from one base model with no human data.
#[derive(Debug, Parser)]
#[command(name = "rzero", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Co-evolve a Challenger and a Solver (R-Zero); resumable.
    Run(cmd::run::RunArgs),
    /// Greedy and maj@m evaluation of a model on benchmarks, with standard errors.
    Eval(cmd::eval::EvalArgs),
    /// Plots and a Markdown summary of a run directory.
    Report(cmd::report::ReportArgs),
    // One variant per subcommand; each lives in `cmd/<name>.rs`.
    /// Sample completions from a model directory (prompt text, ids or chat).
    Generate(cmd::generate::GenerateArgs),
    /// Mark `{"gold", "pred"}` JSONL lines with `"equivalent": bool`.
    CheckAnswers(cmd::check_answers::CheckAnswersArgs),
    /// Train the built-in tiny base model from scratch (or --eval-only DIR).
    Pretrain(cmd::pretrain::PretrainArgs),
    /// Serve a model over the OpenAI-compatible completions API (vLLM-style).
    Serve(cmd::serve::ServeArgs),
    /// Estimated peak memory of each phase and the micro-batches that fit (--measure checks it).
    Plan(cmd::plan::PlanArgs),
}

fn dispatch(command: Command) -> anyhow::Result<()> {
    // Model work on a rayon thread: every kernel then splits its work
    // without waking a thread outside the pool (rzero_model::pool).
    use rzero_model::pool::on_pool;
    match command {
        Command::Run(args) => {
            if !on_pool(|| cmd::run::run(&args))? {
                // Interrupted by Ctrl-C at a safe point: documented exit code 130.
                std::process::exit(130);
            }
            Ok(())
        }
        Command::Eval(args) => on_pool(|| cmd::eval::run(&args)),
        Command::Report(args) => cmd::report::run(&args),
        // One arm per subcommand.
        Command::Generate(args) => on_pool(|| cmd::generate::run(&args)),
        Command::CheckAnswers(args) => cmd::check_answers::run(&args),
        Command::Pretrain(args) => on_pool(|| cmd::pretrain::run(args)),
        Command::Serve(args) => cmd::serve::run(&args),
        Command::Plan(args) => cmd::plan::run(&args),
    }
}

/// Points `XDG_RUNTIME_DIR` at a private directory when it is unset, so the
/// Vulkan driver under wgpu does not print an error on every device creation.
#[cfg(all(feature = "wgpu", unix))]
#[expect(unsafe_code, reason = "set_var is unsafe in edition 2024; see SAFETY")]
fn set_runtime_dir() -> Result<Option<std::path::PathBuf>, String> {
    let dir = gpu_env::runtime_dir()?;
    if let Some(dir) = &dir {
        // SAFETY: called first thing in `main`, before any thread exists, so
        // nothing can read the environment concurrently.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", dir) };
    }
    Ok(dir)
}

fn main() -> ExitCode {
    // Before any thread allocates: tensor buffers are reused instead of
    // page-faulted in again (13–17 % of a CPU train step).
    rzero_model::allocator::keep_freed_memory();
    // The long commands run on a rayon thread (`on_pool`), with a main
    // thread's stack.
    rzero_model::pool::use_main_sized_stacks();
    #[cfg(all(feature = "wgpu", unix))]
    let runtime_dir = set_runtime_dir();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // wgpu logs an ERROR when its GL fallback finds no EGL driver,
                // even when Vulkan serves the device; RUST_LOG still shows it.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,wgpu_hal::gles=off")),
        )
        .with_writer(std::io::stderr)
        .init();
    #[cfg(all(feature = "wgpu", unix))]
    match runtime_dir {
        Ok(Some(dir)) => tracing::info!("XDG_RUNTIME_DIR was unset; using {}", dir.display()),
        Ok(None) => {}
        Err(e) => tracing::warn!("XDG_RUNTIME_DIR is unset and no private one was made: {e}"),
    }
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", chain(&err));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes joined by ": ", each said once: many error
/// types already put their source in their own message.
fn chain(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
