//! Metric records: one JSON object per line in `metrics.jsonl`.
//!
//! Each record names where it was taken (`iteration`, `phase`, `step`) and
//! carries plain numeric values, so tools outside rzero can read them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsRecord {
    /// Iteration t (1-based; 0 is the base-model evaluation).
    pub iteration: usize,
    /// `challenger`, `question_set`, `solver` or `eval`.
    pub phase: String,
    /// Rollout step within the phase (0 for one-shot phases).
    pub step: usize,
    /// Named values.
    pub values: BTreeMap<String, f64>,
}

impl MetricsRecord {
    /// An empty record for a place in the run.
    pub fn new(iteration: usize, phase: &str, step: usize) -> Self {
        Self {
            iteration,
            phase: phase.to_string(),
            step,
            values: BTreeMap::new(),
        }
    }

    /// Adds a value (non-finite values are kept out: JSON has no NaN).
    pub fn set(&mut self, name: &str, value: f64) -> &mut Self {
        if value.is_finite() {
            self.values.insert(name.to_string(), value);
        }
        self
    }

    /// A value by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values.get(name).copied()
    }
}

/// Mean and unbiased-free (population) standard deviation of `xs`.
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Counts of `values` in `bins` equal-width bins over [0, 1].
pub fn histogram01(values: &[f64], bins: usize) -> Vec<usize> {
    let mut counts = vec![0; bins.max(1)];
    for &v in values {
        let i = ((v.clamp(0.0, 1.0) * bins as f64) as usize).min(bins.saturating_sub(1));
        counts[i] += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_values_are_dropped() {
        let mut r = MetricsRecord::new(1, "solver", 2);
        r.set("a", f64::NAN).set("b", 1.5);
        assert_eq!(r.get("a"), None);
        assert_eq!(r.get("b"), Some(1.5));
    }

    #[test]
    fn histogram_puts_one_in_last_bin() {
        assert_eq!(histogram01(&[0.0, 0.5, 1.0, 0.99], 4), vec![1, 0, 1, 2]);
    }

    #[test]
    fn mean_std_of_constant_is_zero_spread() {
        assert_eq!(mean_std(&[2.0, 2.0]), (2.0, 0.0));
    }
}
