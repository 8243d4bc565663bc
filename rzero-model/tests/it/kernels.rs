//! `rzero_model::kernels`: the packed matmul against burn's matmul, its
//! autodiff backward against burn's and against finite differences.

use burn::prelude::*;
use burn::tensor::Distribution;
use rzero_model::gemm::{MatRef, matmul};
use rzero_model::kernels::matmul_t;
use rzero_model::small_matmul::kernel::Isa;

use crate::common::to_vec;

fn op(t: Tensor<2>, transposed: bool) -> Tensor<2> {
    if transposed { t.transpose() } else { t }
}

fn max_abs(t: Tensor<2>) -> f32 {
    t.abs().max().into_scalar()
}

/// Central differences of `loss` at `base`, one per entry, step `eps`.
fn central_differences(base: &[f32], eps: f32, loss: impl Fn(Vec<f32>) -> f32) -> Vec<f32> {
    (0..base.len())
        .map(|idx| {
            let shifted = |d: f32| {
                let mut v = base.to_vec();
                v[idx] += d;
                loss(v)
            };
            (shifted(eps) - shifted(-eps)) / (2.0 * eps)
        })
        .collect()
}

#[test]
fn matmul_t_equals_burns_matmul_for_every_transpose() {
    let device = Device::flex();
    for (m, k, n) in [(3, 5, 7), (130, 300, 70), (200, 64, 257)] {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = Tensor::<2>::random(
                if ta { [k, m] } else { [m, k] },
                Distribution::Default,
                &device,
            );
            let b = Tensor::<2>::random(
                if tb { [n, k] } else { [k, n] },
                Distribution::Default,
                &device,
            );
            let want = op(a.clone(), ta).matmul(op(b.clone(), tb));
            let got = matmul_t(a, b, ta, tb);
            assert_eq!(got.dims(), [m, n]);
            let err = max_abs(got - want);
            assert!(err < 1e-4, "{m}x{k}x{n} ta={ta} tb={tb}: {err}");
        }
    }
}

#[test]
fn a_transposed_view_tensor_is_read_correctly() {
    // A strided (swapped) flex tensor goes through the contiguous copy.
    let device = Device::flex();
    let a = Tensor::<2>::random([40, 30], Distribution::Default, &device).transpose();
    let b = Tensor::<2>::random([40, 20], Distribution::Default, &device);
    let want = a.clone().matmul(b.clone());
    assert!(max_abs(matmul_t(a, b, false, false) - want) < 1e-5);
}

#[test]
fn the_row_split_gives_the_same_bits_as_one_thread() {
    let (m, k, n) = (500, 200, 300);
    let da: Vec<f32> = (0..m * k)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
        .collect();
    let db: Vec<f32> = (0..k * n)
        .map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0)
        .collect();
    let (a, b) = (MatRef::row_major(&da, m, k), MatRef::row_major(&db, k, n));
    let mut split = vec![0.0; m * n];
    matmul(Isa::detect(), a, b, &mut split);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut serial = vec![1.0; m * n];
    pool.install(|| matmul(Isa::detect(), a, b, &mut serial));
    assert_eq!(split, serial);
}

#[test]
fn gradients_equal_burns_matmul_for_every_transpose() {
    let device = Device::flex().autodiff();
    let (m, k, n) = (9, 70, 13);
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        let a0 = Tensor::<2>::random(
            if ta { [k, m] } else { [m, k] },
            Distribution::Default,
            &device,
        );
        let b0 = Tensor::<2>::random(
            if tb { [n, k] } else { [k, n] },
            Distribution::Default,
            &device,
        );
        let w = Tensor::<2>::random([m, n], Distribution::Default, &device);
        let grads_of = |ours: bool| {
            let (a, b) = (a0.clone().require_grad(), b0.clone().require_grad());
            let c = if ours {
                matmul_t(a.clone(), b.clone(), ta, tb)
            } else {
                op(a.clone(), ta).matmul(op(b.clone(), tb))
            };
            let g = (c * w.clone()).sum().backward();
            let ga = a.grad(&g).unwrap_or_else(|| panic!("no grad for a"));
            let gb = b.grad(&g).unwrap_or_else(|| panic!("no grad for b"));
            (ga, gb)
        };
        let (ga, gb) = grads_of(true);
        let (wa, wb) = grads_of(false);
        assert_eq!(ga.dims(), wa.dims());
        assert_eq!(gb.dims(), wb.dims());
        assert!(max_abs(ga - wa) < 1e-4, "d a, ta={ta} tb={tb}");
        assert!(max_abs(gb - wb) < 1e-4, "d b, ta={ta} tb={tb}");
    }
}

