//! The run directory: layout, state, config and metrics files.
//!
//! ```text
//! RUN/config.toml                     the resolved RunConfig
//! RUN/state.json                      RunState, rewritten last after each unit of work
//! RUN/metrics.jsonl                   MetricsRecord lines
//! RUN/iter_001/challenger/step_003/   HF checkpoint + optimizer state (latest step only)
//! RUN/iter_001/challenger_samples/step_003.jsonl
//! RUN/iter_001/questions.jsonl        the filtered question set (questions_all.jsonl: before filters)
//! RUN/iter_001/solver/step_005/
//! RUN/iter_001/solver_samples/step_005.jsonl
//! RUN/iter_001/eval.json
//! ```
//! Every file is written atomically and every checkpoint directory is
//! staged and sealed with a `manifest.json` (`rzero_fs`), so `kill -9` at any
//! instant leaves either the old or the new version of each; ARCHITECTURE.md
//! says what is committed when.

use std::path::{Path, PathBuf};

use rzero_fs::write_atomic;

use crate::config::RunConfig;
use crate::error::{CoreError, Result};
use crate::metrics::MetricsRecord;
use crate::state::RunState;

/// Which model a checkpoint holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The question writer.
    Challenger,
    /// The question answerer.
    Solver,
}

impl Role {
    /// Directory name of the role.
    pub fn name(self) -> &'static str {
        match self {
            Role::Challenger => "challenger",
            Role::Solver => "solver",
        }
    }
}

