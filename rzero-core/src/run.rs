//! The R-Zero loop as a resumable state machine over a run directory.
//!
//! Each unit of work (a rollout step, the question set, an evaluation)
//! writes its files atomically and then advances `state.json`; a crash or
//! Ctrl-C at any point resumes from the last completed unit and, with the
//! same seed, produces the same results.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use rzero_fs::StagedDir;
use rzero_grpo::{AdamW, GrpoConfig, GrpoTrainer};
use rzero_model::Qwen3;

use crate::config::RunConfig;
use crate::error::{CoreError, Result};
use crate::inference::InferenceRole;
use crate::phases::challenger::{ChallengerSamplers, challenger_step};
use crate::phases::eval::{BenchSource, EvalReport, evaluate};
use crate::phases::question_set::build_question_set;
use crate::phases::solver::solver_step;
use crate::policy::{Policy, Sampler};
use crate::progress::{Progress, StopFlag};
use crate::remote::RemoteSampler;
use crate::rundir::{Role, RunDir};
use crate::serving::{Frozen, Origin, Served, restrict};
use crate::state::{Phase, RunState};
use rzero_model::tokenizer::Tokenizer;

/// Where and how a run executes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The base model directory (HF layout).
    pub base_model: PathBuf,
    /// Plain (inference) device; training uses its autodiff twin.
    pub device: Device,
    /// Benchmark files.
    pub benches: BenchSource,
}

/// Creates a run directory for `config` (fails if one is already there).
pub fn init_run(dir: &Path, config: &RunConfig, base_model: &Path) -> Result<RunDir> {
    let run = RunDir::new(dir);
    if run.state_path().exists() {
        return Err(CoreError::State {
            path: run.state_path(),
            message: "a run already exists here; use --resume to continue it".into(),
        });
    }
    std::fs::create_dir_all(dir).map_err(|source| CoreError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut config = config.clone();
    config.model = Some(base_model.to_path_buf());
    run.write_config(&config)?;
    run.write_state(&RunState::start())?;
    Ok(run)
}

/// Drives one run directory to completion (or to a stop request).
pub struct Runner<'a> {
    config: RunConfig,
    run: RunDir,
    options: RunOptions,
    progress: &'a dyn Progress,
    stop: &'a StopFlag,
    served: Served,
}

impl std::fmt::Debug for Runner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("run", &self.run)
            .finish_non_exhaustive()
    }
}

impl<'a> Runner<'a> {
    /// Opens an initialised run directory.
    pub fn open(
        dir: &Path,
        options: RunOptions,
        progress: &'a dyn Progress,
        stop: &'a StopFlag,
    ) -> Result<Self> {
        let run = RunDir::new(dir);
        if !run.config_path().exists() {
            return Err(CoreError::State {
                path: run.config_path(),
                message: "missing: not a run directory (start one with `rzero run --out DIR`)"
                    .into(),
            });
        }
        let config = run.read_config()?;
        if run.read_state()?.is_none() {
            // Killed between writing the config and the first state: nothing ran yet.
            run.write_state(&RunState::start())?;
        }
        Ok(Self {
            config,
            run,
            options,
            progress,
            stop,
            served: Served::default(),
        })
    }

    /// Total units of work of the run (for progress bars).
    pub fn total_units(&self) -> usize {
        1 + self.config.iterations * self.units_per_iteration()
    }

    /// Challenger steps, question set, Solver steps, evaluation.
    fn units_per_iteration(&self) -> usize {
        self.challenger_units() + 1 + self.config.solver.rollout_steps + 1
    }

    fn challenger_units(&self) -> usize {
        if self.config.challenger.train {
            self.config.challenger.rollout_steps
        } else {
            0
        }
    }

