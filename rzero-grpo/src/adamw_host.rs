//! AdamW's update in one pass over host memory, for `f32` parameters on
//! the CPU backend (flex). burn's element-wise ops make a pass and a fresh
//! buffer per operation, eight per parameter; here each value of the
//! parameter, its gradient and its two moments is read and written once,
//! in blocks over rayon's threads. Same arithmetic, operation by operation,
//! in `f32` (the scalars rounded to `f32` as burn rounds them).

use burn::prelude::*;
use burn::tensor::{DType, TensorData};
use rayon::prelude::*;

/// One update's scalars: what [`super::adamw`]'s tensor ops multiply,
/// divide and add with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Coefficients {
    /// The gradient's factor (the global clip coefficient), 1 for none.
    pub grad_scale: f64,
    /// `1 − lr·λ`, or `None` without weight decay.
    pub decay: Option<f64>,
    pub beta1: f64,
    pub beta2: f64,
    /// `sqrt(1 − β2^k)`.
    pub bias2_sqrt: f64,
    pub eps: f64,
    /// `lr / (1 − β1^k)`.
    pub step_size: f64,
}

/// Whether every tensor is `f32` on flex (host memory), off autodiff.
pub(crate) fn on_host(tensors: [&Tensor<1>; 4]) -> bool {
    tensors.iter().all(|t| {
        let device = t.device();
        t.dtype() == DType::F32 && !device.is_autodiff() && device == Device::flex()
    })
}

/// Values per rayon task.
const BLOCK: usize = 1 << 15;

/// `(param, exp_avg, exp_avg_sq)` after one update with `grad`; all four
/// `[n]` tensors checked by [`on_host`].
pub(crate) fn update(
    [param, grad, exp_avg, exp_avg_sq]: [Tensor<1>; 4],
    c: Coefficients,
) -> [Tensor<1>; 3] {
    let device = param.device();
    let values = |t: Tensor<1>| match t.into_data().try_into_vec::<f32>() {
        Ok(v) => v,
        Err(_) => unreachable!("on_host checked that every tensor is f32"),
    };
    let (mut p, g) = (values(param), values(grad));
    let (mut m, mut v) = (values(exp_avg), values(exp_avg_sq));
    let f = |x: f64| x as f32;
    let (scale, decay) = (f(c.grad_scale), c.decay.map(f));
    let (beta1, beta2) = (f(c.beta1), f(c.beta2));
    let (one_minus_beta1, one_minus_beta2) = (f(1.0 - c.beta1), f(1.0 - c.beta2));
    let (bias2_sqrt, eps, step_size) = (f(c.bias2_sqrt), f(c.eps), f(c.step_size));
    p.par_chunks_mut(BLOCK)
        .zip(m.par_chunks_mut(BLOCK))
        .zip(v.par_chunks_mut(BLOCK))
        .zip(g.par_chunks(BLOCK))
        .for_each(|(((p, m), v), g)| {
            for (((p, m), v), &g) in p.iter_mut().zip(m).zip(v).zip(g) {
                let g = if c.grad_scale == 1.0 { g } else { g * scale };
                let decayed = decay.map_or(*p, |d| *p * d);
                *m = *m * beta1 + g * one_minus_beta1;
                *v = *v * beta2 + g * g * one_minus_beta2;
                let denom = v.sqrt() / bias2_sqrt + eps;
                *p = decayed - *m / denom * step_size;
            }
        });
    let n = p.len();
    [p, m, v].map(|x| Tensor::from_data(TensorData::new(x, [n]), &device))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adamw::update_with_ops;

    fn tensor(n: usize, seed: u32, scale: f32) -> Tensor<1> {
        let mut state = seed.wrapping_mul(2_654_435_761) | 1;
        let values: Vec<f32> = (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 8) as f32 / (1u32 << 24) as f32 * scale - scale / 2.0
            })
            .collect();
        Tensor::from_data(TensorData::new(values, [n]), &Device::flex())
    }

    fn values(t: &Tensor<1>) -> Vec<f32> {
        t.to_data().try_to_vec::<f32>().unwrap_or_default()
    }

    /// Three steps, with and without weight decay and clip scale, over a
    /// length that leaves a partial block: the one pass gives the tensor
    /// ops' values.
    #[test]
    fn one_pass_equals_the_tensor_ops() {
        let n = 2 * BLOCK + 4321;
        let zeros = || Tensor::<1>::zeros([n], &Device::flex());
        let start = [tensor(n, 1, 2.0), zeros(), zeros()];
        let (mut host, mut ops) = (start.clone(), start);
        for step in 1..=3_i32 {
            let grad = tensor(n, 10 + step as u32, 0.1);
            let k = Coefficients {
                grad_scale: if step == 2 { 0.37 } else { 1.0 },
                decay: (step != 3).then_some(1.0 - 1e-3 * 0.01),
                beta1: 0.9,
                beta2: 0.999,
                bias2_sqrt: (1.0 - 0.999f64.powi(step)).sqrt(),
                eps: 1e-8,
                step_size: 1e-3 / (1.0 - 0.9f64.powi(step)),
            };
            let [p, m, v] = host;
            let inputs = [p, grad.clone(), m, v];
            assert!(on_host(inputs.each_ref()));
            host = update(inputs, k);
            let [p, m, v] = ops;
            ops = update_with_ops([p, grad, m, v], k);
            for (a, b) in host.iter().zip(&ops) {
                let (a, b) = (values(a), values(b));
                assert_eq!(a.len(), n);
                let worst = a
                    .iter()
                    .zip(&b)
                    .map(|(x, y)| (x - y).abs() / (1e-6 + y.abs()))
                    .fold(0.0f32, f32::max);
                assert!(worst < 1e-5, "step {step}: relative difference {worst}");
            }
        }
        // Not on host memory: an autodiff device.
        let ad = Device::flex().autodiff();
        let t = Tensor::<1>::zeros([3], &ad);
        assert!(!on_host([&t, &t, &t, &t]));
    }
}
