//! [`Pool`]: requests spread over several OpenAI-compatible servers.
//!
//! Each request goes to the least busy endpoint that is not benched (ties go
//! round-robin). A connection error, timeout, 408/429 or 5xx benches that
//! endpoint with exponential backoff and sends the request to another one;
//! a 4xx or malformed body is final. Every request's answer is stored once,
//! in its slot, so none is lost or counted twice; a late answer from a
//! server that timed out is dropped with its connection.

mod endpoint;

/// Checks an endpoint URL and returns its normalised base (`http://host:port`,
/// no trailing `/` or `/v1`).
pub fn check_endpoint(endpoint: &str) -> Result<String> {
    normalise(endpoint)
}

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use endpoint::{Endpoint, Failure, normalise};

use crate::error::{Result, ServeError};
use crate::protocol::{
    CompletionRequest, CompletionResponse, Prompt, UpdateWeightsRequest, UpdateWeightsResponse,
};

/// How a [`Pool`] talks to its servers.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolConfig {
    /// Base URLs, `http://host:port` (a trailing `/v1` is accepted).
    pub endpoints: Vec<String>,
    /// Limit on one HTTP request, generation included.
    pub timeout: Duration,
    /// Tries per request, the first included.
    pub max_attempts: usize,
    /// Bench time after a failure; doubles with each failure in a row.
    pub backoff: Duration,
    /// Requests in flight per endpoint (the pool runs `endpoints × this` threads).
    pub max_in_flight: usize,
}

impl PoolConfig {
    /// Defaults for `endpoints`: 10 min timeout, 4 tries, 0.5 s backoff, 4 in flight.
    pub fn new(endpoints: Vec<String>) -> Self {
        Self {
            endpoints,
            timeout: Duration::from_secs(600),
            max_attempts: 4,
            backoff: Duration::from_millis(500),
            max_in_flight: 4,
        }
    }
}

/// A set of inference servers answering `/v1/completions`.
#[derive(Debug)]
pub struct Pool {
    endpoints: Vec<Endpoint>,
    config: PoolConfig,
    agent: ureq::Agent,
    turn: AtomicUsize,
}

