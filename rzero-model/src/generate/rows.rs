//! Per-sample decoding state.

use super::{Completion, FinishReason, GenerateOptions, TextDecoder};
use crate::error::Result;
use crate::sampling::Sampler;

/// One sample being generated.
#[derive(Debug)]
pub(super) struct Row {
    prompt_index: usize,
    sample_index: usize,
    /// RoPE position of the next token.
    position: usize,
    sampler: Sampler,
    tokens: Vec<u32>,
    logprobs: Vec<f32>,
    /// Text cut before a stop string, when one ended the row.
    stopped_text: Option<String>,
    pub(super) finished: Option<FinishReason>,
}

impl Row {
    pub(super) fn new(
        prompt_index: usize,
        sample_index: usize,
        prompt_len: usize,
        sampler: Sampler,
    ) -> Self {
        Self {
            prompt_index,
            sample_index,
            position: prompt_len,
            sampler,
            tokens: Vec::new(),
            logprobs: Vec::new(),
            stopped_text: None,
            finished: None,
        }
    }

    /// Chooses the next token from `logits` and decides whether the row ends.
    pub(super) fn step(
        &mut self,
        logits: &[f32],
        options: &GenerateOptions,
        decoder: Option<&dyn TextDecoder>,
        max_len: usize,
    ) -> Result<()> {
        let token = self.sampler.sample(logits);
        self.tokens.push(token);
        self.logprobs.push(log_softmax_at(logits, token));
        self.position += 1;
        if options.eos_token_ids.contains(&token) {
            self.finished = Some(FinishReason::Eos);
            return Ok(());
        }
        if let (false, Some(decoder)) = (options.stop_strings.is_empty(), decoder) {
            let text = decoder.decode_text(&self.tokens)?;
            let cut = options
                .stop_strings
                .iter()
                .filter_map(|s| text.find(s.as_str()))
                .min();
            if let Some(cut) = cut {
                self.stopped_text = Some(text[..cut].to_string());
                self.finished = Some(FinishReason::StopString);
                return Ok(());
            }
        }
        if self.tokens.len() >= options.max_new_tokens || self.position >= max_len {
            self.finished = Some(FinishReason::Length);
        }
        Ok(())
    }

    /// `(token, position)` to feed next.
    pub(super) fn next_input(&self) -> (i64, i64) {
        let token = self.tokens.last().copied().unwrap_or(0);
        (i64::from(token), self.position as i64 - 1)
    }

    pub(super) fn finish(self, reason: FinishReason, text: Option<String>) -> Completion {
        Completion {
            prompt_index: self.prompt_index,
            sample_index: self.sample_index,
            token_ids: self.tokens,
            text,
            logprobs: self.logprobs,
            finish_reason: reason,
        }
    }

    pub(super) fn into_completion(
        mut self,
        decoder: Option<&dyn TextDecoder>,
    ) -> Result<Completion> {
        let text = match (self.stopped_text.take(), decoder) {
            (Some(text), _) => Some(text),
            (None, Some(d)) => Some(d.decode_text(&self.tokens)?),
            (None, None) => None,
        };
        let reason = self.finished.unwrap_or(FinishReason::Length);
        Ok(self.finish(reason, text))
    }
}

/// `log softmax(logits)[token]`: `(l_token − max) − ln Σ exp(l − max)`.
///
/// The exponentials use the vectorisable polynomial `exp` of the decode
/// attention (2 ulp); each block of 64 is summed in eight f32 lanes and the
/// blocks in f64, so the sum's relative error stays near 1e-7 for any
/// vocabulary. NaN logits count as `-inf` in the sum.
pub(crate) fn log_softmax_at(logits: &[f32], token: u32) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f64;
    for block in logits.chunks(64) {
        let mut lanes = [0.0f32; 8];
        let (full, tail) = block.split_at(block.len() / 8 * 8);
        for chunk in full.chunks_exact(8) {
            for (lane, &l) in lanes.iter_mut().zip(chunk) {
                *lane += exp_or_zero(l - max);
            }
        }
        let tail: f32 = tail.iter().map(|&l| exp_or_zero(l - max)).sum();
        sum += f64::from(lanes.iter().sum::<f32>() + tail);
    }
    let chosen = logits
        .get(token as usize)
        .copied()
        .unwrap_or(f32::NEG_INFINITY);
    (f64::from(chosen - max) - sum.ln()) as f32
}

/// `exp(x)` for `x ≤ 0`, exactly 0 for `-inf` and NaN.
fn exp_or_zero(x: f32) -> f32 {
    if x >= -87.0 {
        crate::fused::exp(x)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::log_softmax_at;

    #[test]
    fn log_softmax_at_matches_an_f64_reference() {
        for vocab in [1usize, 7, 64, 513, 2048] {
            let logits: Vec<f32> = (0..vocab)
                .map(|i| 6.0 * ((i as f32) * 0.618).sin() - if i % 5 == 0 { 30.0 } else { 0.0 })
                .collect();
            let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
            for token in [0, vocab / 2, vocab - 1] {
                let want = f64::from(logits[token] - max) - sum.ln();
                let got = f64::from(log_softmax_at(&logits, token as u32));
                assert!(
                    (got - want).abs() < 1e-5,
                    "{vocab} {token}: {got} vs {want}"
                );
            }
        }
        let with_inf = [f32::NEG_INFINITY, 0.0, f32::NAN, 0.0];
        assert!((log_softmax_at(&with_inf, 1) - 0.5f32.ln()).abs() < 1e-6);
        assert_eq!(log_softmax_at(&with_inf, 0), f32::NEG_INFINITY);
    }
}
