//! `[inference]`: which roles sample on OpenAI-compatible servers (vLLM,
//! SGLang, `rzero serve`) instead of the local model, and how the servers
//! get each new checkpoint. Every role defaults to local.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Where one role samples: no endpoints = the local model.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Backend {
    /// Base URLs (`http://host:port`, a trailing `/v1` is accepted).
    pub endpoints: Vec<String>,
    /// `model` sent with each request (needed when a server serves several).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl Backend {
    /// Whether this role samples on servers.
    pub fn is_remote(&self) -> bool {
        !self.endpoints.is_empty()
    }
}

/// Client settings shared by every remote role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientSettings {
    /// Limit on one request (generation included), seconds.
    pub timeout_secs: f64,
    /// Tries per request, the first included.
    pub max_attempts: usize,
    /// Bench time of a failed endpoint, doubling per failure in a row, ms.
    pub backoff_ms: u64,
    /// Requests in flight per endpoint.
    pub max_in_flight: usize,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            timeout_secs: 600.0,
            max_attempts: 4,
            backoff_ms: 500,
            max_in_flight: 4,
        }
    }
}

/// The `[inference]` table of a run config.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InferenceConfig {
    /// Command (argv) run before a remote role first uses a new checkpoint,
    /// with `RZERO_PHASE`, `RZERO_ROLE`, `RZERO_CHECKPOINT`, … set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights_hook: Option<Vec<String>>,
    /// POST SGLang's `/update_weights_from_disk` to the role's endpoints
    /// with each new checkpoint (what `rzero serve` and SGLang accept).
    pub reload_endpoints: bool,
    /// Challenger sampling: its rollouts and the question-set questions.
    pub challenger_rollouts: Backend,
    /// Solver sampling for the Challenger's uncertainty reward.
    pub solver_reward: Backend,
    /// Solver sampling that labels the question set.
    pub labelling: Backend,
    /// Greedy evaluation of the Solver.
    pub eval: Backend,
    /// Timeouts, retries, concurrency.
    pub client: ClientSettings,
}

impl InferenceConfig {
    /// Each role with its key.
    pub fn roles(&self) -> [(&'static str, &Backend); 4] {
        [
            ("challenger_rollouts", &self.challenger_rollouts),
            ("solver_reward", &self.solver_reward),
            ("labelling", &self.labelling),
            ("eval", &self.eval),
        ]
    }

    /// Checks every key; the message starts with it.
    pub fn validate(&self) -> Result<(), String> {
        for (key, backend) in self.roles() {
            for (i, e) in backend.endpoints.iter().enumerate() {
                rzero_serve::client::check_endpoint(e)
                    .map_err(|err| format!("`inference.{key}.endpoints[{i}]`: {err}"))?;
            }
        }
        let c = &self.client;
        if !(c.timeout_secs > 0.0 && c.timeout_secs.is_finite()) {
            return Err("`inference.client.timeout_secs` must be > 0".into());
        }
        if c.max_attempts == 0 || c.max_in_flight == 0 {
            return Err(
                "`inference.client.max_attempts` and `max_in_flight` must be at least 1".into(),
            );
        }
        if self.weights_hook.as_ref().is_some_and(|h| h.is_empty()) {
            return Err("`inference.weights_hook` is an empty command".into());
        }
        self.validate_weights()
    }

    /// The Challenger trains between rollout steps, so its servers must be
    /// told about each step; and one server cannot hold both roles' weights.
    fn validate_weights(&self) -> Result<(), String> {
        if self.challenger_rollouts.is_remote()
            && self.weights_hook.is_none()
            && !self.reload_endpoints
        {
            return Err(
                "`inference.challenger_rollouts` is remote, so the servers need each \
                 step's weights: set `inference.reload_endpoints = true` or \
                 `inference.weights_hook`"
                    .into(),
            );
        }
        let challenger: BTreeSet<String> = normalised(&self.challenger_rollouts);
        for (key, backend) in &self.roles()[1..] {
            if let Some(shared) = normalised(backend).intersection(&challenger).next() {
                return Err(format!(
                    "`inference.{key}.endpoints`: {shared} also serves \
                     `challenger_rollouts`; one server cannot hold the Challenger's \
                     and the Solver's weights"
                ));
            }
        }
        Ok(())
    }
}

fn normalised(backend: &Backend) -> BTreeSet<String> {
    backend
        .endpoints
        .iter()
        .filter_map(|e| rzero_serve::client::check_endpoint(e).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(urls: &[&str]) -> Backend {
        Backend {
            endpoints: urls.iter().map(|u| u.to_string()).collect(),
            model: None,
        }
    }

    #[test]
    fn defaults_are_local_and_valid() {
        let c = InferenceConfig::default();
        assert!(c.roles().iter().all(|(_, b)| !b.is_remote()));
        c.validate().unwrap();
    }

    #[test]
    fn bad_endpoints_and_settings_name_their_key() {
        let c = InferenceConfig {
            eval: remote(&["http://a:1", "ftp://b"]),
            ..InferenceConfig::default()
        };
        let err = c.validate().unwrap_err();
        assert!(err.starts_with("`inference.eval.endpoints[1]`"), "{err}");
        let c = InferenceConfig {
            client: ClientSettings {
                max_attempts: 0,
                ..ClientSettings::default()
            },
            ..InferenceConfig::default()
        };
        assert!(c.validate().unwrap_err().contains("max_attempts"));
    }

    #[test]
    fn remote_challenger_needs_a_weight_handoff_and_its_own_servers() {
        let mut c = InferenceConfig {
            challenger_rollouts: remote(&["http://a:1"]),
            ..InferenceConfig::default()
        };
        assert!(c.validate().unwrap_err().contains("reload_endpoints"));
        c.reload_endpoints = true;
        c.validate().unwrap();
        c.labelling = remote(&["http://a:1/v1"]);
        let err = c.validate().unwrap_err();
        assert!(err.starts_with("`inference.labelling.endpoints`"), "{err}");
    }
}
