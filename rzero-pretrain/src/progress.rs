//! How a pretraining run reports progress: the [`PretrainProgress`] trait.
//! The library never prints; the CLI implements this with a progress bar.

use std::path::Path;

/// One optimizer step, as reported to [`PretrainProgress::step`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// Steps done, this one included (1-based).
    pub step: u64,
    /// Steps of the whole run.
    pub total_steps: u64,
    /// Mean cross-entropy of the step's counted tokens (nats).
    pub loss: f32,
    /// Learning rate used.
    pub lr: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f32,
    /// Counted (loss) tokens of the step.
    pub tokens: usize,
}

/// Receives progress events; every method has an empty default.
pub trait PretrainProgress {
    /// A preparation stage begins (corpus, tokenizer, model).
    fn stage(&mut self, _what: &str) {}
    /// Training starts at `first_step` of `total_steps` (0 unless resumed).
    fn start(&mut self, _first_step: u64, _total_steps: u64) {}
    /// A step finished.
    fn step(&mut self, _report: &StepReport) {}
    /// A validation loss was measured after `step` steps.
    fn validation(&mut self, _step: u64, _loss: f32) {}
    /// A checkpoint was written.
    fn checkpoint(&mut self, _step: u64, _dir: &Path) {}
}

/// Ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl PretrainProgress for NoProgress {}
