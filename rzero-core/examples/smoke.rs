//! A whole R-Zero run on the built-in tiny model, small enough for a CPU:
//! the `smoke` preset (two iterations of Challenger GRPO, question set,
//! Solver GRPO and evaluation) into a temporary directory, then the
//! evaluation of every iteration.
//!
//! Run with: `cargo run --release -p rzero-core --example smoke`
//! (about two minutes on two cores).
#![expect(clippy::print_stdout, reason = "an example reports on stdout")]

use burn::prelude::Device;
use rzero_core::phases::eval::BenchSource;
use rzero_core::progress::{NoProgress, StopFlag};
use rzero_core::run::{RunOptions, Runner, init_run};
use rzero_core::{RunConfig, preset};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config: RunConfig = preset("smoke")?;
    config.eval.limit = 12; // items per synthetic level
    let base_model = rzero_core::builtin::builtin_model_dir()?;
    let dir = tempfile::tempdir()?;
    init_run(dir.path(), &config, &base_model)?;
    let options = RunOptions {
        base_model,
        device: Device::flex(),
        benches: BenchSource::default(),
    };
    let stop = StopFlag::default();
    let mut runner = Runner::open(dir.path(), options, &NoProgress, &stop)?;
    let evals = runner.run()?;
    println!("iteration  held-out %  boxed %");
    for e in &evals {
        let accuracy = e.synthetic_mean.unwrap_or_default();
        println!(
            "{:>9}  {:>10.1}  {:>7.1}",
            e.iteration,
            100.0 * accuracy,
            100.0 * e.boxed_rate
        );
    }
    println!(
        "(run directory {} is removed on exit)",
        dir.path().display()
    );
    Ok(())
}
