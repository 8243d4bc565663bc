//! `rzero report RUN_DIR`: plots and a Markdown summary of a run;
//! `rzero report DIR DIR…`: several runs compared, seeds grouped.

use std::path::{Path, PathBuf};

use clap::Args;

/// Arguments of `rzero report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run directories (as created by `rzero run`). One: writes its
    /// `report/`. Several: prints a Markdown comparison, runs named
    /// `NAME-s<seed>` grouped by NAME (mean ± standard error over seeds).
    #[arg(required = true)]
    run_dirs: Vec<PathBuf>,
}

/// Writes `RUN_DIR/report/` and prints where, or prints the comparison.
pub fn run(args: &ReportArgs) -> anyhow::Result<()> {
    if let [dir] = args.run_dirs.as_slice() {
        let files = rzero_core::report::write_report(dir)?;
        println!("{}", files.summary.display());
        for p in files.plots {
            println!("{}", p.display());
        }
        return Ok(());
    }
    let dirs: Vec<&Path> = args.run_dirs.iter().map(PathBuf::as_path).collect();
    print!("{}", rzero_core::report_compare::compare_runs(&dirs)?);
    Ok(())
}
