//! Loads a checkpoint and saves it again with rzero's writer, so that
//! `tests/fixtures/make_fixtures.py check-saved` can load the copy with
//! transformers.
//!
//! Run with:
//! `cargo run -p rzero-model --example resave -- IN_DIR OUT_DIR [MAX_SHARD_BYTES]`
#![expect(clippy::print_stdout, reason = "an example prints its result")]

use burn::prelude::*;
use rzero_model::{SaveOptions, load_pretrained, save_pretrained};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, rest @ ..] = args.as_slice() else {
        return Err("usage: resave IN_DIR OUT_DIR [MAX_SHARD_BYTES]".into());
    };
    let mut options = SaveOptions::default();
    if let Some(bytes) = rest.first() {
        options.max_shard_bytes = bytes.parse()?;
    }
    let (model, hf) = load_pretrained(input.as_ref(), &Device::flex())?;
    save_pretrained(&model, &hf, output.as_ref(), &options)?;
    println!("saved {input} to {output}");
    Ok(())
}
