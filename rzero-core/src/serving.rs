//! Which sampler each frozen role uses in a run, and handing checkpoints to
//! the servers of remote roles.
//!
//! The servers of a model role (Challenger or Solver weights) are told about
//! a checkpoint just before a unit of work first samples from it: after the
//! phase that wrote it, and again after a start or `--resume` (servers may
//! hold anything then). A failed hand-over stops the run before the unit
//! starts, so the run directory stays as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rzero_model::tokenizer::Tokenizer;

use crate::error::Result;
use crate::hook::{Handoff, run_hook};
use crate::inference::{Backend, InferenceConfig};
use crate::policy::{Policy, Sampler};
use crate::remote::RemoteSampler;
use crate::rundir::Role;

/// A frozen role's sampler and the tokenizer that renders its prompts.
#[derive(Debug)]
pub(crate) enum Frozen {
    /// The model, loaded here.
    Local(Policy),
    /// Servers, and the tokenizer of the checkpoint they serve.
    Remote(RemoteSampler, Tokenizer),
}

impl Frozen {
    pub(crate) fn sampler(&self) -> &dyn Sampler {
        match self {
            Frozen::Local(p) => p,
            Frozen::Remote(s, _) => s,
        }
    }

    pub(crate) fn tokenizer(&self) -> &Tokenizer {
        match self {
            Frozen::Local(p) => &p.tokenizer,
            Frozen::Remote(_, t) => t,
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

/// The checkpoint each model role's servers hold, as far as this process knows.
#[derive(Debug, Default)]
pub(crate) struct Served {
    held: BTreeMap<&'static str, PathBuf>,
}

/// The `[inference]` roles that serve `role`'s weights.
fn backends(config: &InferenceConfig, role: Role) -> Vec<(&'static str, &Backend)> {
    let all = config.roles();
    let keys: &[&str] = match role {
        Role::Challenger => &["challenger_rollouts"],
        Role::Solver => &["solver_reward", "labelling", "eval"],
    };
    all.into_iter()
        .filter(|(k, b)| keys.contains(k) && b.is_remote())
        .collect()
}

impl Served {
    /// Makes sure `role`'s servers hold `dir`: runs the hook and/or the
    /// reload endpoint when they were told of another checkpoint (or none).
    pub(crate) fn hand_over(
        &mut self,
        config: &InferenceConfig,
        role: Role,
        dir: &Path,
        origin: Origin,
        run_dir: &Path,
    ) -> Result<()> {
        let remote = backends(config, role);
        if remote.is_empty() || self.held.get(role.name()).is_some_and(|d| d == dir) {
            return Ok(());
        }
        let mut endpoints: Vec<String> = remote
            .iter()
            .flat_map(|(_, b)| b.endpoints.iter().cloned())
            .collect();
        endpoints.sort();
        endpoints.dedup();
        if config.reload_endpoints {
            let backend = Backend {
                endpoints: endpoints.clone(),
                model: None,
            };
            RemoteSampler::new(remote[0].0, &backend, &config.client, false)?.update_weights(dir)?;
        }
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
            run_hook(command, &handoff, Duration::from_secs_f64(config.client.timeout_secs))?;
        }
        self.held.insert(role.name(), dir.to_path_buf());
        Ok(())
    }
}