impl Pool {
    /// Checks the config; no connection is made yet.
    pub fn new(config: PoolConfig) -> Result<Self> {
        if config.endpoints.is_empty() {
            return Err(ServeError::BadConfig {
                reason: "no endpoints".into(),
            });
        }
        if config.max_attempts == 0 || config.max_in_flight == 0 {
            return Err(ServeError::BadConfig {
                reason: "max_attempts and max_in_flight must be at least 1".into(),
            });
        }
        let endpoints = config
            .endpoints
            .iter()
            .map(|e| normalise(e).map(Endpoint::new))
            .collect::<Result<Vec<_>>>()?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Self {
            endpoints,
            config,
            agent,
            turn: AtomicUsize::new(0),
        })
    }

    /// The normalised endpoint URLs.
    pub fn endpoints(&self) -> Vec<String> {
        self.endpoints.iter().map(|e| e.url.clone()).collect()
    }

    /// Sends every request (at most `endpoints × max_in_flight` at once) and
    /// returns the answers in request order, or the first error.
    pub fn complete_all(&self, requests: &[CompletionRequest]) -> Result<Vec<CompletionResponse>> {
        let workers = (self.endpoints.len() * self.config.max_in_flight).min(requests.len());
        let next = AtomicUsize::new(0);
        let abort = AtomicBool::new(false);
        let slots: Mutex<Vec<Option<CompletionResponse>>> = Mutex::new(vec![None; requests.len()]);
        let first_error: Mutex<Option<ServeError>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    while !abort.load(Ordering::SeqCst) {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(request) = requests.get(i) else {
                            break;
                        };
                        match self.complete(request) {
                            Ok(r) => lock(&slots)[i] = Some(r),
                            Err(e) => {
                                abort.store(true, Ordering::SeqCst);
                                lock(&first_error).get_or_insert(e);
                            }
                        }
                    }
                });
            }
        });
        if let Some(e) = lock(&first_error).take() {
            return Err(e);
        }
        let slots = std::mem::take(&mut *lock(&slots));
        slots
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ServeError::BadConfig {
                reason: "a request was never sent (internal error)".into(),
            })
    }

    /// Sends one request, retrying on other endpoints; checks that it got
    /// `prompts × n` choices and returns them sorted by index.
    pub fn complete(&self, request: &CompletionRequest) -> Result<CompletionResponse> {
        let mut avoid = None;
        let mut last = None;
        for attempt in 1..=self.config.max_attempts {
            let e = self.pick(avoid);
            let endpoint = &self.endpoints[e];
            if let Some(until) = endpoint.down_until(Instant::now()) {
                std::thread::sleep(until.saturating_duration_since(Instant::now()));
            }
            match endpoint.post(&self.agent, request) {
                Ok(response) => {
                    endpoint.mark_ok();
                    return checked(response, request, &endpoint.url);
                }
                Err(Failure::Fatal(err)) => return Err(err),
                Err(Failure::Retry(msg)) => {
                    tracing::warn!(endpoint = %endpoint.url, attempt, error = %msg, "completion request failed; retrying");
                    endpoint.mark_failed(msg.clone(), self.config.backoff);
                    avoid = Some(e);
                    last = Some((endpoint.url.clone(), msg));
                }
            }
        }
        let attempts = self.config.max_attempts;
        if self.endpoints.iter().all(Endpoint::is_failing) {
            let failures = self
                .endpoints
                .iter()
                .map(|e| (e.url.clone(), e.last_error().unwrap_or_default()))
                .collect();
            return Err(ServeError::AllDown { attempts, failures });
        }
        let (endpoint, last_error) = last.unwrap_or_default();
        Err(ServeError::RetriesExhausted {
            attempts,
            endpoint,
            last_error,
        })
    }

    /// Asks every endpoint to load the HF directory `model_path` with
    /// SGLang's `/update_weights_from_disk` (which `rzero serve` also
    /// serves); returns the endpoints that now serve it. Unreachable ones
    /// are left out (the caller must not sample from them: they hold older
    /// weights); [`ServeError::AllDown`] when none answered, and a server
    /// that answers but cannot load the directory is an error.
    pub fn update_weights(&self, model_path: &str) -> Result<Vec<String>> {
        let request = UpdateWeightsRequest {
            model_path: model_path.to_string(),
        };
        let mut unreachable = Vec::new();
        let mut loaded = Vec::new();
        for endpoint in &self.endpoints {
            let failed = |reason: String| ServeError::BadResponse {
                endpoint: endpoint.url.clone(),
                reason: format!("loading {model_path}: {reason}"),
            };
            let path = "/update_weights_from_disk";
            let body = match endpoint.post_json(&self.agent, path, &request) {
                Ok(body) => body,
                Err(Failure::Retry(reason)) => {
                    unreachable.push((endpoint.url.clone(), reason));
                    continue;
                }
                Err(Failure::Fatal(e)) => return Err(e),
            };
            let answer: UpdateWeightsResponse =
                serde_json::from_str(&body).map_err(|e| failed(e.to_string()))?;
            if !answer.success {
                return Err(failed(answer.message));
            }
            loaded.push(endpoint.url.clone());
        }
        if loaded.is_empty() {
            return Err(ServeError::AllDown {
                attempts: 1,
                failures: unreachable,
            });
        }
        for (endpoint, reason) in &unreachable {
            tracing::warn!(%endpoint, %reason, model_path, "endpoint unreachable: left out until it takes new weights");
        }
        Ok(loaded)
    }

    /// The endpoint to try: not benched first, then least busy, then the
    /// next in round-robin order; `avoid` (the one that just failed) only
    /// when it is the sole choice.
    fn pick(&self, avoid: Option<usize>) -> usize {
        let now = Instant::now();
        let count = self.endpoints.len();
        let start = self.turn.fetch_add(1, Ordering::SeqCst) % count;
        (0..count)
            .map(|k| (start + k) % count)
            .min_by_key(|&i| {
                let e = &self.endpoints[i];
                let benched = e.down_until(now);
                (
                    Some(i) == avoid && count > 1,
                    benched.is_some(),
                    benched,
                    e.in_flight(),
                )
            })
            .unwrap_or(0)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Checks that the response has one choice per (prompt, sample), each index
/// once, and sorts them by index.
fn checked(
    mut response: CompletionResponse,
    request: &CompletionRequest,
    endpoint: &str,
) -> Result<CompletionResponse> {
    let prompts = match &request.prompt {
        Some(Prompt::TokenIdBatch(b)) => b.len(),
        Some(Prompt::TextBatch(b)) => b.len(),
        _ => 1,
    };
    let want = prompts * request.n.unwrap_or(1);
    response.choices.sort_by_key(|c| c.index);
    let indices_ok = response
        .choices
        .iter()
        .enumerate()
        .all(|(k, c)| c.index == k);
    if response.choices.len() != want || !indices_ok {
        let got: Vec<usize> = response.choices.iter().map(|c| c.index).collect();
        return Err(ServeError::BadResponse {
            endpoint: endpoint.to_string(),
            reason: format!("expected choices 0..{want}, got indices {got:?}"),
        });
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Choice;

    fn choice(index: usize) -> Choice {
        Choice {
            index,
            text: String::new(),
            logprobs: None,
            finish_reason: Some("length".into()),
            stop_reason: None,
            token_ids: None,
        }
    }

    fn response(indices: &[usize]) -> CompletionResponse {
        CompletionResponse {
            id: "x".into(),
            object: "text_completion".into(),
            created: 0,
            model: "m".into(),
            choices: indices.iter().map(|&i| choice(i)).collect(),
            usage: None,
        }
    }

    #[test]
    fn choices_are_sorted_and_must_cover_every_sample_once() {
        let request = CompletionRequest {
            n: Some(3),
            ..CompletionRequest::default()
        };
        let ok = checked(response(&[2, 0, 1]), &request, "http://a").unwrap();
        assert_eq!(
            ok.choices.iter().map(|c| c.index).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        for bad in [&[0, 1][..], &[0, 1, 1], &[0, 1, 2, 3]] {
            let err = checked(response(bad), &request, "http://a").unwrap_err();
            assert!(err.to_string().contains("http://a"), "{err}");
        }
    }

    #[test]
    fn picking_skips_the_failed_and_benched_endpoints() {
        let mut config = PoolConfig::new(vec!["http://a".into(), "http://b".into()]);
        config.backoff = Duration::from_secs(60);
        let pool = Pool::new(config).unwrap();
        for _ in 0..4 {
            assert_eq!(pool.pick(Some(0)), 1);
        }
        pool.endpoints[1].mark_failed("down".into(), Duration::from_secs(60));
        for _ in 0..4 {
            assert_eq!(pool.pick(None), 0);
        }
    }

    #[test]
    fn an_empty_pool_is_a_config_error() {
        let err = Pool::new(PoolConfig::new(Vec::new())).unwrap_err();
        assert!(err.to_string().contains("no endpoints"), "{err}");
    }
}