    fn units_done(&self, s: RunState) -> usize {
        let per_iteration = self.units_per_iteration();
        let challenger = self.challenger_units();
        let within = match s.next {
            Phase::Challenger { step } => step.min(challenger),
            Phase::QuestionSet => challenger,
            Phase::Solver { step } => challenger + 1 + step,
            Phase::Eval => per_iteration - 1,
            Phase::Done => return self.total_units(),
        };
        if s.iteration == 0 {
            0
        } else {
            1 + (s.iteration - 1) * per_iteration + within
        }
    }

    /// Runs until done; returns the evaluation of every iteration so far.
    pub fn run(&mut self) -> Result<Vec<EvalReport>> {
        self.clean_up()?;
        loop {
            let state = self.run.read_state()?.unwrap_or_else(RunState::start);
            self.progress
                .done(self.units_done(state), self.total_units());
            if state.is_done() {
                return self.eval_reports();
            }
            if self.stop.is_requested() {
                return Err(CoreError::Interrupted);
            }
            let next = match state.next {
                Phase::Challenger { step } => self.challenger_phase(state.iteration, step)?,
                Phase::QuestionSet => self.question_set(state.iteration)?,
                Phase::Solver { step } => self.solver_phase(state.iteration, step)?,
                Phase::Eval => self.eval(state.iteration)?,
                Phase::Done => state,
            };
            self.run.write_state(&next)?;
        }
    }

    /// Removes what a killed process left: temp files, staged directories,
    /// and checkpoints the state no longer needs.
    fn clean_up(&self) -> Result<()> {
        let removed = rzero_fs::sweep(self.run.root())?;
        let state = self.run.read_state()?.unwrap_or_else(RunState::start);
        let pruned = self.run.prune_checkpoints(|t, role| {
            state.live_checkpoint(t, role == Role::Challenger, self.steps(role))
        })?;
        if removed + pruned > 0 {
            tracing::info!(removed, pruned, "cleaned up after an interrupted run");
        }
        Ok(())
    }

    /// Every `eval.json` written so far, by iteration.
    pub fn eval_reports(&self) -> Result<Vec<EvalReport>> {
        let mut out = Vec::new();
        for t in 0..=self.config.iterations {
            let path = self.run.eval(t);
            if path.exists() {
                out.push(rzero_data::jsonl::read_json(&path)?);
            }
        }
        Ok(out)
    }

    fn steps(&self, role: Role) -> usize {
        match role {
            Role::Challenger => self.config.challenger.rollout_steps,
            Role::Solver => self.config.solver.rollout_steps,
        }
    }

    /// Whether `role` is trained (the Base Challenger ablation is not).
    fn trains(&self, role: Role) -> bool {
        role == Role::Solver || self.config.challenger.train
    }

    /// The model of `role` at the end of iteration `t` (0 = the base model).
    fn model_dir(&self, t: usize, role: Role) -> PathBuf {
        if t == 0 || !self.trains(role) {
            return self.options.base_model.clone();
        }
        self.run.checkpoint(t, role, self.steps(role) - 1)
    }

    /// Loads a model; a checkpoint of this run is verified against its
    /// manifest first, so a damaged one is an error naming the file.
    fn load(&self, dir: &Path, train: bool) -> Result<Policy> {
        if dir.starts_with(self.run.root()) {
            rzero_fs::verify_dir(dir)?;
        }
        let device = if train {
            self.options.device.clone().autodiff()
        } else {
            self.options.device.clone()
        };
        let mut policy = Policy::load(dir, &device)?;
        policy.apply_memory(&self.config.memory);
        Ok(policy)
    }

    fn reference(&self, t: usize, role: Role, grpo: &GrpoConfig) -> Result<Option<Qwen3>> {
        if grpo.settings.loss.kl.beta == 0.0 {
            return Ok(None);
        }
        let model = self.load(&self.model_dir(t - 1, role), false)?.model;
        Ok(Some(crate::memory::frozen_copy(
            model,
            self.config.memory.reference_dtype,
        )))
    }

