//! One inference server: its base URL, health and in-flight count, and the
//! HTTP call itself.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::error::ServeError;
use crate::protocol::{CompletionRequest, CompletionResponse};

/// Largest response body read (n samples × long completions with log-probs).
const BODY_LIMIT: u64 = 256 << 20;

/// Why one try failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The server is down, overloaded or too slow: try again, elsewhere.
    Retry(String),
    /// The answer is final (a 4xx, a malformed body): retrying cannot help.
    Fatal(ServeError),
}

#[derive(Debug, Default)]
struct Health {
    consecutive_failures: u32,
    down_until: Option<Instant>,
    last_error: Option<String>,
}

/// A server of the pool.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// Base URL without a trailing `/` or `/v1`.
    pub(crate) url: String,
    in_flight: AtomicUsize,
    health: Mutex<Health>,
}

/// Checks and normalises `http://host:port[/prefix][/v1][/]`.
pub(crate) fn normalise(endpoint: &str) -> Result<String, ServeError> {
    let bad = |reason: &str| ServeError::BadEndpoint {
        endpoint: endpoint.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = endpoint.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/v1").unwrap_or(trimmed);
    if trimmed.starts_with("https://") {
        return Err(bad(
            "https is not supported (no TLS in rzero-serve): reach the server over http on a private network",
        ));
    }
    let Some(rest) = trimmed.strip_prefix("http://") else {
        return Err(bad("must start with http://"));
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(bad("no host"));
    }
    Ok(trimmed.to_string())
}

impl Endpoint {
    pub(crate) fn new(url: String) -> Self {
        Self {
            url,
            in_flight: AtomicUsize::new(0),
            health: Mutex::new(Health::default()),
        }
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        // A poisoned lock only means another worker panicked mid-update of
        // plain counters; the data is still usable.
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// When it may be tried again (`None`: now).
    pub(crate) fn down_until(&self, now: Instant) -> Option<Instant> {
        self.health().down_until.filter(|&t| t > now)
    }

    /// Whether its latest try failed.
    pub(crate) fn is_failing(&self) -> bool {
        self.health().consecutive_failures > 0
    }

    pub(crate) fn last_error(&self) -> Option<String> {
        self.health().last_error.clone()
    }

    pub(crate) fn mark_ok(&self) {
        let mut h = self.health();
        h.consecutive_failures = 0;
        h.down_until = None;
    }

    /// Records a failure and benches the endpoint for `backoff · 2^(k−1)`
    /// after its k-th failure in a row (at most 64 × `backoff`).
    pub(crate) fn mark_failed(&self, error: String, backoff: Duration) {
        let mut h = self.health();
        h.consecutive_failures += 1;
        let factor = 1u32 << (h.consecutive_failures - 1).min(6);
        h.down_until = Some(Instant::now() + backoff * factor);
        h.last_error = Some(error);
    }

    /// One POST to `/v1/completions`.
    pub(crate) fn post(
        &self,
        agent: &ureq::Agent,
        request: &CompletionRequest,
    ) -> Result<CompletionResponse, Failure> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let result = self.post_counted(agent, request);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        result
    }

    fn post_counted(
        &self,
        agent: &ureq::Agent,
        request: &CompletionRequest,
    ) -> Result<CompletionResponse, Failure> {
        let body = self.post_json(agent, "/v1/completions", request)?;
        serde_json::from_str(&body).map_err(|e| {
            Failure::Fatal(ServeError::BadResponse {
                endpoint: self.url.clone(),
                reason: format!("not a completions body ({e}): {}", snippet(&body)),
            })
        })
    }

    /// POSTs `body` as JSON to `path`; returns the 200 body.
    pub(crate) fn post_json<T: serde::Serialize>(
        &self,
        agent: &ureq::Agent,
        path: &str,
        body: &T,
    ) -> Result<String, Failure> {
        let url = format!("{}{path}", self.url);
        let mut response = agent
            .post(&url)
            .send_json(body)
            .map_err(|e| Failure::Retry(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_string()
            .map_err(|e| Failure::Retry(format!("reading the response: {e}")))?;
        // 408/429 and 5xx are load or outage: another server may answer.
        if status == 408 || status == 429 || status >= 500 {
            return Err(Failure::Retry(format!("HTTP {status}: {}", snippet(&body))));
        }
        if status != 200 {
            return Err(Failure::Fatal(ServeError::Rejected {
                endpoint: self.url.clone(),
                status,
                body: snippet(&body),
            }));
        }
        Ok(body)
    }
}

fn snippet(body: &str) -> String {
    const MAX: usize = 500;
    match body.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_normalised_or_rejected_with_a_reason() {
        let n = |s: &str| normalise(s);
        assert_eq!(n("http://h:8000/").unwrap(), "http://h:8000");
        assert_eq!(n("http://h:8000/v1").unwrap(), "http://h:8000");
        assert_eq!(n("http://h/api/v1/").unwrap(), "http://h/api");
        for bad in ["h:8000", "https://h", "http://", "http://:80"] {
            let err = n(bad).unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn failures_back_off_exponentially_and_success_resets() {
        let e = Endpoint::new("http://x".into());
        let now = Instant::now();
        e.mark_failed("refused".into(), Duration::from_secs(10));
        let first = e.down_until(now).unwrap() - now;
        e.mark_failed("refused".into(), Duration::from_secs(10));
        let second = e.down_until(now).unwrap() - now;
        assert!(
            second > first + Duration::from_secs(5),
            "{first:?} {second:?}"
        );
        assert!(e.is_failing());
        assert_eq!(e.last_error().as_deref(), Some("refused"));
        e.mark_ok();
        assert!(!e.is_failing() && e.down_until(Instant::now()).is_none());
    }
}
