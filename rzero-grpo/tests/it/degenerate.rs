//! Degenerate inputs give defined results, and bad inputs give typed errors.

use burn::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rzero_grpo::{
    AdvantageConfig, GrpoConfig, GrpoError, GrpoTrainer, PolicyOutput, ScaleRewards,
    group_advantages,
};

use crate::common::{tensor1, values};
use crate::learning::{GROUP, config};
use crate::toy::{LEN, Rollouts, Toy, batch, sample};

#[test]
fn equal_rewards_and_single_rollouts_give_zero_advantage() {
    let device = Device::flex();
    for scale in [ScaleRewards::Group, ScaleRewards::Batch, ScaleRewards::None] {
        let cfg = AdvantageConfig { scale, eps: 1e-6 };
        let equal = values(group_advantages(tensor1(&[0.5; 6], &device), 3, &cfg).unwrap());
        assert_eq!(equal, vec![0.0; 6], "{scale:?}: equal rewards");
        let single = values(group_advantages(tensor1(&[1.0, 0.0, 0.3], &device), 1, &cfg).unwrap());
        assert_eq!(single, vec![0.0; 3], "{scale:?}: G = 1");
    }
}

fn rollouts(seed: u64) -> (Toy, Rollouts) {
    let device = Device::flex().autodiff();
    let model = Toy::new(seed, &device);
    let r = sample(&model.valid(), GROUP, &mut ChaCha8Rng::seed_from_u64(seed));
    (model, r)
}

#[test]
fn equal_rewards_give_a_zero_policy_gradient() {
    let (model, mut r) = rollouts(1);
    r.rewards.iter_mut().for_each(|x| *x = 1.0);
    let b = batch(&r, &model.valid(), None);
    let mut trainer = GrpoTrainer::new(config(0.0)).unwrap();
    let policy = |m: &Toy, rows| Ok::<_, GrpoError>(m.score(&r, rows));
    let (_, report) = trainer.update(model, &b, policy).unwrap();
    assert_eq!(report.rewards.zero_std_fraction, 1.0);
    for s in &report.steps {
        assert_eq!(s.grad_norm, 0.0, "no signal, no gradient");
        assert_eq!(s.loss, 0.0);
        assert!(!s.skipped && s.kl.is_none());
    }
}

#[test]
fn empty_completions_and_all_padding_micro_batches_stay_finite() {
    let (model, mut r) = rollouts(2);
    // Rows 0..8 (the first micro-batch) and row 9 have no completion tokens.
    for row in (0..8).chain([9]) {
        r.mask[row * LEN..(row + 1) * LEN]
            .iter_mut()
            .for_each(|m| *m = 0.0);
    }
    let current = model.valid();
    let b = batch(&r, &current, Some(&current));
    let tokens: f32 = r.mask[..2 * GROUP * LEN].iter().sum();
    let mut trainer = GrpoTrainer::new(config(0.04)).unwrap();
    let policy = |m: &Toy, rows| Ok::<_, GrpoError>(m.score(&r, rows));
    let (_, report) = trainer.update(model, &b, policy).unwrap();
    let first = &report.steps[0];
    assert_eq!(first.tokens as f32, tokens);
    for s in &report.steps {
        let all = [
            s.loss,
            s.policy_loss,
            s.grad_norm,
            s.clip_low,
            s.neg_log_prob,
        ];
        assert!(all.iter().all(|v| v.is_finite()), "{s:?}");
        assert!(s.kl.is_some_and(f32::is_finite) && s.entropy.is_some_and(f32::is_finite));
    }
}

#[test]
fn a_batch_without_any_completion_token_is_a_defined_no_op() {
    let (model, mut r) = rollouts(3);
    r.mask.iter_mut().for_each(|m| *m = 0.0);
    let current = model.valid();
    let b = batch(&r, &current, Some(&current));
    let mut trainer = GrpoTrainer::new(config(0.04)).unwrap();
    let policy = |m: &Toy, rows| Ok::<_, GrpoError>(m.score(&r, rows));
    let (_, report) = trainer.update(model, &b, policy).unwrap();
    for s in &report.steps {
        assert_eq!((s.tokens, s.loss, s.grad_norm), (0, 0.0, 0.0));
        assert_eq!(s.kl, Some(0.0));
    }
}

#[test]
fn non_finite_gradients_skip_the_step() {
    let (model, r) = rollouts(4);
    let before = values(model.valid().log_policy());
    let b = batch(&r, &model.valid(), None);
    let mut trainer = GrpoTrainer::new(config(0.0)).unwrap();
    let policy = |m: &Toy, rows| {
        let out = m.score(&r, rows);
        Ok::<_, GrpoError>(PolicyOutput::new(out.log_probs * f32::NAN))
    };
    let (model, report) = trainer.update(model, &b, policy).unwrap();
    assert!(
        report
            .steps
            .iter()
            .all(|s| s.skipped && !s.grad_norm.is_finite())
    );
    assert_eq!(
        values(model.valid().log_policy()),
        before,
        "parameters unchanged"
    );
}

#[test]
fn bad_inputs_are_typed_errors() {
    let (model, r) = rollouts(5);
    let plain = model.valid();
    let b = batch(&r, &plain, None);
    // beta > 0 without reference log-probs.
    let mut trainer = GrpoTrainer::new(config(0.01)).unwrap();
    let policy = |m: &Toy, rows| Ok::<_, GrpoError>(m.score(&r, rows));
    let err = trainer.update(model.clone(), &b, policy).unwrap_err();
    assert!(
        matches!(
            err,
            GrpoError::MissingInput {
                name: "ref_log_probs",
                ..
            }
        ),
        "{err}"
    );
    // Log-probs from a plain-device model cannot be trained.
    let mut trainer = GrpoTrainer::new(config(0.0)).unwrap();
    let untracked = |_: &Toy, rows| Ok::<_, GrpoError>(plain.score(&r, rows));
    let err = trainer.update(model.clone(), &b, untracked).unwrap_err();
    assert!(
        matches!(err, GrpoError::NotTracked { start: 0, end: 8 }),
        "{err}"
    );
    // The closure's own error keeps its rows.
    let failing = |_: &Toy, _rows| Err::<PolicyOutput, _>(std::io::Error::other("boom"));
    let err = trainer.update(model, &b, failing).unwrap_err();
    assert!(
        err.to_string().contains("rows 0..8") && err.to_string().contains("boom"),
        "{err}"
    );
    // Config validation.
    let mut c = GrpoConfig::r_zero_solver();
    c.settings.loss.clip.dual = Some(0.5);
    assert!(matches!(
        GrpoTrainer::new(c),
        Err(GrpoError::Config {
            field: "clip.dual",
            ..
        })
    ));
    c = GrpoConfig::r_zero_solver();
    c.settings.micro_batch_rows = 0;
    assert!(GrpoTrainer::new(c).is_err());
}
