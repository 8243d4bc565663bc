//! Log-probs of given completions under the model: what GRPO trains on and
//! what the frozen reference computes.
//!
//! For prompt `p` and completion `c`, entry `k` is
//! `log softmax(logits(p ++ c[..k]))[c[k]]` at temperature 1. Rows are packed
//! left-aligned (`prompt ++ completion ++ padding`): padding only follows the
//! real tokens, so causal attention alone keeps it out, and positions are
//! `0..len` as in an unpadded forward. Only the positions that predict a
//! completion token go through the LM head, a chunk of positions at a time
//! (see [`crate::lm_head`]).

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use crate::error::{ModelError, Result};
use crate::lm_head;
use crate::model::Qwen3;

/// Prompts and completions laid out as tensors on one device.
#[derive(Debug, Clone)]
pub struct CompletionBatch {
    tokens: Tensor<2, Int>,
    positions: Tensor<2, Int>,
    rows: Tensor<1, Int>,
    targets: Tensor<2, Int>,
    mask: Tensor<2>,
    batch: usize,
    max_completion: usize,
}

impl CompletionBatch {
    /// Packs `prompts[i] ++ completions[i]` for every `i`.
    ///
    /// Errors: different numbers of prompts and completions, an empty prompt,
    /// a token outside the vocabulary, or a row longer than
    /// `max_position_embeddings`.
    pub fn new<P: AsRef<[u32]>, C: AsRef<[u32]>>(
        model: &Qwen3,
        prompts: &[P],
        completions: &[C],
        device: &Device,
    ) -> Result<Self> {
        if prompts.len() != completions.len() || prompts.is_empty() {
            return Err(ModelError::BadRequest {
                reason: format!(
                    "{} prompts and {} completions (need the same, at least one)",
                    prompts.len(),
                    completions.len()
                ),
            });
        }
        let rows: Vec<Vec<u32>> = prompts
            .iter()
            .zip(completions)
            .map(|(p, c)| [p.as_ref(), c.as_ref()].concat())
            .collect();
        for (index, (p, row)) in prompts.iter().zip(&rows).enumerate() {
            if p.as_ref().is_empty() {
                return Err(ModelError::EmptyPrompt { index });
            }
            check_tokens(model, index, row)?;
        }
        let batch = rows.len();
        let max_completion = completions
            .iter()
            .map(|c| c.as_ref().len())
            .max()
            .unwrap_or(0);
        // The last token of a row is never an input that predicts something.
        let seq = rows.iter().map(|r| r.len() - 1).max().unwrap_or(1).max(1);
        let mut tokens = vec![0i64; batch * seq];
        let mut flat_rows = vec![0i64; batch * max_completion];
        let mut targets = vec![0i64; batch * max_completion];
        let mut mask = vec![0f32; batch * max_completion];
        for (i, row) in rows.iter().enumerate() {
            for (j, &t) in row.iter().take(seq).enumerate() {
                tokens[i * seq + j] = i64::from(t);
            }
            let p = prompts[i].as_ref().len();
            for (k, &t) in completions[i].as_ref().iter().enumerate() {
                let at = i * max_completion + k;
                flat_rows[at] = (i * seq + p - 1 + k) as i64;
                targets[at] = i64::from(t);
                mask[at] = 1.0;
            }
        }
        let positions: Vec<i64> = (0..batch).flat_map(|_| 0..seq as i64).collect();
        let int2 = |v: Vec<i64>, shape: [usize; 2]| {
            Tensor::<2, Int>::from_data(TensorData::new(v, shape), device)
        };
        Ok(Self {
            tokens: int2(tokens, [batch, seq]),
            positions: int2(positions, [batch, seq]),
            rows: Tensor::from_data(TensorData::new(flat_rows, [batch * max_completion]), device),
            targets: int2(targets, [batch * max_completion, 1]),
            mask: Tensor::from_data(TensorData::new(mask, [batch, max_completion]), device),
            batch,
            max_completion,
        })
    }

    /// `[batch, max_completion]`: 1 for completion tokens, 0 for padding.
    pub fn mask(&self) -> Tensor<2> {
        self.mask.clone()
    }

    /// Number of rows.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Length of the longest completion.
    pub fn max_completion(&self) -> usize {
        self.max_completion
    }
}

/// Default LM-head chunk of [`completion_logprobs`]: 1024 positions' logits
/// at a time (0.6 GB at Qwen3's vocabulary in f32).
pub const DEFAULT_LOGPROB_CHUNK: usize = 1024;

/// Per-token log-probs of each completion, `[batch, max_completion]`, 0 at
/// padding. Differentiable when the model lives on an autodiff device.
///
/// Same as [`completion_logprobs_chunked`] with [`DEFAULT_LOGPROB_CHUNK`];
/// chunking changes no value beyond float rounding.
pub fn completion_logprobs(model: &Qwen3, batch: &CompletionBatch) -> Tensor<2> {
    completion_logprobs_chunked(model, batch, DEFAULT_LOGPROB_CHUNK)
}

/// [`completion_logprobs`] with the LM head applied to `chunk` completion
/// positions at a time, so logits memory is `O(chunk × vocab)` whatever the
/// batch, in the forward and (on an autodiff device) the backward pass.
/// `chunk` 0 is treated as 1.
pub fn completion_logprobs_chunked(
    model: &Qwen3,
    batch: &CompletionBatch,
    chunk: usize,
) -> Tensor<2> {
    crate::pool::on_pool(|| logprobs_on_pool(model, batch, chunk))
}

fn logprobs_on_pool(model: &Qwen3, batch: &CompletionBatch, chunk: usize) -> Tensor<2> {
    let (b, c) = (batch.batch, batch.max_completion);
    if c == 0 {
        return batch.mask.clone();
    }
    let hidden = model.hidden(batch.tokens.clone(), batch.positions.clone(), None);
    let [_, seq, width] = hidden.dims();
    let picked = hidden
        .reshape([b * seq, width])
        .select(0, batch.rows.clone());
    let targets = batch.targets.clone();
    let logprobs = match &model.lm_head {
        // Qwen3 heads have no bias; a biased head takes the plain route.
        Some(head) if head.bias.is_some() => log_softmax(model.logits(picked), 1)
            .gather(1, targets)
            .reshape([b * c]),
        Some(head) => lm_head::target_logprobs(
            picked,
            crate::model::widened(head.weight.val()).transpose(),
            targets.reshape([b * c]),
            chunk,
        ),
        None => lm_head::target_logprobs(
            picked,
            crate::model::widened(model.embed_tokens.weight.val()),
            targets.reshape([b * c]),
            chunk,
        ),
    };
    logprobs.reshape([b, c]) * batch.mask.clone()
}

/// Checks one token row against the model's vocabulary and context.
pub(crate) fn check_tokens(model: &Qwen3, index: usize, row: &[u32]) -> Result<()> {
    let max = model.max_position_embeddings();
    if row.len() > max {
        return Err(ModelError::TooLong {
            index,
            len: row.len(),
            max,
        });
    }
    let vocab_size = model.vocab_size();
    if let Some(&token) = row.iter().find(|&&t| t as usize >= vocab_size) {
        return Err(ModelError::TokenOutOfRange {
            index,
            token,
            vocab_size,
        });
    }
    Ok(())
}
