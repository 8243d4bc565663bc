//! Scoring many rollouts in chunks: old and reference log-probs.

use std::ops::Range;

use burn::prelude::*;

use crate::GrpoError;

/// Log-probs of `rows` rollouts computed `chunk` rows at a time and
/// concatenated.
///
/// Use it for the rollout-time (old) log-probs and the frozen reference's
/// log-probs. Run `score` on a plain (non-autodiff) device, e.g. with
/// `model.valid()`: a forward without backward on an autodiff device is
/// several times slower and keeps a graph alive.
///
/// # Shapes
/// - each `score(range)` result: `[range.len(), t]`
/// - output: `[rows, t]`
pub fn log_probs_in_chunks<F, E>(
    rows: usize,
    chunk: usize,
    mut score: F,
) -> Result<Tensor<2>, GrpoError>
where
    F: FnMut(Range<usize>) -> Result<Tensor<2>, E>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if chunk == 0 {
        return Err(GrpoError::Config {
            field: "chunk",
            reason: "must be at least 1",
        });
    }
    let mut parts = Vec::new();
    let mut width = None;
    for start in (0..rows).step_by(chunk) {
        let range = start..(start + chunk).min(rows);
        let part = score(range.clone()).map_err(|source| GrpoError::Policy {
            start: range.start,
            end: range.end,
            source: source.into(),
        })?;
        let [b, t] = part.dims();
        let expected_t = *width.get_or_insert(t);
        if b != range.len() || t != expected_t {
            return Err(GrpoError::Shape {
                tensor: "scored log_probs",
                expected: vec![range.len(), expected_t],
                found: vec![b, t],
            });
        }
        parts.push(part.detach());
    }
    if parts.is_empty() {
        return Err(GrpoError::Config {
            field: "rows",
            reason: "must be at least 1",
        });
    }
    Ok(Tensor::cat(parts, 0))
}
