//! Which sampler each frozen role uses in a run, and handing checkpoints to
//! the servers of remote roles.
//!
//! The servers of a model role (Challenger or Solver weights) are told about
//! a checkpoint just before a unit of work first samples from it: after the
//! phase that wrote it, and again after a start or `--resume` (servers may
//! hold anything then). A failed hand-over stops the run before the unit
//! starts, so the run directory stays as it was. With `reload_endpoints`,
//! a server that cannot be reached is left out of sampling until a later
//! hand-over reaches it, so no sample comes from stale weights.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rzero_model::tokenizer::Tokenizer;

use crate::error::Result;
use crate::hook::{Handoff, run_hook};
use crate::inference::{Backend, InferenceConfig, InferenceRole};
use crate::policy::{Policy, Sampler};
use crate::remote::RemoteSampler;
use crate::rundir::Role;

/// A frozen role's sampler and the tokenizer that renders its prompts.
#[derive(Debug)]
pub(crate) enum Frozen {
    /// The model, loaded here.
    Local(Box<Policy>),
    /// Servers, and the tokenizer of the checkpoint they serve.
    Remote(Box<RemoteSampler>, Box<Tokenizer>),
}

impl Frozen {
    pub(crate) fn sampler(&self) -> &dyn Sampler {
        match self {
            Frozen::Local(p) => p.as_ref(),
            Frozen::Remote(s, _) => s.as_ref(),
        }
    }

    pub(crate) fn tokenizer(&self) -> &Tokenizer {
        match self {
            Frozen::Local(p) => &p.tokenizer,
            Frozen::Remote(_, t) => t.as_ref(),
        }
    }
}

/// Where a checkpoint came from, for the hook's environment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin {
    pub(crate) phase: &'static str,
    pub(crate) iteration: usize,
    pub(crate) step: usize,
}

/// The checkpoint each model role's servers hold, and which servers took
/// it, as far as this process knows.
#[derive(Debug, Default)]
pub(crate) struct Served {
    held: BTreeMap<&'static str, (PathBuf, Vec<String>)>,
}

/// The `[inference]` roles that serve `role`'s weights.
fn backends(config: &InferenceConfig, role: Role) -> Vec<(InferenceRole, &Backend)> {
    config
        .roles()
        .into_iter()
        .filter(|(r, b)| r.model() == role && b.is_remote())
        .collect()
}

/// `backend` restricted to the endpoints in `live` (normalised URLs).
pub(crate) fn restrict(backend: &Backend, live: &[String]) -> Backend {
    let endpoints = backend
        .endpoints
        .iter()
        .filter(|e| rzero_serve::client::check_endpoint(e).is_ok_and(|url| live.contains(&url)))
        .cloned()
        .collect();
    Backend {
        endpoints,
        model: backend.model.clone(),
    }
}

impl Served {
    /// Makes sure `role`'s servers hold `dir` (reload endpoint and/or hook,
    /// when they were told of another checkpoint or none); returns the
    /// normalised endpoints that serve it.
    pub(crate) fn hand_over(
        &mut self,
        config: &InferenceConfig,
        role: Role,
        dir: &Path,
        origin: Origin,
        run_dir: &Path,
    ) -> Result<Vec<String>> {
        if let Some((held, live)) = self.held.get(role.name())
            && held == dir
        {
            return Ok(live.clone());
        }
        let remote = backends(config, role);
        let mut endpoints: Vec<String> = remote
            .iter()
            .flat_map(|(_, b)| b.endpoints.iter())
            .filter_map(|e| rzero_serve::client::check_endpoint(e).ok())
            .collect();
        endpoints.sort();
        endpoints.dedup();
        let Some((key, _)) = remote.first() else {
            return Ok(endpoints);
        };
        let live = if config.reload_endpoints {
            let all = Backend {
                endpoints: endpoints.clone(),
                model: None,
            };
            RemoteSampler::new(key.key(), &all, &config.client, false)?.update_weights(dir)?
        } else {
            endpoints.clone()
        };
        if let Some(command) = &config.weights_hook {
            let handoff = Handoff {
                phase: origin.phase,
                iteration: origin.iteration,
                step: origin.step,
                role,
                checkpoint: dir,
                endpoints: &endpoints,
                run_dir,
            };
            let timeout = Duration::from_secs_f64(config.client.timeout_secs);
            run_hook(command, &handoff, timeout)?;
        }
        self.held
            .insert(role.name(), (dir.to_path_buf(), live.clone()));
        Ok(live)
    }
}
