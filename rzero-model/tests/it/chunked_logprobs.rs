//! `completion_logprobs_chunked` (the LM head a chunk of positions at a time,
//! with its own backward) against a plain full-vocabulary reference: values,
//! gradients of every parameter, finite differences, and chunk 0.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use rzero_model::lm_head::target_logprobs;
use rzero_model::{
    CompletionBatch, Qwen3, Qwen3Config, completion_logprobs, completion_logprobs_chunked,
};

use crate::common::{device, max_abs_diff, param_grads, single, to_vec};

/// 3 rows; longest completion 7, so N = 21 completion positions (padding included).
fn rows() -> (Vec<Vec<u32>>, Vec<Vec<u32>>) {
    let prompts = vec![vec![1, 2, 3], vec![4], vec![5, 6, 7, 8, 9]];
    let completions = vec![
        vec![10, 11, 12, 13, 14, 15, 16],
        vec![96, 0],
        vec![40, 41, 42, 43],
    ];
    (prompts, completions)
}

const N: usize = 21;

/// A tiny random model whose weights are large enough for a peaked softmax.
fn model(tied: bool, device: &Device) -> Qwen3 {
    device.seed(7);
    Qwen3Config::new(97, 16, 32, 2, 2, 1, 8, 64)
        .with_tie_word_embeddings(tied)
        .with_initializer_range(0.3)
        .init(device)
}

/// Log-probs the plain way: one full forward per row, full log_softmax, then pick.
fn reference(model: &Qwen3, device: &Device) -> Tensor<2> {
    let (prompts, completions) = rows();
    let width = completions.iter().map(Vec::len).max().unwrap();
    let mut out = Vec::new();
    for (p, c) in prompts.iter().zip(&completions) {
        let row: Vec<u32> = [p.as_slice(), c.as_slice()].concat();
        let (tokens, positions) = single(&row[..row.len() - 1], device);
        let lp = log_softmax(model.forward(tokens, positions, None), 2);
        let [_, _, vocab] = lp.dims();
        let picked = lp.slice(s![0..1, p.len() - 1..p.len() - 1 + c.len(), 0..vocab]);
        let ids: Vec<i64> = c.iter().map(|&t| i64::from(t)).collect();
        let ids = Tensor::<3, Int>::from_data(TensorData::new(ids, [1, c.len(), 1]), device);
        let mut lp = picked.gather(2, ids).reshape([1, c.len()]);
        if c.len() < width {
            lp = Tensor::cat(vec![lp, Tensor::zeros([1, width - c.len()], device)], 1);
        }
        out.push(lp);
    }
    Tensor::cat(out, 0)
}

fn batch(model: &Qwen3, device: &Device) -> CompletionBatch {
    let (prompts, completions) = rows();
    CompletionBatch::new(model, &prompts, &completions, device).unwrap()
}

/// Non-uniform upstream gradient, with both signs.
fn loss_weights(device: &Device) -> Tensor<2> {
    let w: Vec<f32> = (0..N).map(|i| (i as f32 * 1.7).sin() + 0.3).collect();
    Tensor::from_data(TensorData::new(w, [3, 7]), device)
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn chunked_values_equal_the_plain_path() {
    for tied in [true, false] {
        for dev in [device(), device().autodiff()] {
            let model = model(tied, &dev);
            let batch = batch(&model, &dev);
            let want = to_vec(reference(&model, &dev));
            let mut worst = max_abs_diff(&to_vec(completion_logprobs(&model, &batch)), &want);
            for chunk in [1, 3, N, N + 40] {
                let got = to_vec(completion_logprobs_chunked(&model, &batch, chunk));
                worst = worst.max(max_abs_diff(&got, &want));
            }
            eprintln!(
                "tied {tied}, autodiff {}: max |chunked - plain| = {worst:.3e}",
                dev.is_autodiff()
            );
            assert!(worst < 1e-5, "tied {tied}: {worst}");
        }
    }
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn chunked_gradients_equal_the_plain_path() {
    let ad = device().autodiff();
    for tied in [true, false] {
        let model = model(tied, &ad);
        let batch = batch(&model, &ad);
        let want = param_grads(&model, (reference(&model, &ad) * loss_weights(&ad)).sum());
        let names: Vec<&str> = want.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"embed_tokens.weight"), "{names:?}");
        assert_eq!(names.contains(&"lm_head.weight"), !tied, "{names:?}");
        assert!(names.contains(&"layers.0.mlp.up_proj.weight"), "{names:?}");
        for chunk in [1, 3, N, N + 40] {
            let lp = completion_logprobs_chunked(&model, &batch, chunk);
            let got = param_grads(&model, (lp * loss_weights(&ad)).sum());
            assert_eq!(got.len(), want.len());
            let mut worst = (0.0f32, String::new());
            for ((name, g), (_, w)) in got.iter().zip(&want) {
                let scale = w.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                assert!(scale > 0.0, "{name}: zero gradient");
                // f32 sums in another order: relative to the gradient's size
                // (embedding entries reach about 2.5).
                let diff = max_abs_diff(g, w) / scale.max(1.0);
                if diff >= worst.0 {
                    worst = (diff, name.clone());
                }
            }
            eprintln!(
                "tied {tied}, chunk {chunk}: max |grad diff| / max(1, max |grad|) = {:.3e} ({})",
                worst.0, worst.1
            );
            assert!(
                worst.0 < 1e-5,
                "tied {tied}, chunk {chunk}: {} at {}",
                worst.0,
                worst.1
            );
        }
    }
}

