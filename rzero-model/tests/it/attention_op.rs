//! `attention_op::causal_attention` (block-wise causal attention with its own
//! backward) against burn's decomposed attention on K/V repeated to the query
//! heads: values, gradients of the op and of every model parameter (op forced
//! on vs off), finite differences, empty and degenerate shapes.

use burn::prelude::*;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use rzero_model::attention_op::causal_attention;
use rzero_model::{CompletionBatch, Qwen3, Qwen3Config, completion_logprobs};

use crate::common::{device, max_abs_diff, param_grads, to_vec};

/// Batch 2, 4 query heads over 2 KV heads, head_dim 8.
const B: usize = 2;
const H: usize = 4;
const KV: usize = 2;
const D: usize = 8;

/// Deterministic pseudo-random q `[B, H, sq, D]`, k and v `[B, KV, sk, D]`
/// in (-3, 3), large enough for a peaked softmax. (Not the device RNG: tests
/// run in parallel and would race on its seed.)
fn inputs(sq: usize, sk: usize, device: &Device) -> [Tensor<4>; 3] {
    let make = |shape: [usize; 4], salt: f32| {
        let n = shape.iter().product::<usize>();
        let v: Vec<f32> = (0..n)
            .map(|i| {
                let x = ((i as f32 * 12.9898 + salt * 78.233).sin() * 43_758.547).fract();
                3.0 * x
            })
            .collect();
        Tensor::<4>::from_data(TensorData::new(v, shape), device)
    };
    [
        make([B, H, sq, D], 1.0),
        make([B, KV, sk, D], 2.0),
        make([B, KV, sk, D], 3.0),
    ]
}

/// `[b, kv, t, d]` → `[b, kv · groups, t, d]` (what the model does for the
/// decomposed path).
fn repeat_kv(x: Tensor<4>, groups: usize) -> Tensor<4> {
    let [b, kv, t, d] = x.dims();
    x.unsqueeze_dim::<5>(2)
        .expand([b, kv, groups, t, d])
        .reshape([b, kv * groups, t, d])
}

/// burn's attention on repeated K/V: on an autodiff device its decomposed
/// fallback, differentiated by autodiff.
fn decomposed(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>) -> Tensor<4> {
    let groups = q.dims()[1] / k.dims()[1];
    let options = AttentionModuleOptions {
        is_causal: true,
        ..Default::default()
    };
    attention(
        q,
        repeat_kv(k, groups),
        repeat_kv(v, groups),
        None,
        None,
        options,
    )
}

/// A fixed upstream gradient of both signs, `[B, H, sq, D]`.
fn upstream(sq: usize, device: &Device) -> Tensor<4> {
    let n = B * H * sq * D;
    let w: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() + 0.2).collect();
    Tensor::from_data(TensorData::new(w, [B, H, sq, D]), device)
}

const SEQ: usize = 13;
/// 1, 3 (13 is not a multiple), the sequence, more than the sequence.
const BLOCKS: [usize; 4] = [1, 3, SEQ, SEQ + 20];

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn op_values_equal_the_decomposed_path() {
    for dev in [device(), device().autodiff()] {
        // sk > sq: the bottom-right-aligned mask of a query block after a prefix.
        for (sq, sk) in [(SEQ, SEQ), (5, SEQ), (1, SEQ)] {
            let [q, k, v] = inputs(sq, sk, &dev);
            let want = to_vec(decomposed(q.clone(), k.clone(), v.clone()));
            // The model's q/k/v are `[b, s, h, d]` memory viewed as `[b, h, s, d]`.
            let strided = |t: Tensor<4>| {
                let data = t.swap_dims(1, 2).into_data();
                Tensor::<4>::from_data(data, &dev).swap_dims(1, 2)
            };
            let (qs, ks, vs) = (strided(q.clone()), strided(k.clone()), strided(v.clone()));
            let mut worst = 0.0f32;
            for block in BLOCKS {
                let got = causal_attention(q.clone(), k.clone(), v.clone(), block);
                assert_eq!(got.dims(), [B, H, sq, D]);
                worst = worst.max(max_abs_diff(&to_vec(got), &want));
                let got = causal_attention(qs.clone(), ks.clone(), vs.clone(), block);
                worst = worst.max(max_abs_diff(&to_vec(got), &want));
            }
            eprintln!(
                "autodiff {}, sq {sq}, sk {sk}: max |op - decomposed| = {worst:.3e}",
                dev.is_autodiff()
            );
            assert!(worst < 1e-5, "sq {sq}, sk {sk}: {worst}");
        }
    }
}

