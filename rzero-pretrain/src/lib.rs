//! Pretraining the built-in tiny base model of rzero from scratch
//! (`rzero pretrain`; docs/DESIGN.md §8).
//!
//! [`pretrain`] builds the synthetic corpus of `rzero-data` (Challenger and
//! Solver documents at [`PretrainConfig::corpus`]'s ratio, disjoint from
//! the held-out set), trains a byte-level BPE with digits split, and trains
//! a Qwen3 from scratch with next-token cross-entropy (on completion tokens
//! by default), AdamW, linear warmup + cosine decay and a global gradient
//! clip. It validates and checkpoints (model, optimizer, step) every few
//! steps; [`PretrainOptions::resume`] continues bit for bit. The result is a
//! Hugging Face directory with a model card. [`evaluate_capability`]
//! measures the capability profile the R-Zero loop needs from a base model.
//!
//! - [`config`]: [`PretrainConfig`] and the shipped [`PretrainConfig::tiny`].
//! - [`bpe`]: byte-level BPE training and the tokenizer files (Qwen3 chat
//!   template); [`tokenizer`]: the corpus-facing wrappers.
//! - [`data`]: tokenized documents and the deterministic batch order.
//! - [`train`]: the loss and the loop; [`checkpoint`]: save and resume.
//! - [`capability`]: the profile; [`card`]: the model card.
//!
//! # Example
//!
//! Train a tokenizer on a few lines; [`pretrain`] does this on the corpus
//! before it trains the model (`examples/pretrain_smoke.rs` runs a whole pretraining).
//!
//! ```
//! use rzero_pretrain::bpe::{BpeConfig, MIN_VOCAB_SIZE, train_bpe};
//!
//! let lines = ["12 + 34 = 46", "7 * 8 = 56", "What is 3 + 4?"];
//! let config = BpeConfig { vocab_size: MIN_VOCAB_SIZE + 8, min_frequency: 1 };
//! let tokenizer = train_bpe(lines.into_iter(), config)?;
//! let encoding = tokenizer.encode("46 + 8", false).expect("encodes");
//! // Digits are split: "46" is two tokens.
//! assert_eq!(encoding.get_tokens()[..2], ["4".to_string(), "6".to_string()]);
//! # Ok::<(), rzero_pretrain::PretrainError>(())
//! ```
#![warn(missing_docs)]

pub mod bpe;
pub mod capability;
pub mod card;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod error;
pub mod eval;
pub mod generate;
pub mod init;
pub mod progress;
pub mod run;
pub mod tokenizer;
pub mod train;
pub mod weights;

pub use capability::{CapabilityConfig, CapabilityReport, Generate, evaluate_capability};
pub use config::{LossTokens, ModelShape, PretrainConfig};
pub use error::{PretrainError, Result};
pub use eval::evaluate_model_dir;
pub use generate::LocalGenerator;
pub use progress::{NoProgress, PretrainProgress, StepReport};
pub use run::{PretrainOptions, PretrainOutcome, pretrain};
