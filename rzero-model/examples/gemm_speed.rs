//! Time and GFLOP/s of rzero's packed matmul (`rzero_model::kernels::matmul_t`)
//! against flex's `matmul` on the M preset's training shapes (projections,
//! their input and weight gradients, the LM head), and the largest
//! difference between the two results.
//!
//! Run with: `cargo run --release -p rzero-model --example gemm_speed`
#![expect(clippy::print_stdout, reason = "an example prints its result")]
use std::time::Instant;

use burn::prelude::*;
use rzero_model::kernels::matmul_t;

fn time<F: FnMut() -> f32>(mut f: F) -> f64 {
    f();
    let reps = 20;
    let t = Instant::now();
    let mut s = 0.0;
    for _ in 0..reps {
        s += f();
    }
    std::hint::black_box(s);
    t.elapsed().as_secs_f64() / reps as f64
}

fn main() {
    let device = Device::flex();
    for (m, k, n, ta, tb) in [
        (2048, 256, 768, false, false),
        (2048, 768, 256, false, false),
        (2048, 256, 2048, false, false),
        (2048, 768, 256, false, true),
        (256, 2048, 768, true, false),
        (2048, 128, 384, false, false),
        (128, 2048, 384, true, false),
    ] {
        let a_shape = if ta { [k, m] } else { [m, k] };
        let b_shape = if tb { [n, k] } else { [k, n] };
        let a = Tensor::<2>::random(a_shape, burn::tensor::Distribution::Default, &device);
        let b = Tensor::<2>::random(b_shape, burn::tensor::Distribution::Default, &device);
        let ours = time(|| {
            matmul_t(a.clone(), b.clone(), ta, tb)
                .slice([0..1, 0..1])
                .into_scalar::<f32>()
        });
        let at = if ta { a.clone().transpose() } else { a.clone() };
        let bt = if tb { b.clone().transpose() } else { b.clone() };
        let flex = time(|| {
            at.clone()
                .matmul(bt.clone())
                .slice([0..1, 0..1])
                .into_scalar::<f32>()
        });
        let want = at.clone().matmul(bt.clone());
        let got = matmul_t(a.clone(), b.clone(), ta, tb);
        let err: f32 = (want - got).abs().max().into_scalar();
        let gf = 2.0 * (m * k * n) as f64 / 1e9;
        println!(
            "{m}x{k}x{n} ta={ta} tb={tb}: ours {:.2} ms ({:.0} GFLOP/s), flex {:.2} ms ({:.0} GFLOP/s), max err {err:.2e}",
            ours * 1e3,
            gf / ours,
            flex * 1e3,
            gf / flex
        );
    }
}