/// Gradients of `Σ out ⊙ W` w.r.t. q, k and v.
fn qkv_grads(
    f: impl Fn(Tensor<4>, Tensor<4>, Tensor<4>) -> Tensor<4>,
    [q, k, v]: [Tensor<4>; 3],
    weights: Tensor<4>,
) -> [Vec<f32>; 3] {
    let (q, k, v) = (q.require_grad(), k.require_grad(), v.require_grad());
    let grads = (f(q.clone(), k.clone(), v.clone()) * weights)
        .sum()
        .backward();
    [q, k, v].map(|t| to_vec(t.grad(&grads).expect("no gradient")))
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn op_gradients_equal_the_decomposed_path() {
    let ad = device().autodiff();
    for (sq, sk) in [(SEQ, SEQ), (5, SEQ)] {
        let weights = upstream(sq, &ad);
        let want = qkv_grads(decomposed, inputs(sq, sk, &ad), weights.clone());
        for (name, w) in ["q", "k", "v"].iter().zip(&want) {
            assert!(w.iter().any(|x| x.abs() > 1e-3), "{name}: tiny gradient");
        }
        for block in BLOCKS {
            let op = |q, k, v| causal_attention(q, k, v, block);
            let got = qkv_grads(op, inputs(sq, sk, &ad), weights.clone());
            let diffs: Vec<f32> = got
                .iter()
                .zip(&want)
                .map(|(g, w)| max_abs_diff(g, w))
                .collect();
            eprintln!(
                "sq {sq}, sk {sk}, block {block}: max |grad diff| q {:.3e}, k {:.3e}, v {:.3e}",
                diffs[0], diffs[1], diffs[2]
            );
            assert!(diffs.iter().all(|&d| d < 1e-5), "block {block}: {diffs:?}");
        }
    }
}

/// Only the query wants a gradient (frozen K/V): the op registers that one
/// alone; and only the value.
#[test]
fn op_gradients_of_a_subset_of_inputs() {
    let ad = device().autodiff();
    let weights = upstream(SEQ, &ad);
    let [q, k, v] = inputs(SEQ, SEQ, &ad);
    let reference = |q: Tensor<4>, k: Tensor<4>, v: Tensor<4>| {
        let q = q.require_grad();
        let grads = (decomposed(q.clone(), k, v) * weights.clone())
            .sum()
            .backward();
        to_vec(q.grad(&grads).unwrap())
    };
    let want = reference(q.clone(), k.clone(), v.clone());
    let q = q.require_grad();
    let grads = (causal_attention(q.clone(), k.clone(), v.clone(), 4) * weights.clone())
        .sum()
        .backward();
    assert!(max_abs_diff(&to_vec(q.grad(&grads).unwrap()), &want) < 1e-5);
    assert!(k.grad(&grads).is_none() && v.grad(&grads).is_none());

    let v = v.require_grad();
    let want = {
        let grads = (decomposed(q.clone().detach(), k.clone(), v.clone()) * weights.clone())
            .sum()
            .backward();
        to_vec(v.grad(&grads).unwrap())
    };
    let grads = (causal_attention(q.detach(), k, v.clone(), 5) * weights)
        .sum()
        .backward();
    assert!(max_abs_diff(&to_vec(v.grad(&grads).unwrap()), &want) < 1e-5);
}

/// Central differences on entries of q, k and v against the op's backward.
#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn op_gradients_match_finite_differences() {
    let ad = device().autodiff();
    let eps = 1e-2f32;
    let weights = upstream(SEQ, &ad);
    let loss = |[q, k, v]: [Tensor<4>; 3]| {
        (causal_attention(q, k, v, 3) * weights.clone())
            .sum()
            .into_scalar::<f32>()
    };
    let base = inputs(SEQ, SEQ, &ad);
    let grads = qkv_grads(
        |q, k, v| causal_attention(q, k, v, 3),
        base.clone(),
        weights.clone(),
    );
    // (input, [batch, head, position, dim])
    let picks: [(usize, [usize; 4]); 6] = [
        (0, [0, 1, 4, 2]),
        (0, [1, 3, 12, 7]),
        (1, [0, 0, 0, 5]),
        (1, [1, 1, 9, 0]),
        (2, [0, 1, 3, 3]),
        (2, [1, 0, 12, 6]),
    ];
    for (input, [b, h, s, d]) in picks {
        let dims = base[input].dims();
        let flat = ((b * dims[1] + h) * dims[2] + s) * dims[3] + d;
        let grad = grads[input][flat];
        let shifted = |sign: f32| {
            let mut x = base.clone();
            let bump = Tensor::<4>::zeros(dims, &ad)
                .slice_fill(s![b..b + 1, h..h + 1, s..s + 1, d..d + 1], sign * eps);
            x[input] = x[input].clone() + bump;
            loss(x)
        };
        let fd = (shifted(1.0) - shifted(-1.0)) / (2.0 * eps);
        eprintln!(
            "{}[{b},{h},{s},{d}]: backward {grad:.6}, finite difference {fd:.6}",
            ["q", "k", "v"][input]
        );
        assert!(
            (fd - grad).abs() < 2e-3 + 2e-2 * grad.abs(),
            "input {input} [{b},{h},{s},{d}]: {grad} vs {fd}"
        );
    }
}

