//! GRPO objective and optimizer step for any burn module that yields
//! per-token log-probs.
//!
//! The crate never names a model: the update takes a closure
//! `FnMut(&M, Range<usize>) -> Result<PolicyOutput, E>` that returns the
//! current log-probs of the sampled tokens of some rollouts, so it trains any
//! burn [`Module`](burn::module::Module) on any backend.
//!
//! # Pieces
//! - Pure tensor functions, each documented with its formula and shapes:
//!   [`group_advantages`] (`(r − mean_g)/(std_g + eps)`, [`ScaleRewards`]),
//!   [`importance_ratio`], [`clipped_surrogate`] (asymmetric and dual clip),
//!   [`kl_estimate`] (k1/k2/k3, clamped), [`aggregate`]
//!   ([`LossAggregation`]: verl token-mean, TRL `grpo`, `bnpo`, `dr_grpo`,
//!   `dapo`), combined by [`grpo_loss`].
//! - [`GrpoTrainer::update`]: one rollout batch → mini-batches of
//!   `global_batch` prompts (one optimizer step each; later ones are
//!   off-policy) → micro-batches with gradient accumulation → global
//!   gradient-norm clip ([`clip_grad_norm`], as `clip_grad_norm_`) → [`AdamW`]
//!   (as `torch.optim.AdamW`, state keyed by parameter path, savable with
//!   [`AdamW::save`]) with an [`LrSchedule`]. Returns [`StepMetrics`] per step.
//! - [`log_probs_in_chunks`] scores rollouts for the old and reference log-probs.
//!
//! Values: [`GrpoConfig::r_zero_solver`] and
//! [`GrpoConfig::r_zero_challenger`] are the official R-Zero (verl/EasyR1)
//! settings.
//!
//! # Example
//! One update of a tiny policy over a 2-prompt × 2-rollout batch:
//! ```
//! use std::ops::Range;
//! use burn::nn::{Linear, LinearConfig};
//! use burn::prelude::*;
//! use burn::tensor::activation::log_softmax;
//! use rzero_grpo::{GrpoConfig, GrpoError, GrpoTrainer, PolicyOutput, RolloutBatch};
//!
//! #[derive(Module, Debug)]
//! struct Policy {
//!     head: Linear,
//! }
//!
//! let device = Device::flex().autodiff();
//! let model = Policy { head: LinearConfig::new(4, 8).init(&device) };
//! // 4 rollouts × 3 sampled completion tokens from a vocabulary of 8.
//! let tokens = [[1, 2, 3], [4, 4, 0], [5, 6, 7], [1, 1, 1]];
//! let log_probs = |m: &Policy, rows: Range<usize>| -> Result<PolicyOutput, GrpoError> {
//!     let dev = m.head.weight.device();
//!     let x = Tensor::<3>::ones([rows.len(), 3, 4], &dev);
//!     let ids: Vec<i64> = tokens[rows.clone()].iter().flatten().copied().collect();
//!     let ids = Tensor::<3, Int>::from_data(TensorData::new(ids, [rows.len(), 3, 1]), &dev);
//!     let lp = log_softmax(m.head.forward(x), 2).gather(2, ids).squeeze_dim::<2>(2);
//!     Ok(PolicyOutput::new(lp))
//! };
//! // Rollout-time and reference log-probs, on the plain device.
//! let old = log_probs(&model.valid(), 0..4)?.log_probs;
//! let batch = RolloutBatch {
//!     rewards: vec![1.0, 0.0, 0.0, 0.0],
//!     old_log_probs: old.clone().into(),
//!     ref_log_probs: Some(old),
//!     mask: Tensor::from_data([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 1.0]], &device.clone().inner()),
//! };
//! let mut config = GrpoConfig::r_zero_solver();
//! config.group_size = 2;
//! config.global_batch = 1; // two optimizer steps
//! config.settings.micro_batch_rows = 1; // two micro-batches each
//! config.settings.optimizer.lr = 1e-2;
//! let mut trainer = GrpoTrainer::new(config)?;
//! let (model, report) = trainer.update(model, &batch, log_probs)?;
//! assert_eq!(report.steps.len(), 2);
//! assert_eq!(report.rewards.zero_std_fraction, 0.5);
//! assert!(report.steps[1].grad_norm.is_finite() && report.steps[1].kl.is_some());
//! # let _ = model;
//! # Ok::<(), GrpoError>(())
//! ```
#![warn(missing_docs)]

mod adamw;
mod adamw_host;
mod advantage;
mod aggregate;
mod clip;
mod config;
mod error;
mod kl;
mod lora;
mod loss;
mod metrics;
mod objective;
mod schedule;
mod score;
mod state_io;
mod update;

pub use adamw::{AdamW, AdamWConfig};
pub use advantage::{AdvantageConfig, RewardStats, ScaleRewards, group_advantages};
pub use aggregate::{LossAggregation, StepShare, aggregate};
pub use clip::{clip_coefficient, clip_grad_norm, global_grad_norm};
pub use config::{GrpoConfig, GrpoSettings};
pub use error::GrpoError;
pub use kl::{KlConfig, KlEstimator, kl_estimate};
pub use lora::{LORA_TARGET_NAMES, LoraSettings, LoraTargets};
pub use loss::{LossConfig, LossInputs, LossTerms, TokenSums, grpo_loss};
pub use metrics::{StepMetrics, UpdateReport};
pub use objective::{ClipConfig, Surrogate, clipped_surrogate, importance_ratio};
pub use schedule::LrSchedule;
pub use score::log_probs_in_chunks;
pub use update::{GrpoTrainer, OldLogProbs, PolicyOutput, RolloutBatch};
