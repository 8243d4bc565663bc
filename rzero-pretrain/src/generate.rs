//! [`LocalGenerator`]: the capability evaluation's [`Generate`] over
//! rzero-model's batched KV-cache [`generate`], on a plain (non-autodiff)
//! device. Prompts are rendered as Qwen3's chat template renders them with
//! `add_generation_prompt` (`render_prompt_chatml`, checked against the
//! template in rzero-data's fixtures).

use std::path::PathBuf;

use rzero_data::synthetic::render_prompt_chatml;
use rzero_model::sampling::{Sampling, sample_seed};
use rzero_model::{GenerateOptions, Qwen3, generate};
use tokenizers::Tokenizer;

use crate::capability::{Generate, Prompt};
use crate::error::{PretrainError, Result};
use crate::tokenizer::encode;

/// Decodes with a model and tokenizer in memory.
#[derive(Debug)]
pub struct LocalGenerator {
    /// The model, on a plain device.
    pub model: Qwen3,
    /// Its tokenizer.
    pub tokenizer: Tokenizer,
    /// The id that ends a completion.
    pub eos: u32,
    /// Prompts decoded together.
    pub batch_size: usize,
    /// The model directory, for error messages.
    pub dir: PathBuf,
}

impl Generate for LocalGenerator {
    fn generate(
        &mut self,
        prompts: &[Prompt],
        temperature: f32,
        max_new_tokens: usize,
        seed: u64,
    ) -> Result<Vec<String>> {
        let sampling = if temperature <= 0.0 {
            Sampling::Greedy
        } else {
            Sampling::Temperature { temperature }
        };
        let mut options = GenerateOptions {
            max_new_tokens,
            samples_per_prompt: 1,
            sampling,
            seed,
            eos_token_ids: vec![self.eos],
            stop_strings: Vec::new(),
        };
        // n samples of one prompt share a single prefill.
        let chunks: Vec<&[Prompt]> = match prompts.first() {
            Some(first) if prompts.iter().all(|p| p == first) => {
                options.samples_per_prompt = prompts.len();
                vec![&prompts[..1]]
            }
            _ => prompts.chunks(self.batch_size.max(1)).collect(),
        };
        let mut texts = Vec::with_capacity(prompts.len());
        for (index, chunk) in chunks.into_iter().enumerate() {
            let encoded = chunk
                .iter()
                .map(|(system, user)| {
                    encode(
                        &self.tokenizer,
                        &render_prompt_chatml(system, user),
                        &self.dir,
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            options.seed = sample_seed(seed, 0, index as u64, 0);
            for completion in generate(&self.model, &encoded, &options, None)? {
                let text = self
                    .tokenizer
                    .decode(&completion.token_ids, true)
                    .map_err(|e| PretrainError::State {
                        path: self.dir.clone(),
                        message: format!("tokenizer: {e}"),
                    })?;
                texts.push(text);
            }
        }
        Ok(texts)
    }
}
