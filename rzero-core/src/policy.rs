//! A policy: one Qwen3 model with its tokenizer, used for sampling, scoring
//! and training. Challenger and Solver are two policies.

use std::ops::Range;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use rzero_grpo::LoraSettings;
use rzero_model::chat::ChatMessage;
use rzero_model::tokenizer::Tokenizer;
use rzero_model::{
    Completion, GenerateOptions, HfQwen3Config, LoraConfig, LoraTarget, Qwen3, Qwen3Config,
    SaveOptions, apply_lora, generate_seeded_from, load_peft_adapter, load_pretrained, merge_lora,
    save_peft_adapter, save_pretrained,
};

use crate::config::SamplingConfig;
use crate::error::{CoreError, Result};
use crate::memory::MemoryConfig;

/// Tokenizer and generation files copied into every checkpoint so it is a
/// complete HF model directory.
const TOKENIZER_FILES: [&str; 4] = [
    "tokenizer.json",
    "tokenizer_config.json",
    "generation_config.json",
    "special_tokens_map.json",
];

/// Token ids of a (system, user) chat rendered with `tokenizer`'s template,
/// with the generation prompt.
pub fn chat_prompt(tokenizer: &Tokenizer, system: &str, user: &str) -> Result<Vec<u32>> {
    let messages = [
        ChatMessage::new("system", system),
        ChatMessage::new("user", user),
    ];
    let text = tokenizer.apply_chat_template(&messages, true)?;
    Ok(tokenizer.encode(&text)?)
}

/// Prompts of one generation call, and how to sample them.
#[derive(Debug, Clone)]
pub struct SampleRequest {
    /// Token ids of each prompt (already rendered with the chat template).
    pub prompts: Vec<Vec<u32>>,
    /// Samples per prompt.
    pub n: usize,
    /// Sampling settings.
    pub sampling: SamplingConfig,
    /// Seed; each sample's RNG mixes in its prompt and sample index.
    pub seed: u64,
}

impl SampleRequest {
    /// One seed per prompt, `mix(seed, prompt index)`: a sample's RNG depends
    /// only on its prompt's seed and its sample index, so local chunks and
    /// remote servers (which get this as the request `seed`) draw the same.
    pub fn prompt_seeds(&self) -> Vec<u64> {
        (0..self.prompts.len())
            .map(|i| crate::seeds::mix(self.seed, i as u64))
            .collect()
    }
}

/// Anything that can answer a [`SampleRequest`]: the local model, or remote
/// inference servers ([`crate::remote::RemoteSampler`]). Completions come
/// back prompt-major.
pub trait Sampler {
    /// Generates `n` completions per prompt, with text.
    fn sample(&self, request: &SampleRequest) -> Result<Vec<Completion>>;
}

/// A model, its tokenizer and where it came from.
#[derive(Debug)]
pub struct Policy {
    /// The weights (on an autodiff device when it is being trained).
    pub model: Qwen3,
    /// Its HF config, written into every checkpoint.
    pub hf: HfQwen3Config,
    /// Its tokenizer.
    pub tokenizer: Tokenizer,
    /// The directory it was loaded from.
    pub source: PathBuf,
    /// Tokenizer and generation files read at load time, written into every
    /// checkpoint (the source may be gone by then: older checkpoints are deleted).
    pub tokenizer_files: Vec<(String, Vec<u8>)>,
    /// Rows per generation call: bounds memory and keeps batches efficient.
    pub max_batch_rows: usize,
    /// The LoRA adapters `model` carries, if it trains them (`[grpo.lora]`).
    pub lora: Option<PolicyLora>,
}

/// Subdirectory of a checkpoint that holds its PEFT adapter. Not the
/// checkpoint directory itself: transformers (with peft installed) reads a
/// directory holding both `config.json` and `adapter_config.json` as a base
/// model plus an adapter to apply, which would add the merged update twice.
pub const ADAPTER_DIR: &str = "adapter";

/// LoRA adapters on a policy and the model they adapt.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyLora {
    /// Rank, alpha and targets.
    pub config: LoraConfig,
    /// The adapted base model, written as `base_model_name_or_path` of the
    /// saved adapter (a path relative to the run directory, or the base model's).
    pub base: String,
}

/// `[grpo.lora]` as the model's LoRA config.
pub fn lora_config(settings: &LoraSettings) -> Result<LoraConfig> {
    let targets = settings
        .targets
        .names()
        .map(str::parse::<LoraTarget>)
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(LoraConfig::new(settings.rank, settings.alpha(), targets))
}

impl Policy {
    /// Loads an HF model directory onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let (model, hf) = load_pretrained(dir, device)?;
        let tokenizer = Tokenizer::from_dir(dir)?;
        let mut tokenizer_files = Vec::new();
        for name in TOKENIZER_FILES {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(bytes) => tokenizer_files.push((name.to_string(), bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(CoreError::Io { path, source }),
            }
        }
        Ok(Self {
            model,
            hf,
            tokenizer,
            source: dir.to_path_buf(),
            tokenizer_files,
            max_batch_rows: crate::memory::DEFAULT_SAMPLING_ROWS,
            lora: None,
        })
    }

