//! Turning a request into engine jobs and completions into a response body.

use rzero_model::sampling::Sampling;
use rzero_model::tokenizer::Tokenizer;
use rzero_model::{Completion, FinishReason, GenerateOptions};

use crate::protocol::{
    Choice, CompletionRequest, CompletionResponse, Logprobs, Prompt, Usage, token_id_string,
};

/// vLLM's default `max_tokens`.
const DEFAULT_MAX_TOKENS: usize = 16;

/// A request the server cannot serve; becomes HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadRequest(pub(crate) String);

/// The prompts of a request as token ids.
pub(crate) fn prompt_ids(
    prompt: Option<&Prompt>,
    tokenizer: &Tokenizer,
) -> Result<Vec<Vec<u32>>, BadRequest> {
    let encode = |text: &str| {
        tokenizer
            .encode(text)
            .map_err(|e| BadRequest(format!("tokenizing the prompt: {e}")))
    };
    let prompts = match prompt {
        None => return Err(BadRequest("`prompt` is required".into())),
        Some(Prompt::TokenIds(ids)) => vec![ids.clone()],
        Some(Prompt::TokenIdBatch(batch)) => batch.clone(),
        Some(Prompt::Text(text)) => vec![encode(text)?],
        Some(Prompt::TextBatch(texts)) => {
            texts.iter().map(|t| encode(t)).collect::<Result<_, _>>()?
        }
    };
    if prompts.is_empty() || prompts.iter().any(Vec::is_empty) {
        return Err(BadRequest("empty prompt".into()));
    }
    Ok(prompts)
}

/// Generation settings of a request (`seed` is carried per prompt instead).
pub(crate) fn options(
    request: &CompletionRequest,
    tokenizer: &Tokenizer,
) -> Result<GenerateOptions, BadRequest> {
    if request.stream == Some(true) {
        return Err(BadRequest(
            "`stream: true` is not supported by rzero serve".into(),
        ));
    }
    if request.logprobs.is_some_and(|k| k > 0) {
        return Err(BadRequest(
            "`logprobs` above 0 (top alternatives) is not supported; use 0 for the sampled tokens' log-probs".into(),
        ));
    }
    let n = request.n.unwrap_or(1);
    if n == 0 {
        return Err(BadRequest("`n` must be at least 1".into()));
    }
    // Older vLLM used 0 for "top-k off"; both 0 and -1 mean off here.
    let top_k = request.top_k.unwrap_or(-1);
    let sampling = Sampling::from_vllm(
        request.temperature.unwrap_or(1.0),
        request.top_p.unwrap_or(1.0),
        i64::from(if top_k == 0 { -1 } else { top_k }),
    )
    .map_err(|e| BadRequest(e.to_string()))?;
    Ok(GenerateOptions {
        max_new_tokens: request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        samples_per_prompt: n,
        sampling,
        seed: 0,
        eos_token_ids: tokenizer.eos_token_ids().to_vec(),
        stop_strings: request
            .stop
            .as_ref()
            .map(|s| s.to_vec())
            .unwrap_or_default(),
    })
}

/// The seed of each of `count` prompts: the request's seed for the first
/// (rzero sends one prompt per request), then `seed + p`.
pub(crate) fn prompt_seeds(seed: u64, count: usize) -> Vec<u64> {
    (0..count as u64).map(|p| seed.wrapping_add(p)).collect()
}

/// The response body for `completions` (prompt-major, as generated).
pub(crate) fn response(
    request: &CompletionRequest,
    completions: &[Completion],
    prompt_tokens: usize,
    model: &str,
    tokenizer: &Tokenizer,
    id: String,
    created: u64,
) -> CompletionResponse {
    let as_ids = request.return_tokens_as_token_ids == Some(true);
    let stops = request
        .stop
        .as_ref()
        .map(|s| s.to_vec())
        .unwrap_or_default();
    let choices = completions
        .iter()
        .enumerate()
        .map(|(index, c)| Choice {
            index,
            text: c.text.clone().unwrap_or_default(),
            logprobs: request.logprobs.map(|_| logprobs(c, as_ids, tokenizer)),
            finish_reason: Some(
                match c.finish_reason {
                    FinishReason::Length => "length",
                    FinishReason::Eos | FinishReason::StopString => "stop",
                }
                .into(),
            ),
            stop_reason: stop_reason(c, &stops, tokenizer),
            token_ids: Some(c.token_ids.clone()),
        })
        .collect();
    let completion_tokens = completions.iter().map(|c| c.token_ids.len()).sum();
    CompletionResponse {
        id,
        object: "text_completion".into(),
        created,
        model: model.to_string(),
        choices,
        usage: Some(Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
        }),
    }
}

fn logprobs(c: &Completion, as_ids: bool, tokenizer: &Tokenizer) -> Logprobs {
    let tokens: Vec<String> = c
        .token_ids
        .iter()
        .map(|&id| {
            if as_ids {
                token_id_string(id)
            } else {
                tokenizer
                    .decode(&[id], false)
                    .unwrap_or_else(|_| token_id_string(id))
            }
        })
        .collect();
    let mut offset = 0;
    let text_offset = tokens
        .iter()
        .map(|t| {
            let here = offset;
            offset += t.len();
            here
        })
        .collect();
    Logprobs {
        text_offset,
        token_logprobs: c.logprobs.iter().map(|&lp| Some(lp)).collect(),
        tokens,
        top_logprobs: Vec::new(),
    }
}

/// vLLM's `stop_reason`: the stop string that ended the sample, `null` for
/// EOS or length.
fn stop_reason(
    c: &Completion,
    stops: &[String],
    tokenizer: &Tokenizer,
) -> Option<serde_json::Value> {
    if c.finish_reason != FinishReason::StopString {
        return None;
    }
    let full = tokenizer.decode(&c.token_ids, true).ok()?;
    let cut = c.text.as_deref().unwrap_or("").len();
    stops
        .iter()
        .find(|s| {
            full.get(cut..)
                .is_some_and(|rest| rest.starts_with(s.as_str()))
        })
        .map(|s| serde_json::Value::String(s.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_prompt_of_a_batch_gets_its_own_seed() {
        assert_eq!(prompt_seeds(7, 3), [7, 8, 9]);
        assert_eq!(prompt_seeds(u64::MAX, 2), [u64::MAX, 0]);
    }
}