    /// Policy and trainer at the start of rollout step `step` of `role`.
    fn resume_training(
        &self,
        t: usize,
        role: Role,
        step: usize,
        grpo: GrpoConfig,
    ) -> Result<(Policy, GrpoTrainer)> {
        let base_dir = self.model_dir(t - 1, role);
        if step == 0 {
            let mut policy = self.load(&base_dir, true)?;
            if let Some(lora) = &grpo.settings.lora {
                let tag = format!("lora_{}", role.name());
                let seed = crate::seeds::unit_seed(self.config.seed, t, &tag, 0);
                let base = self.adapter_base(&base_dir);
                policy.attach_lora(crate::policy::lora_config(lora)?, base, seed)?;
            }
            return Ok((policy, GrpoTrainer::new(grpo)?));
        }
        let dir = self.run.checkpoint(t, role, step - 1);
        let policy = match &grpo.settings.lora {
            None => self.load(&dir, true)?,
            // The phase's base plus the adapter trained so far: exactly the
            // model before the interruption (the merged weights beside the
            // adapter are for loaders that do not train it).
            Some(_) => {
                rzero_fs::verify_dir(&dir)?;
                let mut policy = self.load(&base_dir, true)?;
                policy.load_lora(&dir, self.adapter_base(&base_dir))?;
                policy
            }
        };
        let device = self.options.device.clone().autodiff();
        let optimizer = AdamW::load(&dir.join("optimizer.safetensors"), &device)?
            .with_config(grpo.settings.optimizer);
        let meta: TrainerMeta = rzero_data::jsonl::read_json(dir.join("trainer.json"))?;
        if (meta.iteration, meta.rollout_step) != (t, step - 1) {
            return Err(CoreError::State {
                path: dir.join("trainer.json"),
                message: format!(
                    "written by iteration {} step {}, expected iteration {t} step {}",
                    meta.iteration,
                    meta.rollout_step,
                    step - 1
                ),
            });
        }
        Ok((
            policy,
            GrpoTrainer::resume(grpo, optimizer, meta.optimizer_steps)?,
        ))
    }

    /// How a saved adapter names its base model: relative to the run
    /// directory when the base is a checkpoint of this run (so equal runs
    /// write equal files wherever they are), else the base model's path.
    fn adapter_base(&self, base_dir: &Path) -> String {
        match base_dir.strip_prefix(self.run.root()) {
            Ok(relative) => relative.to_string_lossy().into_owned(),
            Err(_) => base_dir.to_string_lossy().into_owned(),
        }
    }

    /// Writes the checkpoint of rollout step `step` whole or not at all:
    /// staged under a hidden name, sealed with a manifest, renamed into place.
    fn save_step(
        &self,
        t: usize,
        role: Role,
        step: usize,
        policy: &Policy,
        trainer: &GrpoTrainer,
    ) -> Result<()> {
        let staged = StagedDir::create(self.run.checkpoint(t, role, step))?;
        let dir = staged.path();
        policy.save(dir)?;
        trainer
            .optimizer()
            .save(&dir.join("optimizer.safetensors"))?;
        let meta = TrainerMeta {
            optimizer_steps: trainer.step(),
            iteration: t,
            rollout_step: step,
        };
        rzero_fs::write_json(dir.join("trainer.json"), &meta)?;
        staged.commit()?;
        Ok(())
    }

    /// A frozen role's sampler: its servers (told about the checkpoint of
    /// its model at the end of iteration `t` first) or that model loaded here.
    fn frozen(&mut self, inference_role: InferenceRole, t: usize) -> Result<Frozen> {
        let role = inference_role.model();
        let dir = self.model_dir(t, role);
        let inference = &self.config.inference;
        let backend = inference.backend(inference_role);
        if !backend.is_remote() {
            let mut policy = self.load(&dir, false)?;
            let dtype = self.config.memory.sampler_dtype;
            policy.model = crate::memory::frozen_copy(policy.model, dtype);
            return Ok(Frozen::Local(Box::new(policy)));
        }
        let origin = self.origin(t, role, self.steps(role).saturating_sub(1));
        let live = self
            .served
            .hand_over(inference, role, &dir, origin, self.run.root())?;
        let backend = restrict(backend, &live);
        let sampler = RemoteSampler::new(inference_role.key(), &backend, &inference.client, false)?;
        Ok(Frozen::Remote(
            Box::new(sampler),
            Box::new(Tokenizer::from_dir(&dir)?),
        ))
    }

