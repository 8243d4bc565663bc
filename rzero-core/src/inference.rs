//! `[inference]`: which roles sample on OpenAI-compatible servers (vLLM,
//! SGLang, `rzero serve`) instead of the local model, and how the servers
//! get each new checkpoint. Every role defaults to local.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::rundir::Role;

/// The four places a run samples from a frozen or current model; each has
/// its own `[inference]` backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InferenceRole {
    /// The Challenger's GRPO rollouts and the question-set questions.
    ChallengerRollouts,
    /// Solver samples for the Challenger's uncertainty reward.
    SolverReward,
    /// Solver samples that label the question set.
    Labelling,
    /// Greedy evaluation of the Solver.
    Eval,
}

impl InferenceRole {
    /// Every role, in config order.
    pub const ALL: [InferenceRole; 4] = [
        InferenceRole::ChallengerRollouts,
        InferenceRole::SolverReward,
        InferenceRole::Labelling,
        InferenceRole::Eval,
    ];

    /// The role's `[inference]` key, also its name in logs and errors.
    pub fn key(self) -> &'static str {
        match self {
            InferenceRole::ChallengerRollouts => "challenger_rollouts",
            InferenceRole::SolverReward => "solver_reward",
            InferenceRole::Labelling => "labelling",
            InferenceRole::Eval => "eval",
        }
    }

    /// Whose weights the role samples from.
    pub fn model(self) -> Role {
        match self {
            InferenceRole::ChallengerRollouts => Role::Challenger,
            InferenceRole::SolverReward | InferenceRole::Labelling | InferenceRole::Eval => {
                Role::Solver
            }
        }
    }
}

impl std::fmt::Display for InferenceRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

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
    /// The backend of `role`.
    pub fn backend(&self, role: InferenceRole) -> &Backend {
        match role {
            InferenceRole::ChallengerRollouts => &self.challenger_rollouts,
            InferenceRole::SolverReward => &self.solver_reward,
            InferenceRole::Labelling => &self.labelling,
            InferenceRole::Eval => &self.eval,
        }
    }

    /// Each role with its backend, in config order.
    pub fn roles(&self) -> [(InferenceRole, &Backend); 4] {
        InferenceRole::ALL.map(|role| (role, self.backend(role)))
    }

    /// Checks every key; the message starts with it.
    pub fn validate(&self) -> Result<(), String> {
        for (role, backend) in self.roles() {
            let key = role.key();
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
        let solver_roles = self
            .roles()
            .into_iter()
            .filter(|(r, _)| r.model() == Role::Solver);
        for (role, backend) in solver_roles {
            let key = role.key();
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
    fn each_role_selects_its_own_backend() {
        let mut c = InferenceConfig::default();
        for (i, role) in InferenceRole::ALL.into_iter().enumerate() {
            let url = format!("http://h:{i}");
            match role {
                InferenceRole::ChallengerRollouts => {
                    c.challenger_rollouts = remote(&[url.as_str()])
                }
                InferenceRole::SolverReward => c.solver_reward = remote(&[url.as_str()]),
                InferenceRole::Labelling => c.labelling = remote(&[url.as_str()]),
                InferenceRole::Eval => c.eval = remote(&[url.as_str()]),
            }
        }
        for (i, role) in InferenceRole::ALL.into_iter().enumerate() {
            assert_eq!(
                c.backend(role).endpoints,
                [format!("http://h:{i}")],
                "{role}"
            );
        }
        let keys: Vec<String> = InferenceRole::ALL.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            keys,
            ["challenger_rollouts", "solver_reward", "labelling", "eval"]
        );
        // The keys are the config's own field names.
        let table = toml::Table::try_from(InferenceConfig::default()).unwrap();
        assert!(keys.iter().all(|k| table.contains_key(k)));
        assert_eq!(InferenceRole::ChallengerRollouts.model(), Role::Challenger);
        assert!(
            InferenceRole::ALL[1..]
                .iter()
                .all(|r| r.model() == Role::Solver)
        );
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