#[test]
fn gradient_matches_finite_differences() {
    // loss = sum(w ⊙ (op(a)·op(b))) in f32; central differences on a few entries.
    let device = Device::flex().autodiff();
    let (m, k, n) = (4, 6, 5);
    let (ta, tb) = (true, true);
    let a0 = Tensor::<2>::random([k, m], Distribution::Default, &device);
    let b0 = Tensor::<2>::random([n, k], Distribution::Default, &device);
    let w = Tensor::<2>::random([m, n], Distribution::Default, &device);
    let loss = |a: Tensor<2>, b: Tensor<2>| (matmul_t(a, b, ta, tb) * w.clone()).sum();
    let a = a0.clone().require_grad();
    let g = loss(a.clone(), b0.clone()).backward();
    let ga = to_vec(a.grad(&g).unwrap_or_else(|| panic!("no grad")));
    let base = to_vec(a0.clone());
    let eps = 1e-2;
    for idx in [0, 7, 13, 23] {
        let at = |delta: f32| {
            let mut v = base.clone();
            v[idx] += delta;
            let a = Tensor::<2>::from_data(TensorData::new(v, [k, m]), &device);
            loss(a, b0.clone()).into_scalar::<f32>()
        };
        let fd = (at(eps) - at(-eps)) / (2.0 * eps);
        assert!(
            (fd - ga[idx]).abs() < 1e-3 * (1.0 + fd.abs()),
            "entry {idx}: fd {fd} vs {}",
            ga[idx]
        );
    }
}

/// `sum(w ⊙ silu_mul(gate, up))`'s gradients, ours or burn's composed ops.
fn silu_grads(gate: &Tensor<3>, up: &Tensor<3>, w: &Tensor<3>, ours: bool) -> [Tensor<3>; 3] {
    let (g, u) = (gate.clone().require_grad(), up.clone().require_grad());
    let out = if ours {
        rzero_model::fused::silu_mul(g.clone(), u.clone())
    } else {
        burn::tensor::activation::silu(g.clone()) * u.clone()
    };
    let value = out.clone();
    let grads = (out * w.clone()).sum().backward();
    let dg = g.grad(&grads).unwrap_or_else(|| panic!("no grad for gate"));
    let du = u.grad(&grads).unwrap_or_else(|| panic!("no grad for up"));
    [value, dg, du].map(|t| Tensor::from_data(t.into_data(), &Device::flex()))
}

#[test]
fn silu_mul_and_its_gradients_equal_burns_composed_ops() {
    let device = Device::flex().autodiff();
    let shape = [2, 7, 33];
    let gate = Tensor::<3>::random(shape, Distribution::Normal(0.0, 4.0), &device);
    let up = Tensor::<3>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    let w = Tensor::<3>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    let ours = silu_grads(&gate, &up, &w, true);
    let theirs = silu_grads(&gate, &up, &w, false);
    for (name, (a, b)) in ["value", "d gate", "d up"]
        .iter()
        .zip(ours.into_iter().zip(theirs))
    {
        let err: f32 = (a - b).abs().max().into_scalar();
        assert!(err < 1e-5, "{name}: {err}");
    }
}

#[test]
fn silu_mul_gate_gradient_matches_finite_differences() {
    let device = Device::flex().autodiff();
    let shape = [1, 3, 5];
    let gate = Tensor::<3>::random(shape, Distribution::Normal(0.0, 2.0), &device);
    let up = Tensor::<3>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    let w = Tensor::<3>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    let [_, dg, _] = silu_grads(&gate, &up, &w, true);
    let dg = to_vec(dg);
    let base = to_vec(gate.clone());
    let loss = |v: Vec<f32>| {
        let g = Tensor::<3>::from_data(TensorData::new(v, shape), &device);
        (rzero_model::fused::silu_mul(g, up.clone()) * w.clone())
            .sum()
            .into_scalar::<f32>()
    };
    let fd = central_differences(&base, 1e-2, loss);
    for (idx, (fd, got)) in fd.iter().zip(&dg).enumerate() {
        assert!(
            (fd - got).abs() < 2e-3 * (1.0 + fd.abs()),
            "{idx}: fd {fd} vs {got}"
        );
    }
}

/// `sum(w ⊙ norm(x))`, its value and gradients (x, gamma), ours or burn's `RmsNorm`.
fn rms_grads(norm: &burn::nn::RmsNorm, x: &Tensor<3>, w: &Tensor<3>, ours: bool) -> [Vec<f32>; 3] {
    let x = x.clone().require_grad();
    let out = if ours {
        rzero_model::kernels::rms_norm(norm, x.clone())
    } else {
        norm.forward(x.clone())
    };
    let value = to_vec(out.clone());
    let grads = (out * w.clone()).sum().backward();
    let dx = x.grad(&grads).unwrap_or_else(|| panic!("no grad for x"));
    let dg = norm
        .gamma
        .grad(&grads)
        .unwrap_or_else(|| panic!("no grad for gamma"));
    [value, to_vec(dx), to_vec(dg)]
}

