//! GRPO losses, metrics and gradients against torch (tests/fixtures/loss.json).

use burn::prelude::*;
use rzero_grpo::{
    ClipConfig, KlConfig, KlEstimator, LossAggregation, LossConfig, LossInputs, StepShare,
    grpo_loss,
};
use serde::Deserialize;

use crate::common::{fixture, max_abs_diff, tensor1, tensor2, values};

#[derive(Deserialize)]
pub struct CaseConfig {
    pub agg: String,
    pub max_len: Option<usize>,
    pub eps_low: f32,
    pub eps_high: f32,
    pub dual: Option<f32>,
    pub kl: String,
    pub beta: f32,
    pub kl_clamp: Option<f32>,
}

#[derive(Deserialize)]
pub struct LossCase {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub micro_rows: usize,
    pub config: CaseConfig,
    pub log_probs: Vec<f64>,
    pub old_log_probs: Vec<f64>,
    pub ref_log_probs: Vec<f64>,
    pub advantages: Vec<f64>,
    pub mask: Vec<f64>,
    pub loss: f64,
    pub policy_loss: f64,
    pub kl_mean: f64,
    pub clip_low: f64,
    pub clip_high: f64,
    pub clip_dual: f64,
    pub grad: Vec<f64>,
}

pub fn loss_config(c: &CaseConfig) -> LossConfig {
    let aggregation = match c.agg.as_str() {
        "token_mean" => LossAggregation::TokenMean,
        "grpo" => LossAggregation::Grpo,
        "bnpo" => LossAggregation::Bnpo,
        "dr_grpo" => LossAggregation::DrGrpo {
            max_completion_length: c.max_len.expect("dr_grpo needs max_len"),
        },
        "dapo" => LossAggregation::Dapo,
        other => panic!("unknown aggregation {other}"),
    };
    let estimator = match c.kl.as_str() {
        "k1" => KlEstimator::K1,
        "k2" => KlEstimator::K2,
        "k3" => KlEstimator::K3,
        other => panic!("unknown estimator {other}"),
    };
    LossConfig {
        clip: ClipConfig {
            eps_low: c.eps_low,
            eps_high: c.eps_high,
            dual: c.dual,
        },
        kl: KlConfig {
            estimator,
            beta: c.beta,
            clamp: c.kl_clamp,
        },
        aggregation,
    }
}

/// Result of running one fixture case through the crate.
pub struct Computed {
    pub loss: f32,
    pub policy_loss: f32,
    /// `[kl, low, high, dual, tokens]` masked sums over the whole mini-batch.
    pub sums: Vec<f32>,
    pub grad: Vec<f32>,
}

/// Run the case's mini-batch micro-batch by micro-batch and backpropagate.
pub fn compute(case: &LossCase, log_probs: &[f64]) -> Computed {
    let ad = Device::flex().autodiff();
    let plain = Device::flex();
    let (b, t) = (case.rows, case.cols);
    let logp = tensor2(log_probs, b, t, &ad).require_grad();
    let old = tensor2(&case.old_log_probs, b, t, &plain);
    let reference = tensor2(&case.ref_log_probs, b, t, &plain);
    let mask = tensor2(&case.mask, b, t, &plain);
    let adv = tensor1(&case.advantages, &plain);
    let config = loss_config(&case.config);
    let starts: Vec<usize> = (0..b).step_by(case.micro_rows).collect();
    let share = StepShare {
        micro_batches: starts.len(),
        step_tokens: case.mask.iter().sum::<f64>() as f32,
    };
    let mut loss = None::<Tensor<1>>;
    let mut policy = 0.0f32;
    let mut sums = vec![0.0f32; 5];
    for s in starts {
        let rows = s..(s + case.micro_rows).min(b);
        let inputs = LossInputs {
            log_probs: logp.clone().slice(rows.clone()),
            old_log_probs: old.clone().slice(rows.clone()),
            ref_log_probs: Some(reference.clone().slice(rows.clone())),
            advantages: adv.clone().slice(rows.clone()),
            mask: mask.clone().slice(rows.clone()),
        };
        let terms = grpo_loss(inputs, &config, share).expect("valid inputs");
        policy += values(terms.policy_loss)[0];
        let t = terms.token_sums;
        let named = [
            t.kl,
            t.clipped_low,
            t.clipped_high,
            t.clipped_dual,
            t.tokens,
        ];
        for (acc, v) in sums.iter_mut().zip(named) {
            *acc += values(v)[0];
        }
        loss = Some(match loss {
            Some(l) => l + terms.loss,
            None => terms.loss,
        });
    }
    let loss = loss.expect("at least one micro-batch");
    let grads = loss.backward();
    let grad = values(logp.grad(&grads).expect("log-probs are tracked"));
    Computed {
        loss: values(loss)[0],
        policy_loss: policy,
        sums,
        grad,
    }
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "reports the largest deviation from torch"
)]
fn losses_metrics_and_gradients_match_torch() {
    let cases: Vec<LossCase> = fixture("loss.json");
    assert!(
        cases.len() >= 20,
        "fixture has every mode × estimator and degenerate cases"
    );
    let (mut worst_loss, mut worst_grad, mut worst_metric) = (0.0f64, 0.0f64, 0.0f64);
    for case in &cases {
        let got = compute(case, &case.log_probs);
        let tokens = f64::from(got.sums[4]).max(1.0);
        let loss_diff = max_abs_diff(&[got.loss, got.policy_loss], &[case.loss, case.policy_loss]);
        let grad_diff = max_abs_diff(&got.grad, &case.grad);
        let metrics: Vec<f32> = got.sums[..4]
            .iter()
            .map(|&s| (f64::from(s) / tokens) as f32)
            .collect();
        let metric_diff = max_abs_diff(
            &metrics,
            &[case.kl_mean, case.clip_low, case.clip_high, case.clip_dual],
        );
        assert!(
            loss_diff <= 1e-6,
            "{}: loss differs by {loss_diff:e}",
            case.name
        );
        assert!(
            grad_diff <= 1e-6,
            "{}: gradient differs by {grad_diff:e}",
            case.name
        );
        assert!(
            metric_diff <= 1e-6,
            "{}: metrics differ by {metric_diff:e}",
            case.name
        );
        worst_loss = worst_loss.max(loss_diff);
        worst_grad = worst_grad.max(grad_diff);
        worst_metric = worst_metric.max(metric_diff);
    }
    eprintln!(
        "vs torch over {} cases: max |Δloss| {worst_loss:.2e}, max |Δgrad| {worst_grad:.2e}, \
         max |Δmetric| {worst_metric:.2e}",
        cases.len()
    );
}

#[test]
fn every_aggregation_and_estimator_is_covered() {
    let cases: Vec<LossCase> = fixture("loss.json");
    for agg in ["token_mean", "grpo", "bnpo", "dr_grpo", "dapo"] {
        for kl in ["k1", "k2", "k3"] {
            assert!(
                cases
                    .iter()
                    .any(|c| c.config.agg == agg && c.config.kl == kl),
                "no fixture case for {agg} with {kl}"
            );
        }
    }
    assert!(
        cases
            .iter()
            .any(|c| c.config.dual.is_some() && c.clip_dual > 0.0)
    );
    assert!(cases.iter().any(|c| c.config.dual.is_none()));
    assert!(cases.iter().any(|c| c.mask.contains(&0.0)));
}
