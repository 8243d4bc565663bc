//! Global clip + AdamW against `clip_grad_norm_` + `torch.optim.AdamW`
//! (tests/fixtures/adamw.json).

use burn::module::Param;
use burn::optim::GradientsParams;
use burn::prelude::*;
use rzero_grpo::{AdamW, AdamWConfig, clip_coefficient, clip_grad_norm, global_grad_norm};
use serde::Deserialize;

use crate::advantage_vs_torch::schedule_from;
use crate::common::{fixture, max_abs_diff, values};

#[derive(Module, Debug)]
pub struct Three {
    pub a: Param<Tensor<2>>,
    pub b: Param<Tensor<1>>,
    pub c: Param<Tensor<2>>,
}

#[derive(Deserialize)]
pub struct Sched {
    kind: String,
    warmup: Option<u64>,
    total: Option<u64>,
    min_ratio: Option<f64>,
}

#[derive(Deserialize)]
pub struct Step {
    pub grads: Vec<Vec<f64>>,
    pub lr: f64,
    pub grad_norm: f64,
    pub params: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
pub struct AdamCase {
    pub name: String,
    pub shapes: Vec<Vec<usize>>,
    pub lr: f64,
    pub betas: [f64; 2],
    pub eps: f64,
    pub weight_decay: f64,
    pub max_grad_norm: Option<f32>,
    schedule: Sched,
    pub init: Vec<Vec<f64>>,
    pub steps: Vec<Step>,
}

fn f32s(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

pub fn module(case: &AdamCase, values: &[Vec<f64>], device: &Device) -> Three {
    let s = &case.shapes;
    let t2 = |i: usize| {
        Tensor::<2>::from_data(
            TensorData::new(f32s(&values[i]), [s[i][0], s[i][1]]),
            device,
        )
        .require_grad()
    };
    let b =
        Tensor::<1>::from_data(TensorData::new(f32s(&values[1]), [s[1][0]]), device).require_grad();
    Three {
        a: Param::from_tensor(t2(0)),
        b: Param::from_tensor(b),
        c: Param::from_tensor(t2(2)),
    }
}

/// Register the step's fixed gradients for the module's parameters.
pub fn grads_for(model: &Three, case: &AdamCase, step: &Step) -> GradientsParams {
    let plain = Device::flex();
    let s = &case.shapes;
    let g2 = |i: usize| {
        Tensor::<2>::from_data(
            TensorData::new(f32s(&step.grads[i]), [s[i][0], s[i][1]]),
            &plain,
        )
    };
    let mut grads = GradientsParams::new();
    grads.register(model.a.id, g2(0));
    grads.register(
        model.b.id,
        Tensor::<1>::from_data(TensorData::new(f32s(&step.grads[1]), [s[1][0]]), &plain),
    );
    grads.register(model.c.id, g2(2));
    grads
}

pub fn config(case: &AdamCase) -> AdamWConfig {
    AdamWConfig {
        lr: case.lr,
        beta1: case.betas[0],
        beta2: case.betas[1],
        eps: case.eps,
        weight_decay: case.weight_decay,
    }
}

pub fn params_of(model: &Three) -> Vec<Vec<f32>> {
    vec![
        values(model.a.val()),
        values(model.b.val()),
        values(model.c.val()),
    ]
}

/// One fixture step through the crate: norm, clip coefficient, AdamW.
pub fn run_step(model: Three, opt: &mut AdamW, case: &AdamCase, k: usize) -> (Three, f32) {
    let step = &case.steps[k];
    let grads = grads_for(&model, case, step);
    let norm = global_grad_norm(&model, &grads).expect("norm");
    let coef = case
        .max_grad_norm
        .map_or(1.0, |m| clip_coefficient(norm, m));
    let model = opt.step(model, grads, step.lr, coef).expect("step");
    (model, norm)
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "reports the largest deviation from torch"
)]
fn clip_and_adamw_match_torch_over_several_steps() {
    let cases: Vec<AdamCase> = fixture("adamw.json");
    let device = Device::flex().autodiff();
    let mut worst = 0.0f64;
    for case in &cases {
        let sched = &case.schedule;
        let schedule = schedule_from(&sched.kind, sched.warmup, sched.total, sched.min_ratio);
        let mut model = module(case, &case.init, &device);
        let mut opt = AdamW::new(config(case));
        let mut clipped = 0;
        for (k, step) in case.steps.iter().enumerate() {
            let want_lr = case.lr * schedule.multiplier(k as u64);
            assert!(
                (want_lr - step.lr).abs() < 1e-15,
                "{}: lr at step {k}",
                case.name
            );
            let (next, norm) = run_step(model, &mut opt, case, k);
            model = next;
            let norm_diff = (f64::from(norm) - step.grad_norm).abs();
            assert!(
                norm_diff <= 1e-5 * step.grad_norm.max(1.0),
                "{}: norm {k}",
                case.name
            );
            if case
                .max_grad_norm
                .is_some_and(|m| step.grad_norm > f64::from(m))
            {
                clipped += 1;
            }
            for (got, want) in params_of(&model).iter().zip(&step.params) {
                let diff = max_abs_diff(got, want);
                assert!(
                    diff <= 1e-6,
                    "{} step {k}: params differ by {diff:e}",
                    case.name
                );
                worst = worst.max(diff);
            }
        }
        if case.max_grad_norm.is_some() {
            assert!(
                clipped >= 2 && clipped < case.steps.len(),
                "fixture exercises both branches"
            );
        }
    }
    eprintln!("AdamW + clip vs torch: max |Δparam| {worst:.2e}");
}

#[test]
fn clip_grad_norm_scales_to_max_norm() {
    let cases: Vec<AdamCase> = fixture("adamw.json");
    let case = &cases[0];
    let model = module(case, &case.init, &Device::flex().autodiff());
    let mut grads = grads_for(&model, case, &case.steps[0]);
    let before = clip_grad_norm(&model, &mut grads, 1.0).expect("clip");
    assert!(before > 1.0, "first fixture step is clipped");
    let after = global_grad_norm(&model, &grads).expect("norm");
    assert!((after - 1.0).abs() < 1e-5, "norm after clip {after}");
}
