//! `layer_op` (a decoder layer recomputed in the backward pass) against the
//! plain autodiff path: values, gradients of the input and of every
//! parameter, finite differences, and LoRA-adapted weights.

use burn::module::{ModuleMapper, Param};
use burn::prelude::*;
use rzero_model::layer_op::decoder_layer;
use rzero_model::lora::LoraTarget;
use rzero_model::model::DecoderLayer;
use rzero_model::{LoraConfig, Qwen3, Qwen3Config, apply_lora};

use crate::common::{max_abs_diff, param_grads, to_vec};

const BATCH: usize = 2;
const SEQ: usize = 11;

/// Deterministic values in `(-amplitude, amplitude)` (not the device RNG:
/// tests run in parallel and would race on its seed).
fn values(n: usize, salt: f32, amplitude: f32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let x = ((i as f32 * 12.9898 + salt * 78.233).sin() * 43_758.547).fract();
            amplitude * x
        })
        .collect()
}

/// Sets every parameter to deterministic values: norm weights in
/// `(0.5, 1.5)` (not 1, so a forgotten weight in a backward shows),
/// matrices in `(-0.3, 0.3)`.
struct Deterministic {
    salt: f32,
}

impl ModuleMapper for Deterministic {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        self.salt += 1.0;
        let shape = param.lazy_shape();
        let mut v = values(shape.num_elements(), self.salt, 0.3);
        if D == 1 {
            v.iter_mut().for_each(|x| *x = 1.0 + *x / 0.6);
        }
        param.map(|t| {
            let grad = t.is_require_grad();
            Tensor::from_data(TensorData::new(v, shape), &t.device()).set_require_grad(grad)
        })
    }
}

/// A tiny random model: vocab 97, hidden 32, intermediate 48, 2 layers,
/// 4 query heads over 2 KV heads of 8, untied head.
fn model(device: &Device) -> Qwen3 {
    Qwen3Config::new(97, 32, 48, 2, 4, 2, 8, 64)
        .init(device)
        .map(&mut Deterministic { salt: 0.0 })
}

/// Distinct tokens, so each embedding row's gradient is the gradient of
/// the first layer's input at one position.
fn inputs(device: &Device) -> (Tensor<2, Int>, Tensor<2, Int>) {
    let tokens: Vec<i64> = (0..(BATCH * SEQ) as i64).map(|i| 3 + 4 * i).collect();
    let positions: Vec<i64> = (0..BATCH).flat_map(|_| 0..SEQ as i64).collect();
    (
        Tensor::from_data(TensorData::new(tokens, [BATCH, SEQ]), device),
        Tensor::from_data(TensorData::new(positions, [BATCH, SEQ]), device),
    )
}

/// Loss weights of both signs, `[BATCH, SEQ, width]`.
fn loss_weights(width: usize, device: &Device) -> Tensor<3> {
    let n = BATCH * SEQ * width;
    let w: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() + 0.2).collect();
    Tensor::from_data(TensorData::new(w, [BATCH, SEQ, width]), device)
}

/// Largest `|a − b|` relative to `max(1, max |b|)`.
fn relative_diff(a: &[f32], b: &[f32]) -> f32 {
    let scale = b.iter().fold(1.0f32, |m, x| m.max(x.abs()));
    max_abs_diff(a, b) / scale
}

/// Logits and every parameter's gradient of `Σ logits ⊙ W`, with
/// recomputation from `min_seq` positions on.
fn logits_and_grads(model: &Qwen3, min_seq: usize) -> (Vec<f32>, Vec<(String, Vec<f32>)>) {
    let ad = Device::flex().autodiff();
    let mut model = model.clone();
    model.set_recompute(min_seq);
    let (tokens, positions) = inputs(&ad);
    let logits = model.forward(tokens, positions, None);
    let values = to_vec(logits.clone());
    let loss = (logits * loss_weights(97, &ad)).sum();
    (values, param_grads(&model, loss))
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn recomputed_model_equals_the_plain_path() {
    let model = model(&Device::flex().autodiff());
    let (want_values, want) = logits_and_grads(&model, usize::MAX);
    // SEQ + 1: the switch's threshold keeps the plain path.
    let (above, _) = logits_and_grads(&model, SEQ + 1);
    assert_eq!(above, want_values);
    let (values, got) = logits_and_grads(&model, 0);
    let value_diff = max_abs_diff(&values, &want_values);
    assert_eq!(got.len(), want.len());
    let names: Vec<&str> = want.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"layers.1.self_attn.k_norm.gamma"),
        "{names:?}"
    );
    let mut worst = (0.0f32, String::new());
    for ((name, g), (want_name, w)) in got.iter().zip(&want) {
        assert_eq!(name, want_name);
        assert!(w.iter().any(|x| x.abs() > 1e-4), "{name}: tiny gradient");
        let diff = relative_diff(g, w);
        if diff >= worst.0 {
            worst = (diff, name.clone());
        }
    }
    eprintln!(
        "recompute: max |logit diff| {value_diff:.3e}, max relative |grad diff| {:.3e} ({})",
        worst.0, worst.1
    );
    assert!(value_diff < 1e-5, "{value_diff}");
    assert!(worst.0 < 1e-4, "{} at {}", worst.0, worst.1);
}

