//! GRPO on a bandit over token sequences: the policy is a table of logits
//! per position and the reward is the fraction of positions that match a
//! hidden target sequence. Mean reward climbs from ~1/V towards 1.
//!
//! Run with: `cargo run --release -p rzero-grpo --example grpo_bandit`

use std::ops::Range;

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rzero_grpo::{GrpoConfig, GrpoError, GrpoTrainer, PolicyOutput, RolloutBatch};

const LEN: usize = 6;
const VOCAB: usize = 8;
const TARGET: [usize; LEN] = [3, 1, 4, 1, 5, 2];
const GROUP: usize = 8;
const PROMPTS: usize = 4; // independent groups per rollout batch (same task)

#[derive(Module, Debug)]
struct Table {
    logits: Param<Tensor<2>>,
}

impl Table {
    fn log_probs(&self, tokens: &[[usize; LEN]], rows: Range<usize>) -> Tensor<2> {
        let device = self.logits.val().device();
        let n = rows.len();
        let ids: Vec<i64> = tokens[rows].iter().flatten().map(|&t| t as i64).collect();
        let ids = Tensor::<3, Int>::from_data(TensorData::new(ids, [n, LEN, 1]), &device);
        let table = log_softmax(self.logits.val(), 1).reshape([1, LEN, VOCAB]);
        table
            .expand([n, LEN, VOCAB])
            .gather(2, ids)
            .squeeze_dim::<2>(2)
    }
}

fn sample(policy: &Table, rng: &mut ChaCha8Rng) -> Vec<[usize; LEN]> {
    let probs = burn::tensor::activation::softmax(policy.logits.val(), 1).into_data();
    let probs = probs.try_into_vec_as::<f32>().unwrap_or_default();
    (0..PROMPTS * GROUP)
        .map(|_| {
            std::array::from_fn(|t| {
                let u: f32 = rng.random();
                let row = &probs[t * VOCAB..(t + 1) * VOCAB];
                let mut acc = 0.0;
                row.iter()
                    .position(|&p| {
                        acc += p;
                        u < acc
                    })
                    .unwrap_or(VOCAB - 1)
            })
        })
        .collect()
}

#[expect(clippy::print_stdout, reason = "an example reports its progress")]
fn main() -> Result<(), GrpoError> {
    let device = Device::flex().autodiff();
    let zeros = Tensor::<2>::zeros([LEN, VOCAB], &device).require_grad();
    let mut model = Table {
        logits: Param::from_tensor(zeros),
    };
    let reference = model.valid();
    let mut config = GrpoConfig::r_zero_solver();
    config.group_size = GROUP;
    config.global_batch = 2;
    config.settings.optimizer.lr = 5e-2;
    let mut trainer = GrpoTrainer::new(config)?;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let plain = device.clone().inner();
    for iteration in 0..30 {
        let current = model.valid();
        let tokens = sample(&current, &mut rng);
        let rewards: Vec<f32> = tokens
            .iter()
            .map(|seq| {
                seq.iter().zip(TARGET).filter(|(a, b)| **a == *b).count() as f32 / LEN as f32
            })
            .collect();
        let n = tokens.len();
        let batch = RolloutBatch {
            rewards,
            old_log_probs: current.log_probs(&tokens, 0..n).into(),
            ref_log_probs: Some(reference.log_probs(&tokens, 0..n)),
            mask: Tensor::ones([n, LEN], &plain),
        };
        let policy =
            |m: &Table, rows| Ok::<_, GrpoError>(PolicyOutput::new(m.log_probs(&tokens, rows)));
        let (next, report) = trainer.update(model, &batch, policy)?;
        model = next;
        if iteration % 5 == 0 || iteration == 29 {
            let last = report.steps.last();
            println!(
                "iteration {iteration:2}: mean reward {:.3}, kl {:.4}, grad norm {:.3}",
                report.rewards.mean,
                last.and_then(|s| s.kl).unwrap_or(0.0),
                last.map_or(0.0, |s| s.grad_norm),
            );
        }
    }
    Ok(())
}
