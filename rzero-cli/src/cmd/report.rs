//! `rzero report RUN_DIR`: plots and a Markdown summary of a run.

use std::path::PathBuf;

use clap::Args;

/// Arguments of `rzero report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run directory (as created by `rzero run`).
    run_dir: PathBuf,
}

/// Writes `RUN_DIR/report/` and prints where.
pub fn run(args: &ReportArgs) -> anyhow::Result<()> {
    let files = rzero_core::report::write_report(&args.run_dir)?;
    println!("{}", files.summary.display());
    for p in files.plots {
        println!("{}", p.display());
    }
    Ok(())
}
