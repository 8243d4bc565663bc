//! A tiny policy over a toy token task with a known optimum.
//!
//! Prompt `p` asks for the completion `target(p, 0..T)`; token 0 is EOS and
//! ends the completion early. Reward = correct tokens before EOS / T, so the
//! optimum (reward 1) emits every target and never EOS. The policy scores
//! each (prompt, position) with a one-hidden-layer MLP over two embeddings.

use std::ops::Range;

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, relu, softmax};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rzero_grpo::{PolicyOutput, RolloutBatch};

pub const PROMPTS: usize = 4;
pub const LEN: usize = 4;
pub const VOCAB: usize = 6;
const HIDDEN: usize = 16;

pub fn target(prompt: usize, position: usize) -> usize {
    1 + (prompt + 2 * position) % (VOCAB - 1)
}

#[derive(Module, Debug)]
pub struct Toy {
    prompt: Param<Tensor<2>>,
    position: Param<Tensor<2>>,
    out: Param<Tensor<2>>,
}

fn init(rng: &mut ChaCha8Rng, shape: [usize; 2], scale: f32, device: &Device) -> Param<Tensor<2>> {
    let values: Vec<f32> = (0..shape[0] * shape[1])
        .map(|_| (rng.random::<f32>() * 2.0 - 1.0) * scale)
        .collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device).require_grad())
}

impl Toy {
    pub fn new(seed: u64, device: &Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Self {
            prompt: init(&mut rng, [PROMPTS, HIDDEN], 1.0, device),
            position: init(&mut rng, [LEN, HIDDEN], 1.0, device),
            out: init(&mut rng, [HIDDEN, VOCAB], 0.1, device),
        }
    }

    /// Log-probs of every token at every (prompt, position): `[P, T, V]`.
    pub fn log_policy(&self) -> Tensor<3> {
        let h = self.prompt.val().reshape([PROMPTS, 1, HIDDEN])
            + self.position.val().reshape([1, LEN, HIDDEN]);
        let logits = relu(h)
            .reshape([PROMPTS * LEN, HIDDEN])
            .matmul(self.out.val());
        log_softmax(logits.reshape([PROMPTS, LEN, VOCAB]), 2)
    }

    /// Log-probs and entropy of the given rollouts' tokens.
    pub fn score(&self, rollouts: &Rollouts, rows: Range<usize>) -> PolicyOutput {
        let device = self.out.val().device();
        let n = rows.len();
        let prompts: Vec<i64> = rollouts.prompt[rows.clone()]
            .iter()
            .map(|&p| p as i64)
            .collect();
        let tokens: Vec<i64> = rollouts.tokens[rows]
            .iter()
            .flatten()
            .map(|&t| t as i64)
            .collect();
        let prompts = Tensor::<1, Int>::from_data(TensorData::new(prompts, [n]), &device);
        let tokens = Tensor::<3, Int>::from_data(TensorData::new(tokens, [n, LEN, 1]), &device);
        let log_policy = self.log_policy().select(0, prompts);
        let entropy = -(log_policy.clone().exp() * log_policy.clone()).sum_dim(2);
        PolicyOutput {
            log_probs: log_policy.gather(2, tokens).squeeze_dim::<2>(2),
            entropy: Some(entropy.squeeze_dim::<2>(2)),
        }
    }
}

/// Sampled rollouts, group by group.
pub struct Rollouts {
    pub prompt: Vec<usize>,
    pub tokens: Vec<Vec<usize>>,
    pub mask: Vec<f32>,
    pub rewards: Vec<f32>,
}

/// Sample `group` rollouts per prompt from `policy` (a plain-device model).
pub fn sample(policy: &Toy, group: usize, rng: &mut ChaCha8Rng) -> Rollouts {
    let probs = softmax(policy.log_policy(), 2).into_data();
    let probs = probs.try_into_vec_as::<f32>().expect("f32 probabilities");
    let mut r = Rollouts {
        prompt: Vec::new(),
        tokens: Vec::new(),
        mask: Vec::new(),
        rewards: Vec::new(),
    };
    for p in 0..PROMPTS {
        for _ in 0..group {
            let mut tokens = vec![0; LEN];
            let mut correct = 0;
            let mut ended = false;
            for (t, slot) in tokens.iter_mut().enumerate() {
                r.mask.push(if ended { 0.0 } else { 1.0 });
                if ended {
                    continue;
                }
                let row = &probs[(p * LEN + t) * VOCAB..(p * LEN + t + 1) * VOCAB];
                let token = draw(row, rng.random::<f32>());
                *slot = token;
                correct += usize::from(token == target(p, t));
                ended = token == 0;
            }
            r.prompt.push(p);
            r.tokens.push(tokens);
            r.rewards.push(correct as f32 / LEN as f32);
        }
    }
    r
}

fn draw(probs: &[f32], u: f32) -> usize {
    let mut acc = 0.0;
    for (i, &p) in probs.iter().enumerate() {
        acc += p;
        if u < acc {
            return i;
        }
    }
    probs.len() - 1
}

/// The rollout batch for GRPO: old log-probs from `current`, reference from `reference`.
pub fn batch(rollouts: &Rollouts, current: &Toy, reference: Option<&Toy>) -> RolloutBatch {
    let n = rollouts.prompt.len();
    let old = current.score(rollouts, 0..n).log_probs;
    let device = old.device();
    RolloutBatch {
        rewards: rollouts.rewards.clone(),
        old_log_probs: old.into(),
        ref_log_probs: reference.map(|m| m.score(rollouts, 0..n).log_probs),
        mask: Tensor::from_data(TensorData::new(rollouts.mask.clone(), [n, LEN]), &device),
    }
}

/// Exact `KL(π ‖ π_ref)` averaged over (prompt, position).
pub fn exact_kl(policy: &Toy, reference: &Toy) -> f32 {
    let lp = policy.log_policy();
    let lr = reference.log_policy();
    let kl = (lp.clone().exp() * (lp - lr)).sum_dim(2).mean();
    kl.into_scalar::<f32>()
}
