//! The OpenAI-compatible `/v1/completions` request and response bodies, as
//! vLLM and SGLang serve them (vLLM's `CompletionRequest` /
//! `CompletionResponse` in `vllm/entrypoints/openai/completion/protocol.py`).
//!
//! Only the fields rzero uses are typed; responses may carry more (vLLM adds
//! `prompt_logprobs`, `kv_transfer_params`, …) and those are ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The prompt of a request: text or token ids, one or a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Prompt {
    /// One prompt as token ids (what rzero sends: no re-tokenisation).
    TokenIds(Vec<u32>),
    /// Several prompts as token ids.
    TokenIdBatch(Vec<Vec<u32>>),
    /// One prompt as text.
    Text(String),
    /// Several prompts as text.
    TextBatch(Vec<String>),
}

/// `stop`: one string or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    /// One stop string.
    One(String),
    /// Several stop strings.
    Many(Vec<String>),
}

impl Stop {
    /// The stop strings as a list.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Stop::One(s) => vec![s.clone()],
            Stop::Many(v) => v.clone(),
        }
    }
}

/// A `/v1/completions` request. `None` fields take the server's default
/// (vLLM: `n = 1`, `max_tokens = 16`, `temperature = 1`, `top_p = 1`,
/// `top_k = -1` off).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CompletionRequest {
    /// Served model name; vLLM and `rzero serve` accept any when one model is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The prompt(s).
    pub prompt: Option<Prompt>,
    /// Samples per prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    /// Most tokens generated per sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<usize>,
    /// Softmax temperature; 0 is greedy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus mass; 1 is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Top-k (a vLLM/SGLang extension); -1 (or 0 in older vLLM) is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<i32>,
    /// Stop strings (not included in the text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Seed of this request's sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Top alternatives per token; `Some(0)` returns only the sampled token's log-prob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<u32>,
    /// vLLM: write logprob tokens as `token_id:N` so ids survive the trip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_tokens_as_token_ids: Option<bool>,
    /// Streaming is not supported by `rzero serve` or used by the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
}

/// Per-token log-probs of one choice (legacy completions format).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Logprobs {
    /// Character offset of each token in the text.
    #[serde(default)]
    pub text_offset: Vec<usize>,
    /// `log p(token)` of each sampled token (`null` for an echoed first prompt token).
    #[serde(default)]
    pub token_logprobs: Vec<Option<f32>>,
    /// Each token as text, or `token_id:N`.
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Top alternatives at each position, when asked for.
    #[serde(default)]
    pub top_logprobs: Vec<Option<BTreeMap<String, f32>>>,
}

/// One generated sample. For a batch of `P` prompts with `n` samples each,
/// `index = prompt · n + sample`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Position among the response's choices.
    pub index: usize,
    /// Generated text (special tokens skipped, stop string excluded).
    pub text: String,
    /// Per-token log-probs, when asked for.
    #[serde(default)]
    pub logprobs: Option<Logprobs>,
    /// `"stop"` (EOS or stop string) or `"length"`.
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// vLLM: the stop string that matched, or `null` for EOS.
    #[serde(default)]
    pub stop_reason: Option<serde_json::Value>,
    /// Generated token ids (vLLM ≥ 0.10 with `return_token_ids`; `rzero serve` always).
    #[serde(default)]
    pub token_ids: Option<Vec<u32>>,
}

/// Token counts of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens (counted once per prompt).
    pub prompt_tokens: usize,
    /// Generated tokens over all choices.
    pub completion_tokens: usize,
    /// Their sum.
    pub total_tokens: usize,
}

/// A `/v1/completions` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionResponse {
    /// Request id.
    pub id: String,
    /// Always `"text_completion"`.
    pub object: String,
    /// Unix time.
    pub created: u64,
    /// Served model name.
    pub model: String,
    /// The samples.
    pub choices: Vec<Choice>,
    /// Token counts.
    #[serde(default)]
    pub usage: Option<Usage>,
}

/// One entry of `/v1/models`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Model name to send as `model`.
    pub id: String,
    /// Always `"model"`.
    pub object: String,
    /// Unix time of loading.
    pub created: u64,
    /// Owner label.
    pub owned_by: String,
    /// The weights directory (vLLM's `root`).
    #[serde(default)]
    pub root: Option<String>,
}

/// The `/v1/models` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelList {
    /// Always `"list"`.
    pub object: String,
    /// The served models.
    pub data: Vec<ModelCard>,
}

/// SGLang's `/update_weights_from_disk` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateWeightsRequest {
    /// HF model directory with the new weights.
    pub model_path: String,
}

/// SGLang's `/update_weights_from_disk` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateWeightsResponse {
    /// Whether the new weights are now served.
    pub success: bool,
    /// What happened.
    pub message: String,
}

/// The OpenAI error body: `{"error": {"message", "type", "code"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Inside [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Human-readable reason.
    pub message: String,
    /// `"invalid_request_error"`, `"server_error"`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// HTTP status.
    pub code: u16,
}

/// The token id in a logprobs token written as `token_id:N` (vLLM's
/// `return_tokens_as_token_ids`), if it is one.
pub fn parse_token_id(token: &str) -> Option<u32> {
    token.strip_prefix("token_id:")?.parse().ok()
}

/// `token_id:N`, the inverse of [`parse_token_id`].
pub fn token_id_string(id: u32) -> String {
    format!("token_id:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ids_round_trip_and_plain_tokens_are_not_ids() {
        assert_eq!(parse_token_id(&token_id_string(151_645)), Some(151_645));
        assert_eq!(parse_token_id("7"), None);
        assert_eq!(parse_token_id("token_id:x"), None);
    }

    #[test]
    fn prompt_forms_parse_as_vllm_accepts_them() {
        let p = |s: &str| serde_json::from_str::<Prompt>(s).unwrap();
        assert_eq!(p("[1, 2]"), Prompt::TokenIds(vec![1, 2]));
        assert_eq!(
            p("[[1], [2]]"),
            Prompt::TokenIdBatch(vec![vec![1], vec![2]])
        );
        assert_eq!(p("\"hi\""), Prompt::Text("hi".into()));
        assert_eq!(
            p("[\"a\", \"b\"]"),
            Prompt::TextBatch(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn unset_fields_are_left_out_of_the_request() {
        let r = CompletionRequest {
            prompt: Some(Prompt::TokenIds(vec![3])),
            n: Some(2),
            ..CompletionRequest::default()
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v, serde_json::json!({"prompt": [3], "n": 2}));
    }
}