    /// The servers of the Challenger's rollouts, holding the weights GRPO
    /// has at the start of rollout step `step` of iteration `t`.
    fn rollout_sampler(&mut self, t: usize, step: usize) -> Result<RemoteSampler> {
        let (dir, origin) = if step == 0 {
            let last = self.steps(Role::Challenger) - 1;
            (
                self.model_dir(t - 1, Role::Challenger),
                self.origin(t - 1, Role::Challenger, last),
            )
        } else {
            (
                self.run.checkpoint(t, Role::Challenger, step - 1),
                self.origin(t, Role::Challenger, step - 1),
            )
        };
        let inference = &self.config.inference;
        let live =
            self.served
                .hand_over(inference, Role::Challenger, &dir, origin, self.run.root())?;
        let role = InferenceRole::ChallengerRollouts;
        let backend = restrict(inference.backend(role), &live);
        RemoteSampler::new(role.key(), &backend, &inference.client, true)
    }

    /// Which phase wrote `role`'s checkpoint of iteration `t`, step `step`.
    fn origin(&self, t: usize, role: Role, step: usize) -> Origin {
        if t == 0 || !self.trains(role) {
            return Origin {
                phase: "base",
                iteration: 0,
                step: 0,
            };
        }
        Origin {
            phase: role.name(),
            iteration: t,
            step,
        }
    }

    fn challenger_phase(&mut self, t: usize, first: usize) -> Result<RunState> {
        if !self.config.challenger.train {
            return Ok(RunState {
                iteration: t,
                next: Phase::QuestionSet,
            });
        }
        let c = &self.config.challenger;
        let grpo = self.config.grpo.for_phase(c.group_size, c.global_batch);
        let (mut challenger, mut trainer) =
            self.resume_training(t, Role::Challenger, first, grpo)?;
        let reference = self.reference(t, Role::Challenger, &grpo)?;
        let solver = self.frozen(InferenceRole::SolverReward, t - 1)?;
        let mut state = RunState {
            iteration: t,
            next: Phase::Challenger { step: first },
        };
        for step in first..self.steps(Role::Challenger) {
            self.progress.unit(&format!(
                "iter {t} · challenger step {}/{}",
                step + 1,
                self.steps(Role::Challenger)
            ));
            // Remote rollouts must come from the weights GRPO has now.
            let rollouts = if self.config.inference.challenger_rollouts.is_remote() {
                Some(self.rollout_sampler(t, step)?)
            } else {
                None
            };
            let samplers = ChallengerSamplers {
                rollouts: rollouts.as_ref().map(|r| r as &dyn Sampler),
                solver: solver.sampler(),
            };
            let out = challenger_step(
                &self.config,
                t,
                step,
                &mut challenger,
                &mut trainer,
                reference.as_ref(),
                samplers,
            )?;
            self.save_step(t, Role::Challenger, step, &challenger, &trainer)?;
            rzero_data::write_jsonl(self.run.samples(t, Role::Challenger, step), &out.samples)?;
            self.run.append_metrics(&[out.metrics])?;
            state = self.commit(state, t, Role::Challenger, step)?;
            if self.stop.is_requested() {
                break;
            }
        }
        Ok(state)
    }

    /// Advances and persists the state after a rollout step, then drops the
    /// checkpoint the new one supersedes.
    fn commit(&self, state: RunState, t: usize, role: Role, step: usize) -> Result<RunState> {
        let next = state.advance(
            self.steps(Role::Challenger),
            self.steps(Role::Solver),
            self.config.iterations,
        );
        self.run.write_state(&next)?;
        if step > 0 {
            rzero_fs::remove_dir(&self.run.checkpoint(t, role, step - 1))?;
        }
        self.progress
            .done(self.units_done(next), self.total_units());
        Ok(next)
    }

