//! `rzero generate`: sample completions from a model directory.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use rzero_model::chat::ChatMessage;
use rzero_model::sampling::Sampling;
use rzero_model::tokenizer::Tokenizer;
use rzero_model::{DeviceSpec, GenerateOptions, TextDecoder, generate, load_pretrained};

/// Arguments of `rzero generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Model directory (HF layout: config.json, *.safetensors, tokenizer.json).
    #[arg(long)]
    model: PathBuf,
    /// Prompt text (encoded with the model's tokenizer, no chat template).
    #[arg(long, conflicts_with_all = ["prompt_ids", "chat_user"])]
    prompt: Option<String>,
    /// Prompt as comma-separated token ids (works without a tokenizer).
    #[arg(long, value_delimiter = ',', conflicts_with = "chat_user")]
    prompt_ids: Option<Vec<u32>>,
    /// System message, rendered with the chat template.
    #[arg(long, requires = "chat_user")]
    chat_system: Option<String>,
    /// User message, rendered with the chat template (generation prompt added).
    #[arg(long)]
    chat_user: Option<String>,
    /// Most new tokens per sample.
    #[arg(long, default_value_t = 64)]
    max_new_tokens: usize,
    /// Greedy decoding (the default when no sampling flag is given).
    #[arg(long, conflicts_with_all = ["temperature", "top_p", "top_k"])]
    greedy: bool,
    /// Sampling temperature.
    #[arg(long)]
    temperature: Option<f32>,
    /// Nucleus mass (1 = off).
    #[arg(long)]
    top_p: Option<f32>,
    /// Keep the k most likely tokens (-1 or 0 = off).
    #[arg(long)]
    top_k: Option<i64>,
    /// Samples per prompt.
    #[arg(long, default_value_t = 1)]
    n: usize,
    /// Seed of the samplers.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// One JSON object per sample: token_ids, text, logprobs, finish_reason.
    #[arg(long)]
    json: bool,
    /// Device: cpu, wgpu[:N] or cuda[:N].
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
}

impl GenerateArgs {
    fn sampling(&self) -> anyhow::Result<Sampling> {
        if self.greedy
            || (self.temperature.is_none() && self.top_p.is_none() && self.top_k.is_none())
        {
            return Ok(Sampling::Greedy);
        }
        let t = self.temperature.unwrap_or(1.0);
        Ok(Sampling::from_vllm(
            t,
            self.top_p.unwrap_or(1.0),
            self.top_k.unwrap_or(-1),
        )?)
    }
}

/// Loads the model, generates, prints each sample.
pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    let device = args.device.device()?;
    let (model, hf) = load_pretrained(&args.model, &device)
        .with_context(|| format!("loading the model from {}", args.model.display()))?;
    let has_tokenizer = args.model.join("tokenizer.json").exists();
    let tokenizer = if has_tokenizer {
        Some(Tokenizer::from_dir(&args.model).context("loading the tokenizer")?)
    } else {
        None
    };
    let prompt = prompt_ids(args, tokenizer.as_ref())?;
    let eos = match &tokenizer {
        Some(t) => t.eos_token_ids().to_vec(),
        None => hf.eos_token_ids(),
    };
    let options = GenerateOptions {
        max_new_tokens: args.max_new_tokens,
        samples_per_prompt: args.n,
        sampling: args.sampling()?,
        seed: args.seed,
        eos_token_ids: eos,
        ..GenerateOptions::default()
    };
    let decoder = tokenizer.as_ref().map(|t| t as &dyn TextDecoder);
    let completions = generate(&model, &[prompt], &options, decoder)?;
    for c in &completions {
        if args.json {
            let line = serde_json::json!({
                "token_ids": c.token_ids,
                "text": c.text,
                "logprobs": c.logprobs,
                "finish_reason": c.finish_reason,
            });
            println!("{line}");
        } else {
            match &c.text {
                Some(text) => println!("{text}"),
                None => println!("{:?}", c.token_ids),
            }
        }
    }
    Ok(())
}

fn prompt_ids(args: &GenerateArgs, tokenizer: Option<&Tokenizer>) -> anyhow::Result<Vec<u32>> {
    if let Some(ids) = &args.prompt_ids {
        return Ok(ids.clone());
    }
    let Some(tokenizer) = tokenizer else {
        bail!(
            "{} has no tokenizer.json: use --prompt-ids",
            args.model.display()
        );
    };
    let text = match (&args.prompt, &args.chat_user) {
        (Some(text), _) => text.clone(),
        (None, Some(user)) => {
            let mut messages = Vec::new();
            if let Some(system) = &args.chat_system {
                messages.push(ChatMessage::new("system", system.clone()));
            }
            messages.push(ChatMessage::new("user", user.clone()));
            tokenizer.apply_chat_template(&messages, true)?
        }
        (None, None) => bail!("give --prompt, --prompt-ids or --chat-user"),
    };
    Ok(tokenizer.encode(&text)?)
}
