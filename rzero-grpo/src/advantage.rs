//! Group-relative advantages and reward statistics.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::GrpoError;

/// How rewards are scaled after the group mean is subtracted (TRL's `scale_rewards`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleRewards {
    /// Divide by the unbiased std of the rollout's own group (GRPO, R-Zero).
    Group,
    /// Divide by the unbiased std of all rewards in the rollout batch.
    Batch,
    /// Do not divide (Dr. GRPO).
    None,
}

/// Advantage settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdvantageConfig {
    /// Which std divides the centred rewards.
    pub scale: ScaleRewards,
    /// Added to the std before dividing: 1e-6 in verl/R-Zero, 1e-4 in TRL.
    pub eps: f32,
}

impl AdvantageConfig {
    /// R-Zero's (verl) setting: group std, eps 1e-6.
    pub fn r_zero() -> Self {
        Self {
            scale: ScaleRewards::Group,
            eps: 1e-6,
        }
    }
}

/// Group-relative advantages of rollouts laid out group by group.
///
/// Rollouts `g·G .. (g+1)·G` answer prompt `g`. With `mean_g` and the unbiased
/// `std_g` of the group's rewards:
///
/// - [`ScaleRewards::Group`]: `A_i = (r_i − mean_g) / (std_g + eps)`
/// - [`ScaleRewards::Batch`]: `A_i = (r_i − mean_g) / (std_batch + eps)`
/// - [`ScaleRewards::None`]:  `A_i = r_i − mean_g`
///
/// A std over a single value is taken as 0 (TRL does the same), so `G = 1`
/// gives `A = 0` instead of NaN. A group of equal rewards gives `A = 0`
/// exactly, whatever `eps` is (even 0, where `0 / 0` would be NaN): such a
/// group carries no signal, as [`RewardStats::zero_std_fraction`] counts.
///
/// # Shapes
/// - `rewards`: `[n]` with `n = prompts × group_size`
/// - output: `[n]`
pub fn group_advantages(
    rewards: Tensor<1>,
    group_size: usize,
    config: &AdvantageConfig,
) -> Result<Tensor<1>, GrpoError> {
    let [n] = rewards.dims();
    if group_size == 0 || !n.is_multiple_of(group_size) {
        return Err(GrpoError::Groups {
            rows: n,
            group_size,
        });
    }
    if n == 0 {
        return Ok(rewards);
    }
    let groups = n / group_size;
    let grouped = rewards.clone().reshape([groups, group_size]);
    let mean = grouped.clone().mean_dim(1);
    // Exact test (max == min), so rounding in the mean cannot leave noise.
    let equal = grouped
        .clone()
        .max_dim(1)
        .equal(grouped.clone().min_dim(1))
        .expand([groups, group_size])
        .reshape([n]);
    let centered = (grouped - mean).reshape([n]);
    let std = match config.scale {
        ScaleRewards::None => None,
        ScaleRewards::Group => Some(
            unbiased_std_rows(centered.clone().reshape([groups, group_size]))
                .expand([groups, group_size])
                .reshape([n]),
        ),
        ScaleRewards::Batch => {
            let all = rewards.reshape([1, n]);
            let all_centered = all.clone() - all.mean_dim(1);
            Some(unbiased_std_rows(all_centered).expand([1, n]).reshape([n]))
        }
    };
    let scaled = match std {
        Some(std) => centered / (std + config.eps),
        None => centered,
    };
    Ok(scaled.mask_fill(equal, 0.0))
}

/// Unbiased std of each row of already-centred values; 0 for rows of one value.
fn unbiased_std_rows(centered: Tensor<2>) -> Tensor<2> {
    let [rows, cols] = centered.dims();
    if cols < 2 {
        return Tensor::zeros([rows, 1], &centered.device());
    }
    (centered.square().sum_dim(1) / (cols - 1) as f32).sqrt()
}

/// Reward statistics of one rollout batch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RewardStats {
    /// Mean reward.
    pub mean: f32,
    /// Unbiased std of all rewards (0 for fewer than two).
    pub std: f32,
    /// Fraction of groups whose rewards all agree (std ≤ 1e-8, as TRL's
    /// `torch.isclose(std, 0)`): those groups carry no learning signal.
    pub zero_std_fraction: f32,
}

impl RewardStats {
    /// Statistics of `rewards` laid out group by group.
    pub fn new(rewards: &[f32], group_size: usize) -> Result<Self, GrpoError> {
        let n = rewards.len();
        if group_size == 0 || !n.is_multiple_of(group_size) {
            return Err(GrpoError::Groups {
                rows: n,
                group_size,
            });
        }
        let values: Vec<f64> = rewards.iter().map(|&r| f64::from(r)).collect();
        let groups = values.chunks(group_size).collect::<Vec<_>>();
        let zero = groups.iter().filter(|g| unbiased_std(g) <= 1e-8).count();
        Ok(Self {
            mean: mean(&values) as f32,
            std: unbiased_std(&values) as f32,
            zero_std_fraction: if groups.is_empty() {
                0.0
            } else {
                zero as f32 / groups.len() as f32
            },
        })
    }
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

fn unbiased_std(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = mean(values);
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    (ss / (values.len() - 1) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advantages(rewards: &[f32], group_size: usize, scale: ScaleRewards, eps: f32) -> Vec<f32> {
        let device = Device::flex();
        let r = Tensor::<1>::from_data(TensorData::new(rewards.to_vec(), [rewards.len()]), &device);
        let config = AdvantageConfig { scale, eps };
        group_advantages(r, group_size, &config)
            .unwrap()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap()
    }

    #[test]
    fn equal_reward_groups_get_zero_advantage_even_with_eps_zero() {
        // 0.1 + 0.1 + 0.1 is not 3 × 0.1 in f32, so the centred values are
        // not all exactly 0; eps = 0 used to turn that into NaN or ±1.
        let rewards = [0.1, 0.1, 0.1, 0.7, 0.7, 0.7, 0.0, 1.0, 0.5];
        for scale in [ScaleRewards::Group, ScaleRewards::Batch, ScaleRewards::None] {
            let a = advantages(&rewards, 3, scale, 0.0);
            assert!(a.iter().all(|x| x.is_finite()), "{scale:?}: {a:?}");
            assert_eq!(&a[..6], &[0.0; 6], "{scale:?}");
            assert!(a[6] < 0.0 && a[7] > 0.0, "{scale:?}: {a:?}");
        }
        // The mixed group: (r − 0.5) / std, std = 0.5 (unbiased).
        let a = advantages(&rewards, 3, ScaleRewards::Group, 0.0);
        assert!((a[6] + 1.0).abs() < 1e-6 && (a[7] - 1.0).abs() < 1e-6 && a[8].abs() < 1e-6);
        // A single-rollout group has nothing to compare with.
        assert_eq!(
            advantages(&[3.0, 4.0], 1, ScaleRewards::Group, 0.0),
            [0.0, 0.0]
        );
    }

    #[test]
    fn stats_count_groups_without_signal() {
        let stats = RewardStats::new(&[1.0, 1.0, 0.0, 1.0, 0.0, 0.0], 2).unwrap();
        assert!((stats.zero_std_fraction - 2.0 / 3.0).abs() < 1e-6);
        assert!((stats.mean - 0.5).abs() < 1e-6);
        assert!(RewardStats::new(&[1.0, 2.0, 3.0], 2).is_err());
    }
}
