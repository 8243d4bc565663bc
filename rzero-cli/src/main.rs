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
    // One variant per subcommand; each lives in `cmd/<name>.rs`.
    /// Sample completions from a model directory (prompt text, ids or chat).
    Generate(cmd::generate::GenerateArgs),
    /// Mark `{"gold", "pred"}` JSONL lines with `"equivalent": bool`.
    CheckAnswers(cmd::check_answers::CheckAnswersArgs),
}

fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        // One arm per subcommand.
        Command::Generate(args) => cmd::generate::run(&args),
        Command::CheckAnswers(args) => cmd::check_answers::run(&args),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
