//! [`RemoteSampler`]: the [`Sampler`] of a role served by OpenAI-compatible
//! servers. One `/v1/completions` request per prompt, with `n` samples and
//! the prompt's seed (`SampleRequest::prompt_seeds`), so `rzero serve`
//! draws what the local model would.

use std::time::Duration;

use rzero_model::{Completion, FinishReason};
use rzero_serve::protocol::{Choice, CompletionRequest, Prompt, parse_token_id};
use rzero_serve::{Pool, PoolConfig, ServeError};

use crate::error::{CoreError, Result};
use crate::inference::{Backend, ClientSettings};
use crate::policy::{SampleRequest, Sampler};

/// A role sampled on servers.
#[derive(Debug)]
pub struct RemoteSampler {
    role: &'static str,
    pool: Pool,
    model: Option<String>,
    /// Token ids and log-probs are needed (GRPO rollouts), not just text.
    with_logprobs: bool,
}

impl RemoteSampler {
    /// A sampler for `role` (its config key, for errors) over `backend`.
    pub fn new(
        role: &'static str,
        backend: &Backend,
        client: &ClientSettings,
        with_logprobs: bool,
    ) -> Result<Self> {
        let config = PoolConfig {
            endpoints: backend.endpoints.clone(),
            timeout: Duration::from_secs_f64(client.timeout_secs),
            max_attempts: client.max_attempts,
            backoff: Duration::from_millis(client.backoff_ms),
            max_in_flight: client.max_in_flight,
        };
        let pool = Pool::new(config).map_err(|source| CoreError::Remote {
            role,
            source: Box::new(source),
        })?;
        Ok(Self {
            role,
            pool,
            model: backend.model.clone(),
            with_logprobs,
        })
    }

    /// Asks every endpoint to load `dir` (SGLang's `/update_weights_from_disk`);
    /// returns the endpoints that now serve it.
    pub fn update_weights(&self, dir: &std::path::Path) -> Result<Vec<String>> {
        self.pool
            .update_weights(&dir.display().to_string())
            .map_err(|source| CoreError::Remote {
                role: self.role,
                source: Box::new(source),
            })
    }

    fn request(&self, request: &SampleRequest, prompt: &[u32], seed: u64) -> CompletionRequest {
        let s = &request.sampling;
        CompletionRequest {
            model: self.model.clone(),
            prompt: Some(Prompt::TokenIds(prompt.to_vec())),
            n: Some(request.n),
            max_tokens: Some(s.max_new_tokens),
            temperature: Some(s.temperature),
            top_p: Some(s.top_p),
            top_k: Some(s.top_k),
            seed: Some(seed),
            logprobs: self.with_logprobs.then_some(0),
            return_tokens_as_token_ids: self.with_logprobs.then_some(true),
            ..CompletionRequest::default()
        }
    }

    fn completion(
        &self,
        prompt_index: usize,
        choice: &Choice,
        endpoint_hint: &str,
    ) -> Result<Completion> {
        let bad = |reason: String| CoreError::Remote {
            role: self.role,
            source: Box::new(ServeError::BadResponse {
                endpoint: endpoint_hint.to_string(),
                reason,
            }),
        };
        let (token_ids, logprobs) = if self.with_logprobs {
            tokens_and_logprobs(choice).map_err(bad)?
        } else {
            (choice.token_ids.clone().unwrap_or_default(), Vec::new())
        };
        Ok(Completion {
            prompt_index,
            sample_index: choice.index,
            token_ids,
            text: Some(choice.text.clone()),
            logprobs,
            finish_reason: finish_reason(choice),
        })
    }
}

