//! The GRPO loss of one micro-batch: surrogate + β·KL, aggregated.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    ClipConfig, GrpoError, KlConfig, LossAggregation, StepShare, aggregate, clipped_surrogate,
    importance_ratio, kl_estimate,
};

/// Everything that defines the loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossConfig {
    /// Surrogate clip ranges.
    pub clip: ClipConfig,
    /// KL penalty.
    pub kl: KlConfig,
    /// Reduction over tokens.
    pub aggregation: LossAggregation,
}

impl LossConfig {
    /// R-Zero's (verl) loss: clip 0.2/0.3, dual clip 3, k3 KL β = 0.01, token mean.
    pub fn r_zero() -> Self {
        Self {
            clip: ClipConfig::r_zero(),
            kl: KlConfig::r_zero(),
            aggregation: LossAggregation::TokenMean,
        }
    }
}

/// Inputs of one micro-batch.
#[derive(Debug, Clone)]
pub struct LossInputs {
    /// Current policy log-probs of the sampled tokens, `[b, t]` (tracked by autodiff).
    pub log_probs: Tensor<2>,
    /// Log-probs at rollout time, `[b, t]`.
    pub old_log_probs: Tensor<2>,
    /// Frozen reference log-probs, `[b, t]`; needed when β > 0.
    pub ref_log_probs: Option<Tensor<2>>,
    /// One advantage per rollout, `[b]`.
    pub advantages: Tensor<1>,
    /// Completion mask, `[b, t]`, 1.0 on completion tokens and 0.0 on padding.
    pub mask: Tensor<2>,
}

/// The loss of one micro-batch and masked token sums for metrics.
///
/// The sums are detached; divide them by the step's token count.
#[derive(Debug, Clone)]
pub struct LossTerms {
    /// Aggregated `ℓ + β·kl`, `[1]`: call `backward` on it.
    pub loss: Tensor<1>,
    /// Aggregated surrogate alone, `[1]`, detached.
    pub policy_loss: Tensor<1>,
    /// Masked token sums, detached, on the plain device.
    pub token_sums: TokenSums,
}

/// Masked sums over a micro-batch's completion tokens, each `[1]`.
#[derive(Debug, Clone)]
pub struct TokenSums {
    /// Sum of the KL estimate; 0 when no reference log-probs were given.
    pub kl: Tensor<1>,
    /// Tokens clipped below (`ρ < 1 − eps_low`, `A < 0`).
    pub clipped_low: Tensor<1>,
    /// Tokens clipped above (`ρ > 1 + eps_high`, `A > 0`).
    pub clipped_high: Tensor<1>,
    /// Tokens where the dual clip bound was taken.
    pub clipped_dual: Tensor<1>,
    /// Completion tokens (the mask's sum).
    pub tokens: Tensor<1>,
}

/// Compute the GRPO loss of one micro-batch.
///
/// ```text
/// ρ_t  = exp(logp_t − logp_old_t)
/// ℓ_t  = clipped surrogate of ρ_t and A          (see clipped_surrogate)
/// L    = aggregate(ℓ_t + β·kl_t, mask)            (see LossAggregation)
/// ```
///
/// # Shapes
/// - `log_probs`, `old_log_probs`, `ref_log_probs`, `mask`: `[b, t]`
/// - `advantages`: `[b]`
pub fn grpo_loss(
    inputs: LossInputs,
    config: &LossConfig,
    share: StepShare,
) -> Result<LossTerms, GrpoError> {
    let [b, t] = inputs.log_probs.dims();
    check_shape("old_log_probs", &inputs.old_log_probs.dims(), [b, t])?;
    check_shape("mask", &inputs.mask.dims(), [b, t])?;
    let [a] = inputs.advantages.dims();
    if a != b {
        return Err(GrpoError::Shape {
            tensor: "advantages",
            expected: vec![b],
            found: vec![a],
        });
    }
    if let Some(r) = &inputs.ref_log_probs {
        check_shape("ref_log_probs", &r.dims(), [b, t])?;
    } else if config.kl.beta != 0.0 {
        return Err(GrpoError::MissingInput {
            name: "ref_log_probs",
            reason: "the KL coefficient beta is not zero",
        });
    }

    let mask = inputs.mask;
    let ratio = importance_ratio(inputs.log_probs.clone(), inputs.old_log_probs);
    let surrogate = clipped_surrogate(ratio, inputs.advantages, &config.clip);
    let kl = inputs
        .ref_log_probs
        .map(|r| kl_estimate(inputs.log_probs, r, config.kl.estimator, config.kl.clamp));

    let per_token = match (&kl, config.kl.beta != 0.0) {
        (Some(kl), true) => surrogate.loss.clone() + kl.clone() * config.kl.beta,
        _ => surrogate.loss.clone(),
    };
    let loss = aggregate(per_token, mask.clone(), config.aggregation, share);
    let policy_loss = aggregate(
        surrogate.loss.detach(),
        mask.clone(),
        config.aggregation,
        share,
    );

    // Metrics live on the plain device, whatever device each input is on.
    let masked_sum = |x: Tensor<2>| (x.inner() * mask.clone().inner()).sum();
    let zero = || Tensor::<1>::zeros([1], &mask.device().inner());
    let token_sums = TokenSums {
        kl: kl.map(|k| masked_sum(k.detach())).unwrap_or_else(zero),
        clipped_low: masked_sum(surrogate.clipped_low.float()),
        clipped_high: masked_sum(surrogate.clipped_high.float()),
        clipped_dual: surrogate
            .clipped_dual
            .map(|d| masked_sum(d.float()))
            .unwrap_or_else(zero),
        tokens: mask.clone().inner().sum(),
    };
    Ok(LossTerms {
        loss,
        policy_loss,
        token_sums,
    })
}

pub(crate) fn check_shape(
    tensor: &'static str,
    found: &[usize; 2],
    expected: [usize; 2],
) -> Result<(), GrpoError> {
    if *found == expected {
        Ok(())
    } else {
        Err(GrpoError::Shape {
            tensor,
            expected: expected.to_vec(),
            found: found.to_vec(),
        })
    }
}
