//! Writes a random checkpoint with the exact shape of a published Qwen3
//! model (issue 15), and optionally loads it and times greedy decoding.
//!
//! Run with:
//! `cargo run --release -p rzero-model --example random_checkpoint -- --shape qwen3-0.6b --out /work/qwen3-0.6b-shape`
//!
//! Options: `--shape qwen3-0.6b|qwen3-4b|qwen3-8b` (required), `--out DIR`
//! (required), `--layers N` (keep the first N decoder blocks), `--seed N`
//! (default 0), `--dtype bf16|f32` (default bf16), `--config-only` (no
//! weights: config, generation config and tokenizer only), `--generate N`
//! (then load the directory and greedily decode N tokens, timing each part).
//!
//! Exit codes: 0 done, 1 writing or loading failed, 2 bad arguments.
#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example reports on the terminal"
)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use burn::prelude::*;
use rzero_model::random_checkpoint::{Preset, RandomCheckpoint, write, write_config};
use rzero_model::tokenizer::Tokenizer;
use rzero_model::{GenerateOptions, SaveDtype, generate, load_pretrained};

const USAGE: &str = "usage: random_checkpoint --shape qwen3-0.6b|qwen3-4b|qwen3-8b --out DIR \
[--layers N] [--seed N] [--dtype bf16|f32] [--config-only] [--generate N]";

#[derive(Debug)]
struct Args {
    spec: RandomCheckpoint,
    out: PathBuf,
    config_only: bool,
    generate: Option<usize>,
}

fn number(flag: &str, value: Option<String>) -> Result<u64, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: {value:?} is not a non-negative integer"))
}

fn parse(mut raw: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut shape, mut out, mut layers, mut seed) = (None, None, None, 0);
    let (mut dtype, mut config_only, mut generate) = (SaveDtype::BF16, false, None);
    while let Some(flag) = raw.next() {
        match flag.as_str() {
            "--shape" => {
                let name = raw.next().ok_or("--shape needs a value")?;
                shape = Some(name.parse::<Preset>().map_err(|e| e.to_string())?);
            }
            "--out" => out = Some(PathBuf::from(raw.next().ok_or("--out needs a value")?)),
            "--layers" => layers = Some(number("--layers", raw.next())? as usize),
            "--seed" => seed = number("--seed", raw.next())?,
            "--generate" => generate = Some(number("--generate", raw.next())? as usize),
            "--config-only" => config_only = true,
            "--dtype" => {
                dtype = match raw.next().as_deref() {
                    Some("bf16") => SaveDtype::BF16,
                    Some("f32") => SaveDtype::F32,
                    other => return Err(format!("--dtype: {other:?} is not bf16 or f32")),
                }
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let shape = shape.ok_or("--shape is required")?;
    let mut spec = RandomCheckpoint::preset(shape)
        .with_seed(seed)
        .with_dtype(dtype);
    if let Some(layers) = layers {
        spec = spec.with_layers(layers);
    }
    if config_only && generate.is_some() {
        return Err("--generate needs weights: drop --config-only".into());
    }
    let out = out.ok_or("--out is required")?;
    Ok(Args {
        spec,
        out,
        config_only,
        generate,
    })
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    if args.config_only {
        write_config(&args.out, &args.spec)?;
        let c = &args.spec.config;
        println!(
            "config only ({} layers, {} parameters, no weights) -> {}",
            c.num_hidden_layers,
            c.num_params(),
            args.out.display()
        );
        return Ok(());
    }
    let written = write(&args.out, &args.spec)?;
    let bytes: u64 = written
        .weight_files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()))
        .sum::<Result<_, _>>()?;
    println!(
        "write: {} parameters, {} tensors, {:.2} GB in {:.2} s -> {}",
        written.parameters,
        written.tensors,
        bytes as f64 / 1e9,
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    if let Some(tokens) = args.generate {
        decode(args, tokens)?;
    }
    Ok(())
}

fn decode(args: &Args, tokens: usize) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let (model, _) = load_pretrained(&args.out, &Device::flex())?;
    let tok = Tokenizer::from_dir(&args.out)?;
    println!("load: {:.2} s", started.elapsed().as_secs_f64());
    let prompt = tok.encode("Question: What is 17 + 25? Answer:")?;
    let options = GenerateOptions {
        max_new_tokens: tokens,
        ..GenerateOptions::default()
    };
    let started = Instant::now();
    let out = generate(&model, &[&prompt], &options, Some(&tok))?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "generate: {} tokens after a {}-token prompt in {seconds:.2} s ({:.1} tokens/s): {:?}",
        out[0].token_ids.len(),
        prompt.len(),
        out[0].token_ids.len() as f64 / seconds,
        out[0].token_ids
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
