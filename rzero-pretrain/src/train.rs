//! The training loop: next-token cross-entropy, AdamW, warmup + cosine,
//! global gradient clip, periodic validation and checkpoints.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use rzero_grpo::{AdamW, clip_grad_norm};
use rzero_model::Qwen3;

use crate::checkpoint::{LossPoint, TrainerState, save_checkpoint};
use crate::config::{LossTokens, PretrainConfig};
use crate::data::{Batch, BatchOrder, TokenizedDoc, make_batch};
use crate::error::{PretrainError, Result};
use crate::progress::{PretrainProgress, StepReport};

/// Mean negative log-likelihood of the batch's counted targets.
///
/// `loss = −Σ mask·log softmax(logits)[target] / Σ mask`
pub fn masked_nll(model: &Qwen3, batch: &Batch) -> Tensor<1> {
    let logits = model.forward(batch.inputs.clone(), batch.positions.clone(), None);
    let log_probs = log_softmax(logits, 2);
    let picked = log_probs
        .gather(2, batch.targets.clone().unsqueeze_dim::<3>(2))
        .squeeze_dim::<2>(2);
    let total = (picked * batch.mask.clone()).sum();
    total.neg() / batch.loss_tokens.max(1) as f32
}

fn scalar(tensor: Tensor<1>, what: &str, path: &Path) -> Result<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .ok()
        .and_then(|v| v.first().copied())
        .ok_or_else(|| PretrainError::State {
            path: path.to_path_buf(),
            message: format!("cannot read back the {what}"),
        })
}

/// Validation loss over completion tokens (whatever the training loss uses,
/// so runs of either [`LossTokens`] compare), on the plain device.
pub fn validation_loss(
    model: &Qwen3,
    docs: &[TokenizedDoc],
    batch_size: usize,
    out: &Path,
) -> Result<f32> {
    let device = model.embed_tokens.weight.device();
    let (mut sum, mut count) = (0.0f64, 0usize);
    for chunk in docs.chunks(batch_size.max(1)) {
        let refs: Vec<&TokenizedDoc> = chunk.iter().collect();
        let batch = make_batch(&refs, LossTokens::Completion, &device);
        let loss = scalar(masked_nll(model, &batch), "validation loss", out)?;
        sum += f64::from(loss) * batch.loss_tokens as f64;
        count += batch.loss_tokens;
    }
    Ok((sum / count.max(1) as f64) as f32)
}

/// What the loop trains on and where it writes.
#[derive(Debug)]
pub struct TrainInputs<'a> {
    /// The run's config.
    pub config: &'a PretrainConfig,
    /// Training documents.
    pub train: &'a [TokenizedDoc],
    /// Validation documents.
    pub validation: &'a [TokenizedDoc],
    /// The output directory (checkpoints go under `checkpoints/`).
    pub out: &'a Path,
    /// Stop (with a checkpoint) after this many steps, as an interruption would.
    pub stop_after: Option<u64>,
    /// Stop (with a checkpoint) after the current step once set.
    pub stop: &'a AtomicBool,
}

/// Trains `model` (on an autodiff device) from `state.step` to the end of the
/// run or `stop_after`; returns the model and the final state.
pub fn train_loop(
    inputs: &TrainInputs<'_>,
    mut model: Qwen3,
    mut optimizer: AdamW,
    mut state: TrainerState,
    progress: &mut dyn PretrainProgress,
) -> Result<(Qwen3, TrainerState)> {
    let config = inputs.config;
    let lengths: Vec<usize> = inputs.train.iter().map(|d| d.ids.len()).collect();
    let mut order = BatchOrder::new(config.seed, config.batch_size, inputs.train.len());
    if order.batches_per_epoch() == 0 {
        return Err(PretrainError::Config {
            path: inputs.out.to_path_buf(),
            message: format!(
                "{} documents make no batch of {}",
                inputs.train.len(),
                config.batch_size
            ),
        });
    }
    let device = model.embed_tokens.weight.device();
    let schedule = config.schedule();
    let end = inputs
        .stop_after
        .map_or(config.steps, |s| s.min(config.steps));
    progress.start(state.step, config.steps);
    let mut clock = Instant::now();
    while state.step < end {
        let docs: Vec<&TokenizedDoc> = order
            .batch(state.step, &lengths)
            .iter()
            .map(|&i| &inputs.train[i])
            .collect();
        let batch = make_batch(&docs, config.loss_tokens, &device);
        let loss = masked_nll(&model, &batch);
        let loss_value = scalar(loss.clone().inner(), "training loss", inputs.out)?;
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        let grad_norm = clip_grad_norm(&model, &mut grads, config.grad_clip)?;
        // Step s (0-based) uses the multiplier of s + 1: warmup starts above 0.
        let lr = config.optimizer.lr * schedule.multiplier(state.step + 1);
        model = optimizer.step(model, grads, lr, 1.0)?;
        state.step += 1;
        state.tokens_seen += batch.loss_tokens as u64;
        state.pending_loss.0 += f64::from(loss_value);
        state.pending_loss.1 += 1;
        let report = StepReport {
            step: state.step,
            total_steps: config.steps,
            loss: loss_value,
            lr,
            grad_norm,
            tokens: batch.loss_tokens,
        };
        progress.step(&report);
        let at_end = state.step == config.steps;
        if state.step.is_multiple_of(config.eval_every) || at_end {
            let val = validation_loss(
                &model.valid(),
                inputs.validation,
                config.batch_size,
                inputs.out,
            )?;
            let (sum, count) = state.pending_loss;
            state.elapsed_secs += clock.elapsed().as_secs_f64();
            clock = Instant::now();
            state.history.push(LossPoint {
                step: state.step,
                train_loss: (sum / count.max(1) as f64) as f32,
                val_loss: val,
                lr,
                elapsed_secs: state.elapsed_secs,
            });
            state.pending_loss = (0.0, 0);
            tracing::info!(step = state.step, train = report.loss, val, "validation");
            progress.validation(state.step, val);
        }
        let stopping = inputs.stop.load(Ordering::SeqCst);
        if state.step.is_multiple_of(config.checkpoint_every)
            || at_end
            || Some(state.step) == inputs.stop_after
            || stopping
        {
            state.elapsed_secs += clock.elapsed().as_secs_f64();
            clock = Instant::now();
            let dir = save_checkpoint(
                inputs.out,
                &model,
                &optimizer,
                &state,
                config.keep_checkpoints,
            )?;
            progress.checkpoint(state.step, &dir);
        }
        if stopping {
            break;
        }
    }
    Ok((model, state))
}
