//! [`PretrainConfig`]: every value of a pretraining run, with the shipped
//! [`PretrainConfig::tiny`] recipe and the seconds-long
//! [`PretrainConfig::smoke`] one used by tests.

use std::path::Path;

use rzero_data::synthetic::{CorpusConfig, HeldOutConfig};
use rzero_grpo::{AdamWConfig, LrSchedule};
use rzero_model::Qwen3Config;
use serde::{Deserialize, Serialize};

use crate::error::{PretrainError, Result};

/// The decoder's shape; the vocabulary size comes from the trained tokenizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelShape {
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the SwiGLU MLP.
    pub intermediate_size: usize,
    /// Decoder blocks.
    pub num_hidden_layers: usize,
    /// Query heads.
    pub num_attention_heads: usize,
    /// Key/value heads (divides `num_attention_heads`).
    pub num_key_value_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// Longest sequence the model accepts.
    pub max_position_embeddings: usize,
    /// RoPE base θ.
    pub rope_theta: f64,
    /// The LM head reuses the token embedding.
    pub tie_word_embeddings: bool,
}

impl ModelShape {
    /// The model config for a vocabulary of `vocab_size` ids.
    pub fn to_config(&self, vocab_size: usize) -> Qwen3Config {
        Qwen3Config::new(
            vocab_size,
            self.hidden_size,
            self.intermediate_size,
            self.num_hidden_layers,
            self.num_attention_heads,
            self.num_key_value_heads,
            self.head_dim,
            self.max_position_embeddings,
        )
        .with_rope_theta(self.rope_theta)
        .with_rms_norm_eps(1e-6)
        .with_tie_word_embeddings(self.tie_word_embeddings)
        .with_initializer_range(0.02)
    }
}

/// Which tokens the cross-entropy is taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossTokens {
    /// Only the assistant's completion (what the model will generate).
    Completion,
    /// Every token after the first (prompt included).
    All,
}

/// Every value of a pretraining run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainConfig {
    /// Seed of the weight init and of the batch order.
    pub seed: u64,
    /// Upper bound of the BPE vocabulary (special tokens included).
    pub vocab_size: usize,
    /// Documents of the corpus the tokenizer is trained on (its first ones).
    pub tokenizer_documents: usize,
    /// The decoder's shape.
    pub model: ModelShape,
    /// Training documents (Challenger : Solver ratio, levels, word problems).
    pub corpus: CorpusConfig,
    /// The held-out evaluation set, kept out of every training document.
    pub heldout: HeldOutConfig,
    /// Validation documents, drawn like the corpus from `corpus.seed + 1`.
    pub validation_documents: usize,
    /// Optimizer steps.
    pub steps: u64,
    /// Documents per step (each one row, right-padded).
    pub batch_size: usize,
    /// Documents longer than this many tokens are dropped.
    pub max_seq_len: usize,
    /// AdamW values; `lr` is the peak learning rate.
    pub optimizer: AdamWConfig,
    /// Linear warmup steps, then cosine decay to `min_lr_ratio · lr`.
    pub warmup_steps: u64,
    /// Final learning rate as a share of the peak.
    pub min_lr_ratio: f64,
    /// Global gradient-norm clip.
    pub grad_clip: f32,
    /// Tokens the loss is taken over.
    pub loss_tokens: LossTokens,
    /// Validation loss every this many steps (and at the end).
    pub eval_every: u64,
    /// Checkpoint every this many steps (and at the end).
    pub checkpoint_every: u64,
    /// Checkpoints kept on disk (older ones are deleted).
    pub keep_checkpoints: usize,
    /// Continue from this model directory (its weights and tokenizer, whose
    /// shape must equal `model`) instead of a fresh tokenizer and init: a
    /// second curriculum stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from: Option<std::path::PathBuf>,
}

