//! Group advantages against torch (tests/fixtures/advantage.json) and LR
//! schedules against transformers/verl (tests/fixtures/schedule.json).

use burn::prelude::*;
use rzero_grpo::{AdvantageConfig, LrSchedule, ScaleRewards, group_advantages};
use serde::Deserialize;

use crate::common::{fixture, max_abs_diff, tensor1, values};

#[derive(Deserialize)]
struct AdvantageCase {
    name: String,
    group_size: usize,
    scale: String,
    eps: f32,
    rewards: Vec<f64>,
    advantages: Vec<f64>,
}

#[test]
fn advantages_match_torch_for_every_scale() {
    let cases: Vec<AdvantageCase> = fixture("advantage.json");
    let device = Device::flex();
    for case in &cases {
        let scale = match case.scale.as_str() {
            "group" => ScaleRewards::Group,
            "batch" => ScaleRewards::Batch,
            _ => ScaleRewards::None,
        };
        let config = AdvantageConfig {
            scale,
            eps: case.eps,
        };
        let got = group_advantages(tensor1(&case.rewards, &device), case.group_size, &config)
            .expect("rewards split into groups");
        let got = values(got);
        assert!(
            got.iter().all(|v| v.is_finite()),
            "{}: non-finite advantage",
            case.name
        );
        // Advantages reach ~1/eps only for degenerate stds; compare relatively there.
        let diff = max_abs_diff(&got, &case.advantages);
        let scale_of = case.advantages.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        assert!(
            diff <= 1e-6 * scale_of,
            "{}: differs by {diff:e}",
            case.name
        );
    }
}

#[test]
fn rewards_not_divisible_by_group_size_are_rejected() {
    let device = Device::flex();
    let rewards = tensor1(&[1.0, 0.0, 1.0], &device);
    assert!(group_advantages(rewards, 2, &AdvantageConfig::r_zero()).is_err());
}

#[derive(Deserialize)]
struct ScheduleSpec {
    kind: String,
    warmup: Option<u64>,
    total: Option<u64>,
    min_ratio: Option<f64>,
}

#[derive(Deserialize)]
struct ScheduleCase {
    schedule: ScheduleSpec,
    multipliers: Vec<f64>,
}

pub fn schedule_from(
    spec_kind: &str,
    warmup: Option<u64>,
    total: Option<u64>,
    min: Option<f64>,
) -> LrSchedule {
    match spec_kind {
        "constant" => LrSchedule::Constant,
        "linear_warmup" => LrSchedule::LinearWarmup {
            warmup_steps: warmup.expect("warmup"),
        },
        _ => LrSchedule::Cosine {
            warmup_steps: warmup.expect("warmup"),
            total_steps: total.expect("total"),
            min_lr_ratio: min.expect("min_ratio"),
        },
    }
}

#[test]
fn schedules_match_transformers_and_verl() {
    let cases: Vec<ScheduleCase> = fixture("schedule.json");
    for case in &cases {
        let s = &case.schedule;
        let schedule = schedule_from(&s.kind, s.warmup, s.total, s.min_ratio);
        for (step, &want) in case.multipliers.iter().enumerate() {
            let got = schedule.multiplier(step as u64);
            assert!(
                (got - want).abs() < 1e-12,
                "{}: step {step}: {got} vs {want}",
                s.kind
            );
        }
    }
}