/// Central differences on two embedding entries (the tied LM head), one untied
/// head entry and one trunk entry, against the chunked backward.
#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn chunked_gradients_match_finite_differences() {
    let ad = device().autodiff();
    let eps = 1e-2f32;
    let weights = loss_weights(&ad);
    for tied in [true, false] {
        let model = model(tied, &ad);
        let batch = batch(&model, &ad);
        let loss = |m: &Qwen3| (completion_logprobs_chunked(m, &batch, 4) * weights.clone()).sum();
        let grads = loss(&model).backward();
        type Pick = fn(&mut Qwen3) -> &mut Param<Tensor<2>>;
        let mut picks: Vec<(&str, Pick, [usize; 2])> = vec![
            ("embed_tokens", |m| &mut m.embed_tokens.weight, [11, 3]),
            ("embed_tokens", |m| &mut m.embed_tokens.weight, [42, 15]),
            (
                "layers.0.mlp.up_proj",
                |m| &mut m.layers[0].mlp.up_proj.weight,
                [2, 5],
            ),
        ];
        if !tied {
            picks.push((
                "lm_head",
                |m| &mut m.lm_head.as_mut().unwrap().weight,
                [7, 12],
            ));
        }
        for (name, pick, [r, c]) in picks {
            let mut probe = model.clone();
            let grad = to_vec(
                pick(&mut probe)
                    .val()
                    .grad(&grads)
                    .unwrap()
                    .slice(s![r..r + 1, c..c + 1]),
            )[0];
            let shifted = |sign: f32| {
                let mut m = model.clone();
                let p = pick(&mut m);
                let bump = Tensor::<2>::zeros(p.val().dims(), &ad)
                    .slice_fill(s![r..r + 1, c..c + 1], sign * eps);
                *p = p.clone().map(|t| t + bump);
                loss(&m).into_scalar::<f32>()
            };
            let fd = (shifted(1.0) - shifted(-1.0)) / (2.0 * eps);
            let err = (fd - grad).abs();
            eprintln!(
                "tied {tied}, {name}[{r},{c}]: backward {grad:.6}, finite difference {fd:.6}"
            );
            assert!(
                err < 2e-3 + 2e-2 * grad.abs(),
                "{name}[{r},{c}]: {grad} vs {fd}"
            );
        }
    }
}

/// The op alone: a frozen weight (only the hidden states want a gradient)
/// and no rows at all.
#[test]
fn op_with_frozen_weight_and_with_no_rows() {
    let ad = device().autodiff();
    ad.seed(3);
    let dist = burn::tensor::Distribution::Normal(0.0, 1.0);
    let hidden = Tensor::<2>::random([5, 4], dist, &ad).require_grad();
    let weight = Tensor::<2>::random([9, 4], dist, &ad);
    let targets = Tensor::<1, Int>::from_data([0, 8, 3, 3, 7], &ad);
    let upstream = Tensor::<1>::from_data([0.5, -1.0, 2.0, 0.0, 1.5], &ad);
    let plain = log_softmax(hidden.clone().matmul(weight.clone().transpose()), 1)
        .gather(1, targets.clone().reshape([5, 1]))
        .reshape([5]);
    let want = to_vec(
        hidden
            .grad(&(plain * upstream.clone()).sum().backward())
            .unwrap(),
    );
    let lp = target_logprobs(hidden.clone(), weight.clone(), targets, 2);
    let grads = (lp * upstream).sum().backward();
    assert!(max_abs_diff(&to_vec(hidden.grad(&grads).unwrap()), &want) < 1e-5);
    assert!(weight.grad(&grads).is_none());

    let none = target_logprobs(
        Tensor::<2>::zeros([0, 4], &ad),
        weight,
        Tensor::<1, Int>::zeros([0], &ad),
        2,
    );
    assert_eq!(none.dims(), [0]);
}

/// Chunk 0 is treated as 1 (documented on `completion_logprobs_chunked`).
#[test]
fn chunk_zero_is_treated_as_one() {
    let model = model(true, &device());
    let batch = batch(&model, &device());
    let zero = to_vec(completion_logprobs_chunked(&model, &batch, 0));
    let one = to_vec(completion_logprobs_chunked(&model, &batch, 1));
    assert_eq!(zero, one);
}