#[test]
fn rms_norm_and_its_gradients_equal_burns_rms_norm() {
    let device = Device::flex().autodiff();
    let shape = [3, 5, 24];
    let mut norm = burn::nn::RmsNormConfig::new(24)
        .with_epsilon(1e-6)
        .init(&device);
    let gamma = Tensor::<1>::random([24], Distribution::Normal(1.0, 0.5), &device);
    norm.gamma = burn::module::Param::from_tensor(gamma);
    let x = Tensor::<3>::random(shape, Distribution::Normal(0.0, 3.0), &device);
    let w = Tensor::<3>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    let ours = rms_grads(&norm, &x, &w, true);
    let theirs = rms_grads(&norm, &x, &w, false);
    for (name, (a, b)) in ["value", "d x", "d gamma"]
        .iter()
        .zip(ours.iter().zip(&theirs))
    {
        let err = crate::common::max_abs_diff(a, b);
        let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        assert!(err < 2e-6 * scale, "{name}: {err} (scale {scale})");
    }
}

#[test]
fn rms_norm_input_gradient_matches_finite_differences() {
    let device = Device::flex().autodiff();
    let shape = [1, 2, 6];
    let norm = burn::nn::RmsNormConfig::new(6).init(&device);
    let x = Tensor::<3>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    let w = Tensor::<3>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    let [_, dx, _] = rms_grads(&norm, &x, &w, true);
    let base = to_vec(x.clone());
    let loss = |v: Vec<f32>| {
        let x = Tensor::<3>::from_data(TensorData::new(v, shape), &device);
        (rzero_model::kernels::rms_norm(&norm, x) * w.clone())
            .sum()
            .into_scalar::<f32>()
    };
    let fd = central_differences(&base, 1e-2, loss);
    for (idx, (fd, got)) in fd.iter().zip(&dx).enumerate() {
        assert!(
            (fd - got).abs() < 3e-3 * (1.0 + fd.abs()),
            "{idx}: fd {fd} vs {got}"
        );
    }
}

/// `sum(w ⊙ rope(x))` and `d x`, through the op or burn's composed ops,
/// `x` a heads-swapped view of `[b, s, h, d]` like the model's.
fn rope_and_grad(
    x: &Tensor<4>,
    tables: [&Tensor<4>; 2],
    w: &Tensor<4>,
    ours: bool,
) -> [Tensor<4>; 2] {
    let [cos, sin] = tables.map(Tensor::clone);
    let leaf = x.clone().require_grad();
    let swapped = leaf.clone().swap_dims(1, 2);
    let out = if ours {
        rzero_model::kernels::rope(swapped, cos, sin)
    } else {
        let half = swapped.dims()[3] / 2;
        let x1 = swapped.clone().narrow(3, 0, half);
        let x2 = swapped.clone().narrow(3, half, half);
        swapped * cos + Tensor::cat(vec![x2, x1], 3) * sin
    };
    let value = out.clone();
    let grads = (out * w.clone()).sum().backward();
    let dx = leaf.grad(&grads).unwrap_or_else(|| panic!("no grad for x"));
    [value, dx].map(|t| Tensor::from_data(t.into_data(), &Device::flex()))
}

#[test]
fn rope_and_its_gradient_equal_burns_composed_ops() {
    let device = Device::flex().autodiff();
    let (b, s, h, d) = (2, 300, 3, 8);
    let normal =
        |shape: [usize; 4]| Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    let x = normal([b, s, h, d]);
    let tables = [normal([b, 1, s, d]), normal([b, 1, s, d])];
    let w = normal([b, h, s, d]);
    let ours = rope_and_grad(&x, [&tables[0], &tables[1]], &w, true);
    let theirs = rope_and_grad(&x, [&tables[0], &tables[1]], &w, false);
    for (name, (a, b)) in ["value", "d x"].iter().zip(ours.into_iter().zip(theirs)) {
        let err: f32 = (a - b).abs().max().into_scalar();
        assert!(err < 1e-5, "{name}: {err}");
    }
    // On the plain device the op takes its own kernel (the autodiff one
    // above runs it too, through the inner backend).
    let plain = |t: &Tensor<4>| Tensor::<4>::from_data(t.clone().into_data(), &Device::flex());
    let out = rzero_model::kernels::rope(
        plain(&x).swap_dims(1, 2),
        plain(&tables[0]),
        plain(&tables[1]),
    );
    let want = rope_and_grad(&x, [&tables[0], &tables[1]], &w, false);
    let err: f32 = (out - want[0].clone()).abs().max().into_scalar();
    assert!(err < 1e-6, "plain: {err}");
}
