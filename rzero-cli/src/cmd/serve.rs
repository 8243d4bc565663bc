//! `rzero serve`: an OpenAI-compatible completions server for a model
//! directory (the work lives in `rzero_serve::Server`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use rzero_model::DeviceSpec;
use rzero_serve::{Server, ServerConfig};

/// Arguments of `rzero serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Model directory (HF layout); default: the built-in tiny model.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Port (0 picks a free one; the address is printed on stdout).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Interface to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Device: cpu, wgpu[:N] or cuda[:N].
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// Name clients send as `model` (default: the model path, as vLLM).
    #[arg(long)]
    served_model_name: Option<String>,
    /// Most rows (prompts × n) per batch.
    #[arg(long, default_value_t = 128)]
    max_batch_rows: usize,
}

/// Serves until killed.
pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let model = match &args.model {
        Some(m) => m.clone(),
        None => {
            rzero_core::builtin::builtin_model_dir().context("unpacking the built-in tiny model")?
        }
    };
    let mut config = ServerConfig::new(
        model,
        format!("{}:{}", args.host, args.port),
        args.device.device()?,
    );
    config.served_model_name = args.served_model_name.clone();
    config.max_batch_rows = args.max_batch_rows;
    let server = Server::start(config).context("starting rzero serve")?;
    // Scripts and tests read this line to find a port chosen with --port 0.
    println!("listening on {}", server.url());
    server.join();
    Ok(())
}