/// A one-layer model's final hidden state `norm(layer(x))` and the gradient
/// of `Σ hidden ⊙ W` w.r.t. the layer input `x`, per position `[n, d]`.
/// Plain path: `x` is the embedding of distinct tokens, so the embedding
/// rows' gradients are the input's. Op path: `x` the same values as a leaf.
fn one_layer_input_grad(model: &Qwen3, block: Option<usize>) -> (Vec<f32>, Vec<f32>) {
    let ad = Device::flex().autodiff();
    let (tokens, positions) = inputs(&ad);
    let weights = loss_weights(32, &ad);
    match block {
        None => {
            let hidden = model.hidden(tokens.clone(), positions, None);
            let values = to_vec(hidden.clone());
            let grads = (hidden * weights).sum().backward();
            let table = model
                .embed_tokens
                .weight
                .val()
                .grad(&grads)
                .expect("embedding gradient");
            let rows = table.select(0, tokens.reshape([BATCH * SEQ]));
            (values, to_vec(rows))
        }
        Some(block) => {
            let x = model.embed_tokens.forward(tokens).detach().require_grad();
            let out = decoder_layer(&model.layers[0], x.clone(), positions, ROPE_THETA, block);
            let hidden = model.norm.forward(out);
            let values = to_vec(hidden.clone());
            let grads = (hidden * weights).sum().backward();
            (values, to_vec(x.grad(&grads).expect("input gradient")))
        }
    }
}

/// `Qwen3Config`'s default RoPE base.
const ROPE_THETA: f64 = 1e6;

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn op_input_gradient_equals_the_plain_path() {
    let ad = Device::flex().autodiff();
    let model = Qwen3Config::new(97, 32, 48, 1, 4, 2, 8, 64)
        .init(&ad)
        .map(&mut Deterministic { salt: 40.0 });
    let (want_values, want) = one_layer_input_grad(&model, None);
    assert!(want.iter().any(|x| x.abs() > 1e-3), "tiny gradient");
    // 1 and 3 rows per attention block (11 is not a multiple), all, more.
    for block in [1, 3, SEQ, 64] {
        let (values, got) = one_layer_input_grad(&model, Some(block));
        let (value_diff, grad_diff) = (
            max_abs_diff(&values, &want_values),
            relative_diff(&got, &want),
        );
        eprintln!("block {block}: max |value diff| {value_diff:.3e}, input grad {grad_diff:.3e}");
        assert!(value_diff < 1e-5, "block {block}: {value_diff}");
        assert!(grad_diff < 1e-4, "block {block}: {grad_diff}");
    }
}

/// Layer 0's weight matrix number `i` (q, k, v, o, gate, up, down).
fn matrix(layer: &mut DecoderLayer, i: usize) -> &mut Param<Tensor<2>> {
    match i {
        0 => &mut layer.self_attn.q_proj.weight,
        1 => &mut layer.self_attn.k_proj.weight,
        2 => &mut layer.self_attn.v_proj.weight,
        3 => &mut layer.self_attn.o_proj.weight,
        4 => &mut layer.mlp.gate_proj.weight,
        5 => &mut layer.mlp.up_proj.weight,
        _ => &mut layer.mlp.down_proj.weight,
    }
}

/// Layer 0's norm weight number `i` (input, q, k, post-attention).
fn vector(layer: &mut DecoderLayer, i: usize) -> &mut Param<Tensor<1>> {
    match i {
        0 => &mut layer.input_layernorm.gamma,
        1 => &mut layer.self_attn.q_norm.gamma,
        2 => &mut layer.self_attn.k_norm.gamma,
        _ => &mut layer.post_attention_layernorm.gamma,
    }
}

