//! Serves the tiny model on a free port and asks it for completions through
//! a client pool, as rzero does for a remote role.
//!
//! Run with: `cargo run -p rzero-serve --example serve_and_query [MODEL_DIR]`
#![expect(clippy::print_stdout, reason = "an example shows its output")]

use std::path::PathBuf;

use burn::prelude::*;
use rzero_serve::protocol::{CompletionRequest, Prompt};
use rzero_serve::{Pool, PoolConfig, Server, ServerConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../rzero-core/models/tiny"
            ))
        });
    let server = Server::start(ServerConfig::new(
        model,
        "127.0.0.1:0".into(),
        Device::flex(),
    ))?;
    println!("serving on {}", server.url());
    let pool = Pool::new(PoolConfig::new(vec![server.url()]))?;
    let request = CompletionRequest {
        prompt: Some(Prompt::Text("Question: What is 12 + 30?".into())),
        n: Some(2),
        max_tokens: Some(24),
        temperature: Some(0.8),
        seed: Some(42),
        logprobs: Some(0),
        ..CompletionRequest::default()
    };
    for choice in &pool.complete(&request)?.choices {
        let lps = choice
            .logprobs
            .as_ref()
            .map_or(0, |l| l.token_logprobs.len());
        println!(
            "[{}] {:?} ({lps} log-probs, {:?})",
            choice.index, choice.text, choice.finish_reason
        );
    }
    server.shutdown();
    Ok(())
}
