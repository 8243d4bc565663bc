//! Trains a byte-level BPE tokenizer on a text file (one document per line)
//! and writes a Hugging Face tokenizer directory.
//!
//! Run with:
//! `cargo run -p rzero-pretrain --example train_bpe -- CORPUS.txt OUT_DIR [VOCAB_SIZE]`

use std::path::PathBuf;

use rzero_model::chat::ChatMessage;
use rzero_model::tokenizer::Tokenizer;
use rzero_pretrain::bpe::{BpeConfig, train_bpe, write_tokenizer_dir};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: train_bpe CORPUS.txt OUT_DIR [VOCAB_SIZE]";
    let corpus = PathBuf::from(args.next().ok_or(usage)?);
    let out = PathBuf::from(args.next().ok_or(usage)?);
    let vocab_size = match args.next() {
        Some(v) => v.parse()?,
        None => BpeConfig::default().vocab_size,
    };
    let text = std::fs::read_to_string(&corpus)?;
    let config = BpeConfig {
        vocab_size,
        ..BpeConfig::default()
    };
    let tokenizer = train_bpe(text.lines(), config)?;
    write_tokenizer_dir(&tokenizer, &out)?;

    // Reload it as a model directory and render a Solver prompt.
    let loaded = Tokenizer::from_dir(&out)?;
    let prompt = loaded.apply_chat_template(&[ChatMessage::user("What is 12 + 30?")], true)?;
    let ids = loaded.encode(&prompt)?;
    #[expect(clippy::print_stdout, reason = "an example reports what it did")]
    {
        println!("vocab {} -> {}", loaded.vocab_size(), out.display());
        println!("{} tokens: {prompt:?}", ids.len());
    }
    Ok(())
}