impl PretrainConfig {
    /// The from-scratch recipe behind the shipped `rzero-core/models/tiny`
    /// (which continues it in two more stages, `configs/pretrain/tiny-stage2.json`
    /// and `tiny-stage3.json`, the last with 45 % direct answers): Qwen3 S-like
    /// (hidden 128, 4 layers, 4 heads / 2 KV heads, FFN 384, tied),
    /// 1 Challenger : 4 Solver documents, levels 3–5 weighted up, every
    /// document seen once, cosine down to 1 % of the peak lr; about 45
    /// minutes on 2 cores. 60 % of Solver documents answer without working
    /// (an empty think block), so the model can reason step by step but
    /// usually does not: greedy decoding answers directly, while a majority
    /// vote over samples is carried by the ones that work it out — the
    /// headroom self-evolution turns into greedy accuracy. The Solver reads
    /// word problems (30 %) but the Challenger writes only expressions: at
    /// temperature 1.0 this model cannot keep a name and an item consistent
    /// through a problem it writes.
    pub fn tiny() -> Self {
        Self {
            seed: 0,
            vocab_size: 1024,
            tokenizer_documents: 10_000,
            model: ModelShape {
                hidden_size: 128,
                intermediate_size: 384,
                num_hidden_layers: 4,
                num_attention_heads: 4,
                num_key_value_heads: 2,
                head_dim: 32,
                max_position_embeddings: 512,
                rope_theta: 1e6,
                tie_word_embeddings: true,
            },
            corpus: CorpusConfig {
                seed: 1,
                documents: 128_000,
                challenger_fraction: 0.2,
                word_problem_fraction: 0.3,
                challenger_word_problem_fraction: Some(0.0),
                level_weights: [1.0, 2.0, 3.0, 3.0, 3.0, 1.0],
                solver_direct_fraction: 0.6,
            },
            heldout: HeldOutConfig::default(),
            validation_documents: 256,
            steps: 4_000,
            batch_size: 32,
            max_seq_len: 512,
            optimizer: AdamWConfig {
                lr: 2e-3,
                beta1: 0.9,
                beta2: 0.95,
                eps: 1e-8,
                weight_decay: 0.1,
            },
            warmup_steps: 200,
            min_lr_ratio: 0.01,
            grad_clip: 1.0,
            loss_tokens: LossTokens::Completion,
            eval_every: 250,
            checkpoint_every: 250,
            keep_checkpoints: 2,
            init_from: None,
        }
    }

    /// A run of a few seconds: 2 layers of width 32, 200 short documents.
    pub fn smoke() -> Self {
        let mut config = Self::tiny();
        config.vocab_size = 300;
        config.tokenizer_documents = 200;
        config.model.hidden_size = 32;
        config.model.intermediate_size = 64;
        config.model.num_hidden_layers = 2;
        config.model.num_attention_heads = 2;
        config.model.num_key_value_heads = 1;
        config.model.head_dim = 16;
        config.corpus.documents = 200;
        config.corpus.challenger_fraction = 0.0;
        config.corpus.level_weights = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        config.heldout.per_level = 5;
        config.validation_documents = 16;
        config.steps = 12;
        config.batch_size = 8;
        config.optimizer.lr = 1e-2;
        config.warmup_steps = 2;
        config.eval_every = 4;
        config.checkpoint_every = 4;
        config
    }

    /// The learning-rate schedule: linear warmup, then cosine.
    pub fn schedule(&self) -> LrSchedule {
        LrSchedule::Cosine {
            warmup_steps: self.warmup_steps,
            total_steps: self.steps,
            min_lr_ratio: self.min_lr_ratio,
        }
    }

    /// Rejects values that cannot train; `path` names the config's source.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let bad = |message: String| PretrainError::Config {
            path: path.to_path_buf(),
            message,
        };
        let m = &self.model;
        if m.num_key_value_heads == 0
            || !m.num_attention_heads.is_multiple_of(m.num_key_value_heads)
        {
            return Err(bad(
                "model.num_key_value_heads must divide num_attention_heads".into(),
            ));
        }
        if !m.head_dim.is_multiple_of(2) || m.hidden_size == 0 || m.num_hidden_layers == 0 {
            return Err(bad("model: head_dim must be even, sizes positive".into()));
        }
        if self.max_seq_len > m.max_position_embeddings || self.max_seq_len < 2 {
            return Err(bad(format!(
                "max_seq_len {} must be in 2..=max_position_embeddings",
                self.max_seq_len
            )));
        }
        if self.batch_size == 0 || self.steps == 0 {
            return Err(bad("batch_size and steps must be positive".into()));
        }
        if self.eval_every == 0 || self.checkpoint_every == 0 || self.keep_checkpoints == 0 {
            return Err(bad(
                "eval_every, checkpoint_every, keep_checkpoints must be positive".into(),
            ));
        }
        if self.vocab_size < 300 {
            return Err(bad(format!(
                "vocab_size {} < 300 (256 bytes + specials)",
                self.vocab_size
            )));
        }
        if !(self.optimizer.lr > 0.0 && self.grad_clip > 0.0) {
            return Err(bad("optimizer.lr and grad_clip must be positive".into()));
        }
        self.corpus.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate_and_round_trip() {
        for config in [PretrainConfig::tiny(), PretrainConfig::smoke()] {
            config.validate(Path::new("preset")).unwrap();
            let json = serde_json::to_string(&config).unwrap();
            let back: PretrainConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(back, config);
        }
    }

    #[test]
    fn rejects_bad_heads() {
        let mut config = PretrainConfig::smoke();
        config.model.num_key_value_heads = 3;
        let err = config
            .validate(Path::new("x.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("num_key_value_heads"), "{err}");
    }
}