/// Paths inside one run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CoreError + '_ {
    move |source| CoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl RunDir {
    /// Wraps an existing or new directory (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `RUN/config.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// `RUN/state.json`.
    pub fn state_path(&self) -> PathBuf {
        self.root.join("state.json")
    }

    /// `RUN/metrics.jsonl`.
    pub fn metrics_path(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }

    /// `RUN/iter_NNN`.
    pub fn iteration(&self, t: usize) -> PathBuf {
        self.root.join(format!("iter_{t:03}"))
    }

    /// Checkpoint after rollout step `step` (0-based) of `role` in iteration `t`.
    pub fn checkpoint(&self, t: usize, role: Role, step: usize) -> PathBuf {
        self.iteration(t)
            .join(role.name())
            .join(format!("step_{step:03}"))
    }

    /// Samples written by rollout step `step` of `role` in iteration `t`.
    pub fn samples(&self, t: usize, role: Role, step: usize) -> PathBuf {
        self.iteration(t)
            .join(format!("{}_samples", role.name()))
            .join(format!("step_{step:03}.jsonl"))
    }

    /// The filtered question set of iteration `t`.
    pub fn questions(&self, t: usize) -> PathBuf {
        self.iteration(t).join("questions.jsonl")
    }

    /// Every labelled question of iteration `t`, before the filters.
    pub fn questions_all(&self, t: usize) -> PathBuf {
        self.iteration(t).join("questions_all.jsonl")
    }

    /// Evaluation results after iteration `t` (0 = base model).
    pub fn eval(&self, t: usize) -> PathBuf {
        self.iteration(t).join("eval.json")
    }

    /// Writes the resolved config (once, at the start of a run).
    pub fn write_config(&self, config: &RunConfig) -> Result<()> {
        let text = config.to_toml()?;
        write_atomic(self.config_path(), text.as_bytes())?;
        Ok(())
    }

    /// Reads the run's config.
    pub fn read_config(&self) -> Result<RunConfig> {
        RunConfig::from_toml_file(&self.config_path())
    }

    /// Persists the state (the last write of every unit of work).
    pub fn write_state(&self, state: &RunState) -> Result<()> {
        let text = serde_json::to_vec_pretty(state).map_err(|e| CoreError::State {
            path: self.state_path(),
            message: e.to_string(),
        })?;
        write_atomic(self.state_path(), &text)?;
        Ok(())
    }

    /// Reads the state; a missing file means the run has not started.
    pub fn read_state(&self) -> Result<Option<RunState>> {
        let path = self.state_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| CoreError::State {
                    path,
                    message: format!("unreadable state: {e}"),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// All metrics records so far.
    pub fn read_metrics(&self) -> Result<Vec<MetricsRecord>> {
        let path = self.metrics_path();
        if !path.exists() {
            return Ok(Vec::new());
        }
        Ok(rzero_data::read_jsonl(&path)?)
    }

    /// Adds records, replacing any earlier ones from the same place (a unit
    /// of work redone after a crash must not count twice).
    pub fn append_metrics(&self, records: &[MetricsRecord]) -> Result<()> {
        let mut all = self.read_metrics()?;
        all.retain(|old| {
            !records.iter().any(|new| {
                new.iteration == old.iteration && new.phase == old.phase && new.step == old.step
            })
        });
        all.extend_from_slice(records);
        rzero_data::write_jsonl(self.metrics_path(), &all)?;
        Ok(())
    }

    /// Removes every `iter_NNN/ROLE/step_NNN` checkpoint except the one
    /// `live(t, role)` names (crash-safely); returns how many were removed.
    pub fn prune_checkpoints(&self, live: impl Fn(usize, Role) -> Option<usize>) -> Result<usize> {
        let mut removed = 0;
        for (t, iteration) in numbered(&self.root, "iter_")? {
            for role in [Role::Challenger, Role::Solver] {
                let keep = live(t, role);
                for (step, dir) in numbered(&iteration.join(role.name()), "step_")? {
                    if Some(step) != keep {
                        rzero_fs::remove_dir(&dir)?;
                        removed += 1;
                    }
                }
            }
        }
        Ok(removed)
    }
}

/// Subdirectories `PREFIX<number>` of `dir` with their numbers (none if
/// `dir` is missing).
fn numbered(dir: &Path, prefix: &str) -> Result<Vec<(usize, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(n) = name.strip_prefix(prefix).and_then(|n| n.parse().ok())
            && entry.path().is_dir()
        {
            out.push((n, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_zero_padded() {
        let d = RunDir::new("/r");
        assert_eq!(
            d.checkpoint(1, Role::Solver, 12),
            PathBuf::from("/r/iter_001/solver/step_012")
        );
        assert_eq!(
            d.samples(3, Role::Challenger, 0),
            PathBuf::from("/r/iter_003/challenger_samples/step_000.jsonl")
        );
    }

    #[test]
    fn redone_metrics_replace_the_old_record() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path());
        let mut a = MetricsRecord::new(1, "solver", 0);
        a.set("x", 1.0);
        run.append_metrics(&[a.clone()]).unwrap();
        a.set("x", 2.0);
        run.append_metrics(&[a]).unwrap();
        let all = run.read_metrics().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].get("x"), Some(2.0));
    }

    #[test]
    fn pruning_keeps_only_the_live_checkpoint_of_each_role() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path());
        for (t, role, step) in [
            (1, Role::Challenger, 0),
            (1, Role::Challenger, 1),
            (1, Role::Solver, 2),
            (2, Role::Challenger, 0),
        ] {
            std::fs::create_dir_all(run.checkpoint(t, role, step)).unwrap();
        }
        let live = |t, role| match (t, role) {
            (1, Role::Challenger) => Some(1),
            (1, Role::Solver) => Some(2),
            _ => None,
        };
        assert_eq!(run.prune_checkpoints(live).unwrap(), 2);
        assert!(run.checkpoint(1, Role::Challenger, 1).exists());
        assert!(run.checkpoint(1, Role::Solver, 2).exists());
        assert!(!run.checkpoint(1, Role::Challenger, 0).exists());
        assert!(!run.checkpoint(2, Role::Challenger, 0).exists());
        assert_eq!(run.prune_checkpoints(live).unwrap(), 0);
    }

    #[test]
    fn missing_state_means_not_started() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(RunDir::new(dir.path()).read_state().unwrap(), None);
    }
}