    /// Attaches fresh LoRA adapters (`A` drawn from `seed`, `B = 0`) and
    /// freezes every other weight: from here on only the adapters train.
    pub fn attach_lora(&mut self, config: LoraConfig, base: String, seed: u64) -> Result<()> {
        self.model = apply_lora(self.model.clone(), &config, seed)?;
        self.lora = Some(PolicyLora { config, base });
        Ok(())
    }

    /// Attaches the PEFT adapter of checkpoint `dir` (`dir/adapter`, written
    /// by [`Policy::save`] of a policy with adapters) to this policy's model,
    /// its base.
    pub fn load_lora(&mut self, dir: &Path, base: String) -> Result<()> {
        let (model, config) = load_peft_adapter(self.model.clone(), &dir.join(ADAPTER_DIR))?;
        self.model = model;
        self.lora = Some(PolicyLora { config, base });
        Ok(())
    }

    /// Uses `memory`'s rows per generation call and its layer
    /// recomputation setting from here on.
    pub fn apply_memory(&mut self, memory: &MemoryConfig) {
        self.max_batch_rows = memory.sampling_rows.max(1);
        self.model.set_recompute(memory.recompute.min_seq());
    }

    /// Moves the weights out, leaving a one-parameter-per-tensor stand-in
    /// (a few hundred bytes) until they are put back: a training step
    /// then holds the only reference to the weights, and the optimizer can
    /// release each pre-update tensor as it writes the new one.
    pub fn take_model(&mut self) -> Qwen3 {
        let device = self.model.embed_tokens.weight.device();
        let stand_in = Qwen3Config {
            vocab_size: 1,
            hidden_size: 1,
            intermediate_size: 1,
            num_hidden_layers: 0,
            num_attention_heads: 1,
            num_key_value_heads: 1,
            head_dim: 1,
            max_position_embeddings: 1,
            ..Qwen3Config::s()
        }
        .init(&device);
        std::mem::replace(&mut self.model, stand_in)
    }

    /// Token ids of a (system, user) chat, with the generation prompt.
    pub fn chat_prompt(&self, system: &str, user: &str) -> Result<Vec<u32>> {
        chat_prompt(&self.tokenizer, system, user)
    }

    /// Saves the weights, config and tokenizer files as an HF directory.
    /// With LoRA adapters the weights are the merged ones (what the next
    /// phase, a reference model or an inference server loads), and the
    /// adapters are saved beside them as a PEFT adapter in
    /// [`ADAPTER_DIR`] (`adapter/adapter_config.json`,
    /// `adapter/adapter_model.safetensors`).
    pub fn save(&self, dir: &Path) -> Result<()> {
        match &self.lora {
            None => save_pretrained(&self.model, &self.hf, dir, &SaveOptions::default())?,
            Some(lora) => {
                let merged = merge_lora(self.model.valid());
                save_pretrained(&merged, &self.hf, dir, &SaveOptions::default())?;
                let adapter = dir.join(ADAPTER_DIR);
                save_peft_adapter(&self.model, &lora.config, &lora.base, &adapter)?;
            }
        }
        for (name, bytes) in &self.tokenizer_files {
            rzero_fs::write_atomic(dir.join(name), bytes)?;
        }
        Ok(())
    }

    fn options(&self, request: &SampleRequest) -> Result<GenerateOptions> {
        let s = &request.sampling;
        Ok(GenerateOptions {
            max_new_tokens: s.max_new_tokens,
            samples_per_prompt: request.n,
            sampling: rzero_model::sampling::Sampling::from_vllm(
                s.temperature,
                s.top_p,
                i64::from(s.top_k),
            )?,
            seed: request.seed,
            eos_token_ids: self.tokenizer.eos_token_ids().to_vec(),
            stop_strings: Vec::new(),
        })
    }
}

impl Sampler for Policy {
    /// At most `max_batch_rows` rows per generation call: whole prompts
    /// with their `n` samples when they fit, else one prompt's samples over
    /// several calls. Either way every sample draws its own RNG stream, so
    /// the completions do not depend on the split.
    fn sample(&self, request: &SampleRequest) -> Result<Vec<Completion>> {
        let n = request.n.max(1);
        let options = self.options(request)?;
        let seeds = request.prompt_seeds();
        let decoder = |ids: &[u32]| self.tokenizer.decode(ids, true);
        let mut out = Vec::with_capacity(request.prompts.len() * n);
        let mut call = |first: usize, prompts: &[Vec<u32>], samples: Range<usize>| -> Result<()> {
            let options = GenerateOptions {
                samples_per_prompt: samples.len(),
                ..options.clone()
            };
            let seeds = &seeds[first..first + prompts.len()];
            let mut done = generate_seeded_from(
                &self.model,
                prompts,
                seeds,
                samples.start,
                &options,
                Some(&decoder),
            )?;
            for c in &mut done {
                c.prompt_index += first;
            }
            out.extend(done);
            Ok(())
        };
        if self.max_batch_rows >= n {
            let per_call = self.max_batch_rows / n;
            for (index, chunk) in request.prompts.chunks(per_call).enumerate() {
                call(index * per_call, chunk, 0..n)?;
            }
        } else {
            for p in 0..request.prompts.len() {
                for start in (0..n).step_by(self.max_batch_rows) {
                    let end = (start + self.max_batch_rows).min(n);
                    call(p, &request.prompts[p..=p], start..end)?;
                }
            }
        }
        Ok(out)
    }
}
