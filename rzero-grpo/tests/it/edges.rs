//! Numerical edges: skipped steps and the LR schedule, AdamW state checks.

use burn::module::Param;
use burn::optim::GradientsParams;
use burn::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rzero_grpo::{
    AdamW, AdamWConfig, GrpoError, GrpoTrainer, LrSchedule, OldLogProbs, PolicyOutput, RolloutBatch,
};

use crate::common::values;
use crate::learning::{GROUP, config};
use crate::toy::{Toy, batch, sample};

#[test]
fn a_skipped_step_does_not_advance_the_lr_schedule() {
    let device = Device::flex().autodiff();
    let model = Toy::new(11, &device);
    let r = sample(&model.valid(), GROUP, &mut ChaCha8Rng::seed_from_u64(11));
    let b = batch(&r, &model.valid(), None);
    let mut c = config(0.0);
    c.settings.schedule = LrSchedule::LinearWarmup { warmup_steps: 8 };
    let lr = c.settings.optimizer.lr;
    let mut trainer = GrpoTrainer::new(c).unwrap();
    let good = |m: &Toy, rows| Ok::<_, GrpoError>(m.score(&r, rows));
    let nan = |m: &Toy, rows| {
        let out = m.score(&r, rows);
        Ok::<_, GrpoError>(PolicyOutput::new(out.log_probs * f32::NAN))
    };
    let lrs = |report: &rzero_grpo::UpdateReport| -> Vec<(u64, f64, bool)> {
        report
            .steps
            .iter()
            .map(|s| (s.step, s.lr, s.skipped))
            .collect()
    };
    let (model, first) = trainer.update(model, &b, good).unwrap();
    assert_eq!(lrs(&first), [(0, 0.0, false), (1, lr / 8.0, false)]);
    let (model, skipped) = trainer.update(model, &b, nan).unwrap();
    assert_eq!(
        lrs(&skipped),
        [(2, lr * 2.0 / 8.0, true), (2, lr * 2.0 / 8.0, true)]
    );
    assert_eq!(trainer.step(), 2);
    let (_, after) = trainer.update(model, &b, good).unwrap();
    assert_eq!(
        lrs(&after),
        [(2, lr * 2.0 / 8.0, false), (3, lr * 3.0 / 8.0, false)]
    );
}

#[test]
fn first_step_old_log_probs_from_the_policy_equal_scored_ones() {
    let device = Device::flex().autodiff();
    let model = Toy::new(21, &device);
    let reference = Toy::new(22, &device);
    let r = sample(&model.valid(), GROUP, &mut ChaCha8Rng::seed_from_u64(21));
    let scored = batch(&r, &model.valid(), Some(&reference.valid()));
    let OldLogProbs::Scored(old) = scored.old_log_probs.clone() else {
        panic!("toy batches are scored");
    };
    let trainer = GrpoTrainer::new(config(0.05)).unwrap();
    let n = r.rewards.len();
    let first = trainer.first_step_rows(n);
    assert!(
        0 < first && first < n,
        "two optimizer steps: {first} of {n}"
    );
    let run = |b: &RolloutBatch| {
        let policy = |m: &Toy, rows| Ok::<_, GrpoError>(m.score(&r, rows));
        trainer.clone().update(model.clone(), b, policy)
    };
    let (want, want_report) = run(&scored).unwrap();
    let lazy = RolloutBatch {
        old_log_probs: OldLogProbs::FirstStepFromPolicy {
            later: Some(old.clone().slice(first..n)),
        },
        ..scored.clone()
    };
    let (got, got_report) = run(&lazy).unwrap();
    for (g, w) in got_report.steps.iter().zip(&want_report.steps) {
        assert!((g.loss - w.loss).abs() < 1e-6, "{g:?} vs {w:?}");
        assert!((g.grad_norm - w.grad_norm).abs() < 1e-5, "{g:?} vs {w:?}");
        assert_eq!(g.clip_high, w.clip_high);
    }
    let (g, w) = (got.log_policy().inner(), want.log_policy().inner());
    let diff = values((g - w).abs().max());
    assert!(diff[0] < 1e-5, "models differ by {diff:?}");

    // The later steps' rows must be given, in their shape.
    let missing = RolloutBatch {
        old_log_probs: OldLogProbs::FirstStepFromPolicy { later: None },
        ..scored.clone()
    };
    assert!(matches!(run(&missing), Err(GrpoError::MissingInput { .. })));
    let wrong = RolloutBatch {
        old_log_probs: OldLogProbs::FirstStepFromPolicy { later: Some(old) },
        ..scored
    };
    assert!(matches!(run(&wrong), Err(GrpoError::Shape { .. })));
}

