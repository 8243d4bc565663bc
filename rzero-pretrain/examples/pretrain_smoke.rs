//! Pretrains the seconds-long smoke recipe (a 2-layer Qwen3 of width 32)
//! into a directory and prints its loss curve.
//!
//! `cargo run -p rzero-pretrain --example pretrain_smoke -- [OUT_DIR]`
//! (default: a fresh temporary directory, removed at the end).
#![expect(clippy::print_stdout, reason = "an example prints its result")]

use burn::prelude::Device;
use rzero_pretrain::{NoProgress, PretrainConfig, PretrainOptions, pretrain};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let temp = tempfile::tempdir()?;
    let out = std::env::args()
        .nth(1)
        .map_or_else(|| temp.path().to_path_buf(), Into::into);
    let options = PretrainOptions {
        out: out.clone(),
        resume: false,
        device: Device::flex(),
        stop_after: None,
        command: "cargo run -p rzero-pretrain --example pretrain_smoke".into(),
        stop: Default::default(),
    };
    let outcome = pretrain(&PretrainConfig::smoke(), &options, &mut NoProgress)?;
    for point in &outcome.state.history {
        println!(
            "step {:>3}: train loss {:.3}, validation loss {:.3}",
            point.step, point.train_loss, point.val_loss
        );
    }
    println!("model written to {}", out.display());
    Ok(())
}