/// `Σ op(x) ⊙ W` for layer 0 of `model`.
fn op_loss(model: &Qwen3, x: Tensor<3>) -> Tensor<1> {
    let (_, positions) = inputs(&x.device());
    let weights = loss_weights(32, &x.device());
    (decoder_layer(&model.layers[0], x, positions, ROPE_THETA, 4) * weights).sum()
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn op_gradients_match_finite_differences() {
    let ad = Device::flex().autodiff();
    let model = model(&ad);
    let x = Tensor::<3>::from_data(
        TensorData::new(values(BATCH * SEQ * 32, 9.0, 2.0), [BATCH, SEQ, 32]),
        &ad,
    );
    let eps = 1e-2f32;
    let x_leaf = x.clone().require_grad();
    let grads = op_loss(&model, x_leaf.clone()).backward();
    let loss_of = |m: &Qwen3, x: Tensor<3>| op_loss(m, x).into_scalar::<f32>();
    let report = |what: String, grad: f32, fd: f32| {
        eprintln!("{what}: backward {grad:.6}, finite difference {fd:.6}");
        assert!(
            (fd - grad).abs() < 2e-3 + 2e-2 * grad.abs(),
            "{what}: {grad} vs {fd}"
        );
    };
    // Input entries [b, s, d].
    let x_grad = to_vec(x_leaf.grad(&grads).expect("input gradient"));
    for [b, s, d] in [[0, 0, 3], [1, 7, 30], [0, 10, 17]] {
        let shifted = |sign: f32| {
            let bump = Tensor::<3>::zeros([BATCH, SEQ, 32], &ad)
                .slice_fill(s![b..b + 1, s..s + 1, d..d + 1], sign * eps);
            loss_of(&model, x.clone() + bump)
        };
        let fd = (shifted(1.0) - shifted(-1.0)) / (2.0 * eps);
        report(
            format!("x[{b},{s},{d}]"),
            x_grad[(b * SEQ + s) * 32 + d],
            fd,
        );
    }
    // One entry of every weight matrix, then of every norm weight.
    for i in 0..7 {
        let param = matrix(&mut model.layers[0].clone(), i).clone();
        let [rows, cols] = param.dims();
        let (r, c) = ((5 * i + 1) % rows, (3 * i + 2) % cols);
        let grad = to_vec(param.val().grad(&grads).expect("weight gradient"))[r * cols + c];
        let shifted = |sign: f32| {
            let mut m = model.clone();
            let p = matrix(&mut m.layers[0], i);
            *p = p.clone().map(|t| {
                let bump = Tensor::<2>::zeros([rows, cols], &t.device())
                    .slice_fill(s![r..r + 1, c..c + 1], sign * eps);
                t + bump
            });
            loss_of(&m, x.clone())
        };
        let fd = (shifted(1.0) - shifted(-1.0)) / (2.0 * eps);
        report(format!("matrix {i} [{r},{c}]"), grad, fd);
    }
    for i in 0..4 {
        let param = vector(&mut model.layers[0].clone(), i).clone();
        let [width] = param.dims();
        let k = (7 * i + 3) % width;
        let grad = to_vec(param.val().grad(&grads).expect("norm gradient"))[k];
        let shifted = |sign: f32| {
            let mut m = model.clone();
            let p = vector(&mut m.layers[0], i);
            *p = p.clone().map(|t| {
                let bump =
                    Tensor::<1>::zeros([width], &t.device()).slice_fill(s![k..k + 1], sign * eps);
                t + bump
            });
            loss_of(&m, x.clone())
        };
        let fd = (shifted(1.0) - shifted(-1.0)) / (2.0 * eps);
        report(format!("norm {i} [{k}]"), grad, fd);
    }
}

/// LoRA factors' gradients (every layer, every target, A then B) of
/// `Σ logits ⊙ W`, with recomputation on or off; frozen weights get none.
fn lora_grads(model: &Qwen3, min_seq: usize) -> Vec<(String, Vec<f32>)> {
    let ad = Device::flex().autodiff();
    let mut model = model.clone();
    model.set_recompute(min_seq);
    let (tokens, positions) = inputs(&ad);
    let logits = model.forward(tokens, positions, None);
    let grads = (logits * loss_weights(97, &ad)).sum().backward();
    let mut out = Vec::new();
    for (i, layer) in model.layers.iter().enumerate() {
        for target in LoraTarget::ALL {
            let weight = &target.linear(layer).weight;
            assert!(
                weight.base().grad(&grads).is_none(),
                "layer {i} {target}: base gradient"
            );
            let adapter = weight.adapter().expect("every target is adapted");
            for (name, factor) in [("A", &adapter.a), ("B", &adapter.b)] {
                let g = factor.val().grad(&grads).expect("factor gradient");
                out.push((format!("layers.{i}.{target}.{name}"), to_vec(g)));
            }
        }
        assert!(layer.input_layernorm.gamma.val().grad(&grads).is_none());
        assert!(layer.self_attn.q_norm.gamma.val().grad(&grads).is_none());
    }
    assert!(model.embed_tokens.weight.val().grad(&grads).is_none());
    out
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn recomputed_lora_gradients_reach_the_factors() {
    let ad = Device::flex().autodiff();
    let adapted =
        apply_lora(model(&ad), &LoraConfig::all_targets(2, 4.0), 1).expect("valid config");
    // Nonzero B (a fresh adapter has B = 0, so A would get no gradient).
    let adapted = adapted.map(&mut Deterministic { salt: 100.0 });
    let want = lora_grads(&adapted, usize::MAX);
    let got = lora_grads(&adapted, 0);
    assert_eq!(got.len(), 2 * 7 * 2);
    let mut worst = 0.0f32;
    for ((name, g), (_, w)) in got.iter().zip(&want) {
        assert!(w.iter().any(|x| x.abs() > 1e-4), "{name}: tiny gradient");
        worst = worst.max(relative_diff(g, w));
    }
    eprintln!("LoRA recompute: max relative |factor grad diff| {worst:.3e}");
    assert!(worst < 1e-4, "{worst}");
}