#[derive(Module, Debug)]
struct Pair {
    first: Param<Tensor<1>>,
    second: Param<Tensor<1>>,
}

impl Pair {
    fn new(first: usize, second: usize, device: &Device) -> Self {
        let p = |n: usize, start: f32| {
            let v: Vec<f32> = (0..n).map(|i| start + i as f32).collect();
            Param::from_tensor(Tensor::from_data(TensorData::new(v, [n]), device).require_grad())
        };
        Self {
            first: p(first, 1.0),
            second: p(second, 10.0),
        }
    }

    fn grads(&self) -> GradientsParams {
        let loss = self.first.val().square().sum() + self.second.val().square().sum();
        GradientsParams::from_grads(loss.backward(), self)
    }

    fn values(&self) -> (Vec<f32>, Vec<f32>) {
        (
            values(self.first.val().inner()),
            values(self.second.val().inner()),
        )
    }
}

#[derive(Module, Debug)]
struct Renamed {
    first: Param<Tensor<1>>,
    other: Param<Tensor<1>>,
}

#[test]
fn an_adamw_state_mismatch_changes_no_parameter() {
    let device = Device::flex().autodiff();
    let mut optimizer = AdamW::new(AdamWConfig {
        lr: 0.1,
        ..AdamWConfig::r_zero()
    });
    let trained = Pair::new(3, 4, &device);
    let grads = trained.grads();
    let trained = optimizer.step(trained, grads, 0.1, 1.0).unwrap();
    assert_ne!(trained.values().0, [1.0, 2.0, 3.0], "the step did update");
    assert_eq!(optimizer.len(), 2);

    // Same names, `second` has another size: `first` (visited first) must not move.
    let wider = Pair::new(3, 5, &device);
    let before = wider.values();
    let grads = wider.grads();
    let mut copy = optimizer.clone();
    let err = copy.step(wider.clone(), grads, 0.1, 1.0).unwrap_err();
    assert!(
        matches!(&err, GrpoError::StateMismatch { name, .. } if name == "second"),
        "{err}"
    );
    assert_eq!(wider.values(), before);
    // The state is untouched (no moment advanced, none dropped): the right
    // model steps on it exactly as on a copy taken before the error.
    assert_eq!(copy.len(), 2);
    let want = optimizer
        .clone()
        .step(trained.clone(), trained.grads(), 0.1, 1.0)
        .unwrap();
    let got = copy
        .step(trained.clone(), trained.grads(), 0.1, 1.0)
        .unwrap();
    assert_eq!(got.values(), want.values());

    // A state naming a parameter the module lacks.
    let renamed = Renamed {
        first: Pair::new(3, 1, &device).first,
        other: Pair::new(1, 4, &device).second,
    };
    let first_before = values(renamed.first.val().inner());
    let loss = renamed.first.val().sum() + renamed.other.val().sum();
    let grads = GradientsParams::from_grads(loss.backward(), &renamed);
    let err = optimizer
        .clone()
        .step(renamed.clone(), grads, 0.1, 1.0)
        .unwrap_err();
    assert!(
        matches!(&err, GrpoError::StateMismatch { name, .. } if name == "second"),
        "{err}"
    );
    assert_eq!(values(renamed.first.val().inner()), first_before);
}
