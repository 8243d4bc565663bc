//! BF16 storage of a frozen copy (`Qwen3::with_bf16_matrices`).

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::DType;
use rzero_model::generate::DecodeHead;
use rzero_model::sampling::Sampling;
use rzero_model::{CompletionBatch, GenerateOptions, completion_logprobs, generate};

use crate::common::{device, load, max_abs_diff, single, to_vec};

/// Bytes of every float parameter, and the dtypes seen by rank.
#[derive(Default)]
struct Bytes {
    total: usize,
    matrices: Vec<DType>,
    vectors: Vec<DType>,
}

impl ModuleVisitor for Bytes {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        self.total += t.shape().num_elements() * t.dtype().size();
        if D == 2 {
            self.matrices.push(t.dtype());
        } else {
            self.vectors.push(t.dtype());
        }
    }
}

fn bytes(model: &rzero_model::Qwen3) -> Bytes {
    let mut b = Bytes::default();
    model.visit(&mut b);
    b
}

fn logprobs(model: &rzero_model::Qwen3) -> Vec<f32> {
    let prompts = vec![vec![5u32, 9, 200, 31], vec![3, 7]];
    let completions = vec![vec![8u32, 100, 4], vec![42, 17, 250, 6, 1]];
    let batch = CompletionBatch::new(model, &prompts, &completions, &device()).unwrap();
    to_vec(completion_logprobs(model, &batch))
}

/// A checkpoint stored in BF16 (as Hugging Face ships Qwen3) loses nothing:
/// logits and log-probs are the f32 model's, to the bit, at about half the
/// weight memory (the norms stay f32).
#[test]
fn bf16_matrices_of_a_bf16_checkpoint_give_the_same_bits_in_half_the_memory() {
    let (model, _) = load("qwen3_bf16_untied");
    let frozen = load("qwen3_bf16_untied").0.with_bf16_matrices();
    assert_eq!(model.matrix_dtype(), DType::F32);
    assert_eq!(frozen.matrix_dtype(), DType::BF16);
    let (full, half) = (bytes(&model), bytes(&frozen));
    assert!(half.matrices.iter().all(|d| *d == DType::BF16));
    assert!(half.vectors.iter().all(|d| *d == DType::F32));
    let ratio = half.total as f64 / full.total as f64;
    assert!((0.5..0.55).contains(&ratio), "{ratio}");

    let ids: Vec<u32> = (0..9).map(|i| (i * 41 + 3) % 384).collect();
    let (tokens, positions) = single(&ids, &device());
    let want = to_vec(model.forward(tokens.clone(), positions.clone(), None));
    let got = to_vec(frozen.forward(tokens, positions, None));
    assert_eq!(got, want);
    assert_eq!(logprobs(&frozen), logprobs(&model));
    // Decoding reads the BF16 matrices in the small-row kernel (prefill
    // widens them for the packed one): the same samples and log-probs.
    let options = GenerateOptions {
        max_new_tokens: 8,
        samples_per_prompt: 3,
        sampling: Sampling::Temperature { temperature: 1.0 },
        ..GenerateOptions::default()
    };
    let prompts = [vec![5u32, 9, 200, 31, 7], vec![3, 1]];
    let want = generate(&model, &prompts, &options, None).unwrap();
    let got = generate(&frozen, &prompts, &options, None).unwrap();
    for (a, b) in got.iter().zip(&want) {
        assert_eq!((&a.token_ids, &a.logprobs), (&b.token_ids, &b.logprobs));
    }
}

/// A model trained in f32 is rounded once: log-probs move by BF16's
/// rounding, no more, and generation (tied head) still runs.
#[test]
fn bf16_matrices_of_an_f32_model_round_its_log_probs_only_slightly() {
    let (model, _) = load("qwen3_s_tied");
    let frozen = load("qwen3_s_tied").0.with_bf16_matrices();
    let (want, got) = (logprobs(&model), logprobs(&frozen));
    let diff = max_abs_diff(&got, &want);
    assert!(diff > 0.0 && diff < 0.05, "{diff}");
    // Decoding's transposed copy of the tied head stays BF16 too.
    assert_eq!(DecodeHead::new(&frozen).weight_dtype(), Some(DType::BF16));
    assert_eq!(DecodeHead::new(&model).weight_dtype(), Some(DType::F32));
    let options = GenerateOptions {
        max_new_tokens: 5,
        ..GenerateOptions::default()
    };
    let out = generate(&frozen, &[vec![1u32, 2, 3]], &options, None).unwrap();
    assert_eq!(out[0].token_ids.len(), 5);
}
