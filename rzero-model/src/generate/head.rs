//! The LM head for decoding: [`Qwen3::logits`] through the small-row kernel.

use burn::prelude::*;

use crate::model::Qwen3;
use crate::small_matmul::{MAX_SMALL_ROWS, small_matmul, uses_small_kernel};

/// The LM head of [`generate`](super::generate): the head's weight as
/// `[hidden, vocab]` in contiguous memory, made once per generation when
/// the small-row kernel runs (a tied head is the embedding table
/// transposed, a view the kernel cannot read in place, so it is copied:
/// `vocab · hidden` floats more while generating, in the model's matrix
/// dtype: BF16 for a frozen copy, which the small-row kernel reads as is).
#[derive(Debug)]
pub struct DecodeHead {
    weight: Option<Tensor<2>>,
}

impl DecodeHead {
    /// The head of `model`.
    pub fn new(model: &Qwen3) -> Self {
        let device = model.embed_tokens.weight.device();
        if !uses_small_kernel(&device) {
            return Self { weight: None };
        }
        let weight = match &model.lm_head {
            Some(head) => head.weight.val(),
            None => {
                let table = model.embed_tokens.weight.val();
                // `from_data` would make the default f32 without the dtype.
                let dtype = table.dtype();
                Tensor::from_data(table.transpose().into_data(), (&device, dtype))
            }
        };
        Self {
            weight: Some(weight),
        }
    }

    /// The element type of the weight the small-row kernel reads (`None`
    /// where it does not run).
    pub fn weight_dtype(&self) -> Option<burn::tensor::DType> {
        self.weight.as_ref().map(Tensor::dtype)
    }

    /// Logits `[rows, vocab]` of hidden states `[rows, hidden]`, the same
    /// values as [`Qwen3::logits`] (up to float rounding).
    pub fn logits(&self, model: &Qwen3, hidden: Tensor<2>) -> Tensor<2> {
        match &self.weight {
            Some(weight) if hidden.dims()[0] <= MAX_SMALL_ROWS => {
                let out = small_matmul(hidden, weight.clone());
                match model.lm_head.as_ref().and_then(|h| h.bias.as_ref()) {
                    Some(bias) => out + bias.val().unsqueeze::<2>(),
                    None => out,
                }
            }
            _ => model.logits(hidden),
        }
    }
}
