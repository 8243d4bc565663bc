//! `rzero pretrain`: the built-in tiny base model (DESIGN.md §8, issue 5).
//!
//! [`pretrain`] builds the synthetic corpus of `rzero-data` (Challenger and
//! Solver documents at [`PretrainConfig::corpus`]'s ratio, disjoint from
//! the held-out set), trains a byte-level BPE with digits split, and trains
//! a Qwen3 from scratch with next-token cross-entropy (on completion tokens
//! by default), AdamW, linear warmup + cosine decay and a global gradient
//! clip. It validates and checkpoints (model, optimizer, step) every few
//! steps; [`PretrainOptions::resume`] continues bit for bit. The result is a
//! Hugging Face directory with a model card. [`evaluate_capability`]
//! measures the capability profile.
//!
//! - [`config`]: [`PretrainConfig`] and the shipped [`PretrainConfig::tiny`].
//! - [`data`]: tokenized documents and the deterministic batch order.
//! - [`train`]: the loss and the loop; [`checkpoint`]: save and resume.
//! - [`capability`]: the profile; [`card`]: the model card.

pub mod capability;
pub mod card;
pub mod checkpoint;
pub mod config;
pub mod data;
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
pub use eval::evaluate_model_dir;
pub use generate::LocalGenerator;
pub use progress::{NoProgress, PretrainProgress, StepReport};
pub use run::{PretrainOptions, PretrainOutcome, pretrain};
