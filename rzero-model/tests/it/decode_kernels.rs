//! The decoding kernels against burn's plain path: the small-row matmul
//! (every instruction set, odd shapes, autodiff), `project`, and the
//! preallocated KV cache with the decode attention kernel.

use burn::nn::LinearConfig;
use burn::prelude::*;
use burn::tensor::Distribution;
use rzero_model::small_matmul::kernel::{Dims, Isa, matmul};
use rzero_model::small_matmul::{project, small_matmul};

use crate::common::{device, load, max_abs_diff, to_vec};

/// Odd and decode-like shapes `(m, k, n)`.
const SHAPES: [(usize, usize, usize); 8] = [
    (1, 1, 1),
    (3, 7, 5),
    (16, 256, 768),
    (16, 128, 512),
    (9, 33, 47),
    (32, 64, 100),
    (5, 128, 31),
    (130, 40, 70),
];

fn random(shape: [usize; 2]) -> Tensor<2> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), &device())
}

/// `max |got − want| / (1 + |want|)`.
fn max_rel_diff(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / (1.0 + w.abs()))
        .fold(0.0, f32::max)
}

#[test]
fn small_matmul_matches_burn_matmul() {
    for (m, k, n) in SHAPES {
        let (x, w) = (random([m, k]), random([k, n]));
        let want = to_vec(x.clone().matmul(w.clone()));
        let got = to_vec(small_matmul(x, w));
        let diff = max_rel_diff(&got, &want);
        assert!(diff <= 1e-5, "{m}x{k}x{n}: {diff}");
    }
}

#[test]
fn every_instruction_set_matches_burn_matmul() {
    for (m, k, n) in SHAPES {
        let (x, w) = (random([m, k]), random([k, n]));
        let want = to_vec(x.clone().matmul(w.clone()));
        let (x, w) = (to_vec(x), to_vec(w));
        // An instruction set the CPU lacks falls back to the scalar tiles.
        for isa in [Isa::Avx512, Isa::Avx2Fma, Isa::Scalar] {
            let mut got = vec![f32::NAN; m * n];
            matmul(isa, &x, &w, &mut got, Dims { m, k, n });
            let diff = max_rel_diff(&got, &want);
            assert!(diff <= 1e-5, "{isa:?} {m}x{k}x{n}: {diff}");
        }
    }
}

#[test]
fn small_matmul_reads_a_transposed_weight_through_the_fallback() {
    let (x, w_t) = (random([4, 24]), random([40, 24]));
    let w = w_t.transpose();
    let want = to_vec(x.clone().matmul(w.clone()));
    let diff = max_rel_diff(&to_vec(small_matmul(x, w)), &want);
    assert!(diff <= 1e-5, "{diff}");
}

#[test]
fn small_matmul_on_autodiff_has_matmuls_values_and_gradients() {
    let ad = device().autodiff();
    let data = |shape: [usize; 2]| random(shape).into_data();
    let (xd, wd, gd) = (data([6, 10]), data([10, 7]), data([6, 7]));
    let run = |small: bool| {
        let x = Tensor::<2>::from_data(xd.clone(), &ad).require_grad();
        let w = Tensor::<2>::from_data(wd.clone(), &ad).require_grad();
        let out = if small {
            small_matmul(x.clone(), w.clone())
        } else {
            x.clone().matmul(w.clone())
        };
        let loss = (out.clone() * Tensor::<2>::from_data(gd.clone(), &ad)).sum();
        let grads = loss.backward();
        let grad = |t: &Tensor<2>| to_vec(t.grad(&grads).unwrap());
        (to_vec(out), grad(&x), grad(&w))
    };
    let (small, plain) = (run(true), run(false));
    assert!(max_rel_diff(&small.0, &plain.0) <= 1e-6);
    assert!(max_rel_diff(&small.1, &plain.1) <= 1e-6);
    assert!(max_rel_diff(&small.2, &plain.2) <= 1e-6);
}

#[test]
fn project_matches_linear_forward_with_bias_for_few_and_many_rows() {
    let linear = LinearConfig::new(24, 40).with_bias(true).init(&device());
    // 280 rows: past MAX_SMALL_ROWS, burn's matmul.
    for (batch, seq) in [(1, 1), (16, 1), (3, 5), (4, 20), (4, 70)] {
        let x = Tensor::<3>::random([batch, seq, 24], Distribution::Normal(0.0, 1.0), &device());
        let want = to_vec(linear.forward(x.clone()));
        let got = project(&linear, x);
        assert_eq!(got.dims(), [batch, seq, 40]);
        let diff = max_rel_diff(&to_vec(got), &want);
        assert!(diff <= 1e-5, "{batch}x{seq}: {diff}");
    }
}

/// `[rows, len]` int tensor.
fn ints(values: Vec<i64>, rows: usize) -> Tensor<2, Int> {
    let len = values.len() / rows;
    Tensor::from_data(TensorData::new(values, [rows, len]), &device())
}

/// Left-padded prompts decoded one token at a time through a cache with
/// `reserve` spare positions (0: the buffers regrow, by doubling, several
/// times) give each row's logits from a full forward of that row alone.
fn padded_decode_matches_recompute(fixture: &str, reserve: usize) {
    let (model, _) = load(fixture);
    let vocab = model.vocab_size();
    let rows: [Vec<i64>; 3] = [vec![5, 9, 200, 31, 7], vec![3], vec![42, 17, 250]];
    let continuation: Vec<i64> = vec![11, 12, 13, 14, 15, 16, 17, 18, 19];
    let width = 5;
    let mut tokens = Vec::new();
    let mut positions = Vec::new();
    let mut padding = Vec::new();
    for row in &rows {
        let pad = width - row.len();
        tokens.extend(std::iter::repeat_n(0, pad).chain(row.iter().copied()));
        positions.extend(std::iter::repeat_n(0, pad).chain(0..row.len() as i64));
        padding.extend((0..width).map(|i| i < pad));
    }
    let mask = Tensor::<2, Bool>::from_data(TensorData::new(padding, [3, width]), &device());
    let mut cache = model.new_cache().reserve(reserve).with_key_padding(mask);
    let _ = model.forward(ints(tokens, 3), ints(positions, 3), Some(&mut cache));
    let mut got = vec![Vec::new(); 3];
    for (step, &t) in continuation.iter().enumerate() {
        let pos: Vec<i64> = rows.iter().map(|r| (r.len() + step) as i64).collect();
        let logits = model.forward(ints(vec![t; 3], 3), ints(pos, 3), Some(&mut cache));
        let logits = to_vec(logits);
        for (r, out) in got.iter_mut().enumerate() {
            out.extend_from_slice(&logits[r * vocab..(r + 1) * vocab]);
        }
    }
    assert_eq!(cache.len(), width + continuation.len());
    for (r, row) in rows.iter().enumerate() {
        let ids: Vec<i64> = row.iter().chain(&continuation).copied().collect();
        let n = ids.len();
        let full = to_vec(model.forward(ints(ids, 1), ints((0..n as i64).collect(), 1), None));
        let want = &full[row.len() * vocab..];
        let diff = max_abs_diff(&got[r], want);
        assert!(diff < 1e-4, "{fixture} reserve {reserve} row {r}: {diff}");
    }
}

#[test]
fn padded_decode_with_a_growing_cache_matches_recompute() {
    padded_decode_matches_recompute("qwen3_s_tied", 0);
    padded_decode_matches_recompute("qwen3_bf16_untied", 0);
}

#[test]
fn padded_decode_with_a_reserved_cache_matches_recompute() {
    padded_decode_matches_recompute("qwen3_s_tied", 64);
}
