//! Greedy continuation of token ids with a checkpoint directory.
//!
//! Run with:
//! `cargo run -p rzero-model --example generate -- rzero-model/tests/fixtures/qwen3_s_tied 1,2,3`
#![expect(clippy::print_stdout, reason = "an example prints its result")]

use burn::prelude::*;
use rzero_model::{GenerateOptions, load_pretrained};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .unwrap_or_else(|| "rzero-model/tests/fixtures/qwen3_s_tied".into());
    let ids = args.next().unwrap_or_else(|| "1,2,3".into());
    let prompt: Vec<u32> = ids.split(',').map(str::parse).collect::<Result<_, _>>()?;
    let (model, hf) = load_pretrained(dir.as_ref(), &Device::flex())?;
    let options = GenerateOptions {
        max_new_tokens: 16,
        eos_token_ids: hf.eos_token_ids(),
        ..GenerateOptions::default()
    };
    for c in rzero_model::generate(&model, &[prompt], &options, None)? {
        println!("{:?} {:?} {:?}", c.token_ids, c.finish_reason, c.logprobs);
    }
    Ok(())
}
