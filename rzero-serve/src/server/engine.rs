//! The engine thread: owns the model, answers jobs in static batches.
//!
//! Jobs that arrive while a batch runs wait in the channel; the next batch
//! takes every waiting job (up to `max_batch_rows` rows) and runs each group
//! of jobs with the same generation settings as one [`generate_seeded`]
//! call. Each prompt carries its own seed, so a prompt's samples do not
//! depend on which jobs share its batch. A reload job is a barrier: jobs
//! before it use the old weights, jobs after it the new ones.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

use burn::prelude::*;
use rzero_model::tokenizer::Tokenizer;
use rzero_model::{
    Completion, GenerateOptions, ModelError, Qwen3, generate_seeded, load_pretrained,
};

use crate::error::ServeError;

/// Prompts of one HTTP request with their settings.
#[derive(Debug)]
pub(crate) struct GenerateJob {
    pub(crate) prompts: Vec<Vec<u32>>,
    pub(crate) seeds: Vec<u64>,
    pub(crate) options: GenerateOptions,
    pub(crate) reply: Sender<Result<Vec<Completion>, ModelError>>,
}

/// What the engine is asked to do.
#[derive(Debug)]
pub(crate) enum Job {
    Generate(GenerateJob),
    /// Load new weights from a directory; the reply is the error, if any.
    Reload {
        dir: PathBuf,
        reply: Sender<Result<(), ServeError>>,
    },
}

/// The served model.
pub(crate) struct Loaded {
    pub(crate) model: Qwen3,
    pub(crate) tokenizer: Arc<Tokenizer>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded").finish_non_exhaustive()
    }
}

/// Loads weights and tokenizer from an HF directory.
pub(crate) fn load(dir: &Path, device: &Device) -> Result<Loaded, ServeError> {
    let wrap = |source| ServeError::Model {
        dir: dir.to_path_buf(),
        source,
    };
    let (model, _) = load_pretrained(dir, device).map_err(wrap)?;
    let tokenizer = Tokenizer::from_dir(dir).map_err(wrap)?;
    Ok(Loaded {
        model,
        tokenizer: Arc::new(tokenizer),
    })
}

/// Runs until every sender is gone.
pub(crate) fn run(
    mut loaded: Loaded,
    device: Device,
    jobs: Receiver<Job>,
    max_batch_rows: usize,
    window: Duration,
    on_reload: &dyn Fn(&Path, Arc<Tokenizer>),
) {
    while let Ok(first) = jobs.recv() {
        // A short window lets concurrent requests join one batch.
        std::thread::sleep(window);
        let mut batch = vec![first];
        batch.extend(jobs.try_iter());
        let mut pending: Vec<GenerateJob> = Vec::new();
        for job in batch {
            match job {
                Job::Generate(g) => pending.push(g),
                Job::Reload { dir, reply } => {
                    run_jobs(&loaded, std::mem::take(&mut pending), max_batch_rows);
                    let result = load(&dir, &device).map(|new| {
                        on_reload(&dir, Arc::clone(&new.tokenizer));
                        loaded = new;
                    });
                    // The requester may have gone (client timeout): nothing to do.
                    let _ = reply.send(result);
                }
            }
        }
        run_jobs(&loaded, pending, max_batch_rows);
    }
}

/// Groups jobs with equal options and runs each group in chunks of at most
/// `max_batch_rows` rows.
fn run_jobs(loaded: &Loaded, jobs: Vec<GenerateJob>, max_batch_rows: usize) {
    let mut groups: Vec<Vec<GenerateJob>> = Vec::new();
    for job in jobs {
        match groups.iter_mut().find(|g| g[0].options == job.options) {
            Some(g) => g.push(job),
            None => groups.push(vec![job]),
        }
    }
    for group in groups {
        let n = group[0].options.samples_per_prompt.max(1);
        let mut chunk: Vec<GenerateJob> = Vec::new();
        let mut rows = 0;
        for job in group {
            let job_rows = job.prompts.len() * n;
            if !chunk.is_empty() && rows + job_rows > max_batch_rows {
                run_chunk(loaded, std::mem::take(&mut chunk));
                rows = 0;
            }
            rows += job_rows;
            chunk.push(job);
        }
        if !chunk.is_empty() {
            run_chunk(loaded, chunk);
        }
    }
}

/// One `generate_seeded` call over the prompts of `jobs` (same options).
fn run_chunk(loaded: &Loaded, jobs: Vec<GenerateJob>) {
    let prompts: Vec<&[u32]> = jobs
        .iter()
        .flat_map(|j| j.prompts.iter().map(Vec::as_slice))
        .collect();
    let seeds: Vec<u64> = jobs.iter().flat_map(|j| j.seeds.iter().copied()).collect();
    let options = &jobs[0].options;
    let decoder = |ids: &[u32]| loaded.tokenizer.decode(ids, true);
    tracing::debug!(
        requests = jobs.len(),
        prompts = prompts.len(),
        "generating a batch"
    );
    match generate_seeded(&loaded.model, &prompts, &seeds, options, Some(&decoder)) {
        Ok(mut all) => {
            let n = options.samples_per_prompt;
            let mut first_prompt = 0;
            for job in jobs {
                let count = job.prompts.len();
                let mut mine: Vec<Completion> = all.drain(..count * n).collect();
                for c in &mut mine {
                    c.prompt_index -= first_prompt;
                }
                first_prompt += count;
                let _ = job.reply.send(Ok(mine));
            }
        }
        // A bad job spoils a shared batch: answer each job alone so only
        // the bad one gets the error.
        Err(_) if jobs.len() > 1 => {
            for job in jobs {
                run_chunk(loaded, vec![job]);
            }
        }
        Err(e) => {
            if let Some(job) = jobs.into_iter().next() {
                let _ = job.reply.send(Err(e));
            }
        }
    }
}
