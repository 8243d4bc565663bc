//! GRPO learns the toy task; with β > 0 the policy stays near the reference.

use burn::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rzero_grpo::{GrpoConfig, GrpoError, GrpoTrainer, LrSchedule};

use crate::toy::{Toy, batch, exact_kl, sample};

pub const GROUP: usize = 8;
const ITERATIONS: usize = 40;

pub fn config(beta: f32) -> GrpoConfig {
    let mut c = GrpoConfig::r_zero_solver();
    c.group_size = GROUP;
    c.global_batch = 2; // two optimizer steps per rollout batch
    c.settings.micro_batch_rows = 8; // two micro-batches per step
    c.settings.optimizer.lr = 1e-1;
    c.settings.loss.kl.beta = beta;
    c.settings.schedule = LrSchedule::LinearWarmup { warmup_steps: 2 };
    c
}

pub struct Run {
    /// Mean reward of each rollout batch.
    pub rewards: Vec<f32>,
    /// Largest per-step KL metric seen.
    pub max_kl_metric: f32,
    /// Exact KL to the initial policy at the end.
    pub final_kl: f32,
}

pub fn train(beta: f32, iterations: usize, seed: u64) -> Run {
    let device = Device::flex().autodiff();
    let mut model = Toy::new(seed, &device);
    let reference = model.valid();
    let mut trainer = GrpoTrainer::new(config(beta)).expect("valid config");
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut run = Run {
        rewards: Vec::new(),
        max_kl_metric: 0.0,
        final_kl: 0.0,
    };
    for _ in 0..iterations {
        let current = model.valid();
        let rollouts = sample(&current, GROUP, &mut rng);
        let rollout_batch = batch(&rollouts, &current, Some(&reference));
        let policy = |m: &Toy, rows| Ok::<_, GrpoError>(m.score(&rollouts, rows));
        let (next, report) = trainer
            .update(model, &rollout_batch, policy)
            .expect("update");
        model = next;
        run.rewards.push(report.rewards.mean);
        for s in &report.steps {
            assert!(
                s.loss.is_finite() && s.grad_norm.is_finite(),
                "finite step {s:?}"
            );
            assert!(s.entropy.is_some_and(|e| e > 0.0), "entropy reported");
            run.max_kl_metric = run.max_kl_metric.max(s.kl.unwrap_or(0.0));
        }
    }
    run.final_kl = exact_kl(&model.valid(), &reference);
    run
}

fn mean(v: &[f32]) -> f32 {
    v.iter().sum::<f32>() / v.len() as f32
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the learning curve")]
fn grpo_raises_mean_reward_to_near_optimal() {
    let run = train(0.01, ITERATIONS, 7);
    let start = mean(&run.rewards[..3]);
    let end = mean(&run.rewards[ITERATIONS - 5..]);
    eprintln!("mean reward per rollout batch: {:?}", run.rewards);
    assert!(start < 0.35, "initial mean reward {start}");
    assert!(
        end > 0.9,
        "mean reward after {ITERATIONS} rollout batches {end} (start {start})"
    );
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the KL reached")]
fn kl_penalty_keeps_the_policy_near_the_reference() {
    let free = train(0.0, 25, 11);
    let tied = train(0.3, 25, 11);
    eprintln!(
        "exact KL to the reference after 25 batches: beta 0 {:.4}, beta 0.3 {:.4} \
         (max per-step k3 metric {:.4}); final mean reward {:.3} vs {:.3}",
        free.final_kl, tied.final_kl, tied.max_kl_metric, free.rewards[24], tied.rewards[24]
    );
    assert!(tied.final_kl.is_finite() && free.final_kl.is_finite());
    assert!(
        tied.final_kl < 0.6 * free.final_kl,
        "KL with beta 1: {}, without: {}",
        tied.final_kl,
        free.final_kl
    );
    assert!(
        tied.max_kl_metric < 1.5,
        "per-step KL stays bounded: {}",
        tied.max_kl_metric
    );
    assert!(
        tied.rewards[24] > 0.5,
        "the penalised policy still learns: {}",
        tied.rewards[24]
    );
}
