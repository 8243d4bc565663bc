//! Qwen3 decoder in burn that matches Hugging Face transformers.
//!
//! - [`Qwen3Config`] (a burn `Config`, presets [`Qwen3Config::s`] and
//!   [`Qwen3Config::m`]) and [`HfQwen3Config`] (`config.json`, transformers
//!   4.x and 5.x layouts; unsupported features rejected by field name).
//! - [`Qwen3`]: the module, fields named after HF tensors; `forward(tokens,
//!   positions, cache)` returns logits for every position; the [`KvCache`]
//!   lives outside the module.
//! - [`load_pretrained`] / [`save_pretrained`]: strict safetensors I/O
//!   (single file or sharded, F32/BF16/F16 in, F32 out, atomic writes).
//! - [`completion_logprobs`] over a [`CompletionBatch`]: per-token log-probs
//!   of given completions, masked, differentiable on an autodiff device;
//!   the LM head runs a chunk of positions at a time ([`lm_head`]), and on
//!   an autodiff device attention runs a block of query rows at a time with
//!   its own backward ([`attention_op`]), so neither `[N, vocab]` logits nor
//!   `[batch, heads, seq, seq]` scores are kept for the backward pass.
//! - [`generate`]: batched KV-cache decoding with `n` samples per prompt, a
//!   [`sampling::Sampling`] rule, EOS / stop strings / length stops; a
//!   row's tokens and log-probs are the same bits whatever batch it is in.
//! - [`Qwen3::with_bf16_matrices`]: a frozen copy (a GRPO reference, a
//!   sampler) with BF16 matrices, half the memory, f32 arithmetic.
//! - [`lora`]: LoRA adapters on the attention and MLP projections
//!   ([`apply_lora`], [`merge_lora`]), saved and loaded as PEFT adapters.
//! - [`random_checkpoint`]: seeded random checkpoints with the exact shapes
//!   of Qwen3-0.6B / 4B / 8B ([`random_checkpoint::Preset`]), streamed to disk.
//! - CPU kernels plugged into burn as backend extensions ([`kernels`]): a
//!   packed AVX-512 / AVX2 matmul ([`gemm`]) for training and scoring, fused
//!   RMSNorm and `silu(gate) ⊙ up` with their backwards, a vectorised `exp`;
//!   the small-row matmul of decoding ([`small_matmul`]). The instruction set
//!   is detected at run time; other backends run burn's own ops. The kernels
//!   split their work over rayon's pool; [`pool::on_pool`] runs a training
//!   step on it (the log-probs and generation already do).
//! - [`tokenizer::Tokenizer`] with the chat template, [`DeviceSpec`] for
//!   `cpu | wgpu[:N] | cuda[:N]`.
//!
//! ```
//! use burn::prelude::*;
//! use rzero_model::{CompletionBatch, GenerateOptions, Qwen3Config, completion_logprobs, generate};
//!
//! let device = Device::flex();
//! let config = Qwen3Config::new(64, 32, 64, 2, 4, 2, 8, 128);
//! let model = config.init(&device);
//! let options = GenerateOptions { max_new_tokens: 4, ..GenerateOptions::default() };
//! let out = generate(&model, &[vec![1, 2, 3], vec![5]], &options, None)?;
//! assert_eq!(out[0].token_ids.len(), 4);
//!
//! // Training-time log-probs of the same tokens agree with generation's.
//! let completions: Vec<Vec<u32>> = out.iter().map(|c| c.token_ids.clone()).collect();
//! let batch = CompletionBatch::new(&model, &[vec![1, 2, 3], vec![5]], &completions, &device)?;
//! let logprobs = completion_logprobs(&model, &batch); // [2, 4]
//! let first: f32 = logprobs.slice(s![0..1, 0..1]).into_scalar();
//! assert!((first - out[0].logprobs[0]).abs() < 1e-4);
//! # Ok::<(), rzero_model::ModelError>(())
//! ```
#![warn(missing_docs)]

pub mod allocator;
pub mod attention_op;
pub mod chat;
pub mod config;
mod decode_attention;
pub mod device;
pub mod error;
pub mod fused;
pub mod gemm;
pub mod generate;
pub mod generation_config;
pub mod hf_config;
pub mod kernels;
pub mod layer_op;
pub mod lm_head;
pub mod logprobs;
pub mod lora;
pub mod model;
pub mod pool;
pub mod random_checkpoint;
pub mod sampling;
pub mod small_matmul;
pub mod tokenizer;
pub mod weights;

pub use config::Qwen3Config;
pub use device::DeviceSpec;
pub use error::{ModelError, Result};
pub use generate::{
    Completion, FinishReason, GenerateOptions, TextDecoder, generate, generate_seeded,
    generate_seeded_from,
};
pub use hf_config::HfQwen3Config;
pub use logprobs::{
    CompletionBatch, DEFAULT_LOGPROB_CHUNK, completion_logprobs, completion_logprobs_chunked,
};
pub use lora::{
    LoraConfig, LoraTarget, apply_lora, load_peft_adapter, merge_lora, save_peft_adapter,
    trainable_params,
};
pub use model::{KvCache, Qwen3};
pub use weights::{SaveDtype, SaveOptions, load_pretrained, save_pretrained};
