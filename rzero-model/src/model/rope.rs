//! Rotary position embedding, Hugging Face `rotate_half` convention.
//!
//! burn's `RotaryEncoding` rotates interleaved pairs `(x0, x1), (x2, x3), …`;
//! HF Qwen3 rotates the first half against the second half, so it is written
//! here. For head width `d`, position `p` and `i < d/2`:
//! `inv_freq_i = θ^(-2i/d)`, `angle = p · inv_freq_i` (repeated for both
//! halves), and `rope(x) = x · cos(angle) + rotate_half(x) · sin(angle)` with
//! `rotate_half([x1, x2]) = [-x2, x1]`. The sign of `rotate_half` is folded
//! into the sine table (`[-sin, sin]` over the two halves), which saves one
//! pass over `x` per call and is exact (negation commutes with rounding).

use burn::prelude::*;

/// cos and signed sin tables for one batch of positions, shape
/// `[batch, 1, seq, head_dim]`.
#[derive(Debug, Clone)]
pub struct Rope {
    cos: Tensor<4>,
    /// `[-sin, sin]`: the sine with `rotate_half`'s sign on the first half.
    signed_sin: Tensor<4>,
}

impl Rope {
    /// Tables for `positions` (`[batch, seq]`).
    pub fn new(positions: Tensor<2, Int>, head_dim: usize, theta: f64) -> Self {
        let device = positions.device();
        let half = head_dim / 2;
        // f32 like transformers: `1 / θ^(arange(0, d, 2) / d)`.
        let inv_freq: Vec<f32> = (0..half)
            .map(|i| 1.0 / (theta as f32).powf((2 * i) as f32 / head_dim as f32))
            .collect();
        let inv_freq = Tensor::<1>::from_data(TensorData::new(inv_freq, [half]), &device);
        let angles = positions.float().unsqueeze_dim::<3>(2) * inv_freq.unsqueeze::<3>();
        let (cos, sin) = (angles.clone().cos(), angles.sin());
        Self {
            cos: Tensor::cat(vec![cos.clone(), cos], 2).unsqueeze_dim::<4>(1),
            signed_sin: Tensor::cat(vec![sin.clone().neg(), sin], 2).unsqueeze_dim::<4>(1),
        }
    }

    /// The cos and signed sin tables, `[batch, 1, seq, head_dim]` each (for
    /// ops that rotate by hand, like [`crate::layer_op`]).
    pub(crate) fn tables(&self) -> (Tensor<4>, Tensor<4>) {
        (self.cos.clone(), self.signed_sin.clone())
    }

    /// Rotates `x` (`[batch, heads, seq, head_dim]`).
    pub fn apply(&self, x: Tensor<4>) -> Tensor<4> {
        crate::kernels::rope(x, self.cos.clone(), self.signed_sin.clone())
    }
}