#[test]
fn op_with_no_positions_and_block_zero() {
    let ad = device().autodiff();
    let [q, k, v] = inputs(0, 0, &ad);
    let (q, k, v) = (q.require_grad(), k.require_grad(), v.require_grad());
    let out = causal_attention(q.clone(), k.clone(), v.clone(), 4);
    assert_eq!(out.dims(), [B, H, 0, D]);
    let grads = out.sum().backward();
    assert_eq!(q.grad(&grads).unwrap().dims(), [B, H, 0, D]);
    assert_eq!(k.grad(&grads).unwrap().dims(), [B, KV, 0, D]);

    let [q, k, v] = inputs(SEQ, SEQ, &device());
    let zero = to_vec(causal_attention(q.clone(), k.clone(), v.clone(), 0));
    let one = to_vec(causal_attention(q, k, v, 1));
    assert_eq!(zero, one);
}

// --- through the model --------------------------------------------------

/// A tiny random 2-layer GQA model (4 query heads, 2 KV heads).
fn model(device: &Device) -> Qwen3 {
    device.seed(5);
    Qwen3Config::new(97, 16, 32, 2, 4, 2, 8, 64)
        .with_initializer_range(0.3)
        .init(device)
}

/// Ragged rows (trailing padding), longest input 16 positions.
fn batch(model: &Qwen3, device: &Device) -> CompletionBatch {
    let prompts = vec![vec![1, 2, 3], vec![4], vec![5, 6, 7, 8, 9]];
    let completions = vec![
        vec![10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
        vec![96, 0],
        vec![40, 41, 42, 43],
    ];
    CompletionBatch::new(model, &prompts, &completions, device).unwrap()
}

fn loss_weights(device: &Device) -> Tensor<2> {
    let w: Vec<f32> = (0..3 * 14).map(|i| (i as f32 * 1.3).cos() + 0.4).collect();
    Tensor::from_data(TensorData::new(w, [3, 14]), device)
}

/// Log-probs and every parameter's gradient of `Σ logprobs ⊙ W`, with the
/// op on (`Some(block)`) or off.
fn logprobs_and_grads(model: &Qwen3, block: Option<usize>) -> (Vec<f32>, Vec<(String, Vec<f32>)>) {
    let ad = device().autodiff();
    let mut model = model.clone();
    match block {
        Some(block) => model.set_attention_op(0, block),
        None => model.set_attention_op(usize::MAX, 1),
    }
    let batch = batch(&model, &ad);
    let lp = completion_logprobs(&model, &batch);
    let values = to_vec(lp.clone());
    (values, param_grads(&model, (lp * loss_weights(&ad)).sum()))
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn model_gradients_with_the_op_equal_the_decomposed_path() {
    let model = model(&device().autodiff());
    let (want_values, want) = logprobs_and_grads(&model, None);
    // Plain (non-autodiff) device: flex's own attention kernel.
    let plain = {
        let plain = model.valid();
        to_vec(completion_logprobs(&plain, &batch(&plain, &device())))
    };
    assert!(max_abs_diff(&plain, &want_values) < 1e-5);
    let names: Vec<&str> = want.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"layers.1.self_attn.k_proj.weight")
            && names.contains(&"layers.0.self_attn.q_norm.gamma"),
        "{names:?}"
    );
    for block in [1, 3, 16, 50] {
        let (values, got) = logprobs_and_grads(&model, Some(block));
        let value_diff = max_abs_diff(&values, &want_values);
        assert_eq!(got.len(), want.len());
        let mut worst = (0.0f32, String::new());
        for ((name, g), (want_name, w)) in got.iter().zip(&want) {
            assert_eq!(name, want_name);
            assert!(w.iter().any(|x| *x != 0.0), "{name}: zero gradient");
            // f32 sums in another order: relative to the gradient's size
            // (the seeded init races with parallel tests, so sizes vary).
            let scale = w.iter().fold(1.0f32, |m, x| m.max(x.abs()));
            let diff = max_abs_diff(g, w) / scale;
            if diff >= worst.0 {
                worst = (diff, name.clone());
            }
        }
        eprintln!(
            "block {block}: max |logprob diff| = {value_diff:.3e}, max |grad diff| = {:.3e} ({})",
            worst.0, worst.1
        );
        assert!(value_diff < 1e-5, "block {block}: {value_diff}");
        assert!(worst.0 < 1e-5, "block {block}: {} at {}", worst.0, worst.1);
    }
}