impl Sampler for RemoteSampler {
    fn sample(&self, request: &SampleRequest) -> Result<Vec<Completion>> {
        let requests: Vec<CompletionRequest> = request
            .prompts
            .iter()
            .zip(request.prompt_seeds())
            .map(|(prompt, seed)| self.request(request, prompt, seed))
            .collect();
        let responses = self
            .pool
            .complete_all(&requests)
            .map_err(|source| CoreError::Remote {
                role: self.role,
                source: Box::new(source),
            })?;
        let hint = self.pool.endpoints().join(", ");
        let mut out = Vec::with_capacity(request.prompts.len() * request.n);
        for (p, response) in responses.iter().enumerate() {
            for choice in &response.choices {
                out.push(self.completion(p, choice, &hint)?);
            }
        }
        Ok(out)
    }
}

/// Token ids (from `token_ids`, else `token_id:N` logprob tokens) and the
/// sampled tokens' log-probs, which must match in length.
fn tokens_and_logprobs(choice: &Choice) -> std::result::Result<(Vec<u32>, Vec<f32>), String> {
    let lp = choice
        .logprobs
        .as_ref()
        .ok_or("no `logprobs` in the choice (the server ignored `logprobs: 0`)")?;
    let ids = match &choice.token_ids {
        Some(ids) => ids.clone(),
        None => lp
            .tokens
            .iter()
            .map(|t| parse_token_id(t))
            .collect::<Option<Vec<u32>>>()
            .ok_or("logprob tokens are not `token_id:N` (the server ignored `return_tokens_as_token_ids`)")?,
    };
    let logprobs = lp
        .token_logprobs
        .iter()
        .map(|x| x.ok_or("a sampled token has a null log-prob"))
        .collect::<std::result::Result<Vec<f32>, _>>()?;
    if logprobs.len() != ids.len() {
        return Err(format!(
            "{} token ids but {} log-probs",
            ids.len(),
            logprobs.len()
        ));
    }
    Ok((ids, logprobs))
}

/// vLLM: `"length"`, or `"stop"` with `stop_reason` a string (stop string)
/// or null/an id (EOS or a stop token).
fn finish_reason(choice: &Choice) -> FinishReason {
    match (choice.finish_reason.as_deref(), &choice.stop_reason) {
        (Some("length"), _) => FinishReason::Length,
        (_, Some(serde_json::Value::String(_))) => FinishReason::StopString,
        _ => FinishReason::Eos,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rzero_serve::protocol::Logprobs;

    fn choice(tokens: &[&str], lps: &[Option<f32>], ids: Option<Vec<u32>>) -> Choice {
        Choice {
            index: 0,
            text: "x".into(),
            logprobs: Some(Logprobs {
                tokens: tokens.iter().map(|t| t.to_string()).collect(),
                token_logprobs: lps.to_vec(),
                ..Logprobs::default()
            }),
            finish_reason: Some("stop".into()),
            stop_reason: None,
            token_ids: ids,
        }
    }

    #[test]
    fn token_ids_come_from_token_id_strings_or_the_token_ids_field() {
        let c = choice(
            &["token_id:5", "token_id:9"],
            &[Some(-0.5), Some(-1.0)],
            None,
        );
        assert_eq!(
            tokens_and_logprobs(&c).unwrap(),
            (vec![5, 9], vec![-0.5, -1.0])
        );
        let c = choice(&["a", "b"], &[Some(-0.5), Some(-1.0)], Some(vec![3, 4]));
        assert_eq!(tokens_and_logprobs(&c).unwrap().0, [3, 4]);
        assert_eq!(finish_reason(&c), FinishReason::Eos);
    }

    #[test]
    fn missing_ids_or_mismatched_logprobs_are_errors() {
        let plain = choice(&["a"], &[Some(-0.5)], None);
        assert!(
            tokens_and_logprobs(&plain)
                .unwrap_err()
                .contains("return_tokens_as_token_ids")
        );
        let short = choice(&["token_id:1", "token_id:2"], &[Some(-0.5)], None);
        assert!(
            tokens_and_logprobs(&short)
                .unwrap_err()
                .contains("2 token ids but 1")
        );
        let null = choice(&["token_id:1"], &[None], None);
        assert!(tokens_and_logprobs(&null).is_err());
    }
}