    fn question_set(&mut self, t: usize) -> Result<RunState> {
        self.progress.unit(&format!("iter {t} · question set"));
        let challenger = self.frozen(InferenceRole::ChallengerRollouts, t)?;
        let solver = self.frozen(InferenceRole::Labelling, t - 1)?;
        let set = build_question_set(
            &self.config,
            t,
            challenger.tokenizer(),
            challenger.sampler(),
            solver.sampler(),
        )?;
        rzero_data::write_jsonl(self.run.questions_all(t), &set.all)?;
        rzero_data::write_jsonl(self.run.questions(t), &set.kept)?;
        rzero_data::jsonl::write_json(
            self.run.iteration(t).join("filter_report.json"),
            &set.report,
        )?;
        self.run.append_metrics(&[set.metrics])?;
        Ok(RunState {
            iteration: t,
            next: Phase::QuestionSet,
        }
        .advance(
            self.steps(Role::Challenger),
            self.steps(Role::Solver),
            self.config.iterations,
        ))
    }

    fn solver_phase(&mut self, t: usize, first: usize) -> Result<RunState> {
        let questions: Vec<rzero_data::QuestionRecord> =
            rzero_data::read_jsonl(self.run.questions(t))?;
        let last = self.steps(Role::Solver) - 1;
        if questions.is_empty() {
            tracing::warn!(
                iteration = t,
                "the question set is empty: the Solver is not trained this iteration"
            );
            let solver = self.load(&self.model_dir(t - 1, Role::Solver), false)?;
            let staged = StagedDir::create(self.run.checkpoint(t, Role::Solver, last))?;
            solver.save(staged.path())?;
            staged.commit()?;
            return Ok(RunState {
                iteration: t,
                next: Phase::Eval,
            });
        }
        let s = &self.config.solver;
        let grpo = self.config.grpo.for_phase(s.group_size, s.global_batch);
        let (mut solver, mut trainer) = self.resume_training(t, Role::Solver, first, grpo)?;
        let reference = self.reference(t, Role::Solver, &grpo)?;
        let mut state = RunState {
            iteration: t,
            next: Phase::Solver { step: first },
        };
        for step in first..=last {
            self.progress
                .unit(&format!("iter {t} · solver step {}/{}", step + 1, last + 1));
            let out = solver_step(
                &self.config,
                t,
                step,
                &mut solver,
                &mut trainer,
                reference.as_ref(),
                &questions,
            )?;
            self.save_step(t, Role::Solver, step, &solver, &trainer)?;
            rzero_data::write_jsonl(self.run.samples(t, Role::Solver, step), &out.samples)?;
            self.run.append_metrics(&[out.metrics])?;
            state = self.commit(state, t, Role::Solver, step)?;
            if self.stop.is_requested() {
                break;
            }
        }
        Ok(state)
    }

    fn eval(&mut self, t: usize) -> Result<RunState> {
        self.progress.unit(&format!("iter {t} · evaluation"));
        let solver = self.frozen(InferenceRole::Eval, t)?;
        let (report, metrics) = evaluate(
            &self.config,
            t,
            solver.tokenizer(),
            solver.sampler(),
            &self.options.benches,
        )?;
        rzero_data::jsonl::write_json(self.run.eval(t), &report)?;
        self.run.append_metrics(&[metrics])?;
        Ok(RunState {
            iteration: t,
            next: Phase::Eval,
        }
        .advance(
            self.steps(Role::Challenger),
            self.steps(Role::Solver),
            self.config.iterations,
        ))
    }
}

/// `trainer.json` beside each step checkpoint.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct TrainerMeta {
    optimizer_steps: u64,
    iteration: usize,
    rollout_step: usize,
}
