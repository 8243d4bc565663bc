//! Autodiff gradients of the loss against central finite differences.

use burn::prelude::*;
use rzero_grpo::{LossInputs, StepShare, grpo_loss};

use crate::common::{fixture, tensor1, tensor2, values};
use crate::loss_vs_torch::{LossCase, compute, loss_config};

/// The mini-batch loss on the plain device (no graph).
fn loss_value(case: &LossCase, log_probs: &[f64]) -> f64 {
    let device = Device::flex();
    let (b, t) = (case.rows, case.cols);
    let config = loss_config(&case.config);
    let starts: Vec<usize> = (0..b).step_by(case.micro_rows).collect();
    let share = StepShare {
        micro_batches: starts.len(),
        step_tokens: case.mask.iter().sum::<f64>() as f32,
    };
    let full = |v: &[f64]| tensor2(v, b, t, &device);
    let mut total = 0.0;
    for s in starts {
        let rows = s..(s + case.micro_rows).min(b);
        let inputs = LossInputs {
            log_probs: full(log_probs).slice(rows.clone()),
            old_log_probs: full(&case.old_log_probs).slice(rows.clone()),
            ref_log_probs: Some(full(&case.ref_log_probs).slice(rows.clone())),
            advantages: tensor1(&case.advantages, &device).slice(rows.clone()),
            mask: full(&case.mask).slice(rows.clone()),
        };
        let terms = grpo_loss(inputs, &config, share).expect("valid inputs");
        total += f64::from(values(terms.loss)[0]);
    }
    total
}

/// Whether a token sits within `margin` (relative) of a kink of the loss.
fn near_kink(case: &LossCase, i: usize, h: f64) -> bool {
    let c = &case.config;
    let d = case.log_probs[i] - case.old_log_probs[i];
    let ratio = d.exp();
    let mut kinks = vec![1.0 - f64::from(c.eps_low), 1.0 + f64::from(c.eps_high)];
    if let Some(dual) = c.dual {
        kinks.push(f64::from(dual));
    }
    let near_ratio = kinks.iter().any(|k| (ratio - k).abs() < 4.0 * h * ratio);
    let x = case.ref_log_probs[i] - case.log_probs[i];
    let kl = match c.kl.as_str() {
        "k1" => -x,
        "k2" => 0.5 * x * x,
        _ => x.exp() - x - 1.0,
    };
    let near_clamp = c
        .kl_clamp
        .is_some_and(|cl| (kl.abs() - f64::from(cl)).abs() < 0.5);
    near_ratio || near_clamp
}

#[test]
fn loss_gradient_matches_finite_differences() {
    let cases: Vec<LossCase> = fixture("loss.json");
    let h = 1e-2;
    let mut checked = 0;
    for case in cases
        .iter()
        .filter(|c| c.name.ends_with("_k3") || c.name.ends_with("_k2"))
    {
        let grad = compute(case, &case.log_probs).grad;
        for i in 0..case.log_probs.len() {
            if case.mask[i] == 0.0 {
                assert_eq!(
                    grad[i], 0.0,
                    "{}: padding token {i} has a gradient",
                    case.name
                );
                continue;
            }
            if near_kink(case, i, h) {
                continue;
            }
            let mut plus = case.log_probs.clone();
            let mut minus = case.log_probs.clone();
            plus[i] += h;
            minus[i] -= h;
            let fd = (loss_value(case, &plus) - loss_value(case, &minus)) / (2.0 * h);
            let an = f64::from(grad[i]);
            assert!(
                (fd - an).abs() <= 1e-3 + 1e-2 * an.abs(),
                "{}: token {i}: finite difference {fd} vs autodiff {an}",
                case.name
            );
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} tokens checked");
}
