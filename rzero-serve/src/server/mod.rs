//! `rzero serve`: an OpenAI-compatible completions server over rzero-model.
//!
//! Routes: `POST /v1/completions`, `GET /v1/models`, `GET /health`, and
//! `POST /update_weights_from_disk` (`{"model_path": DIR}`, as SGLang) to
//! swap in new weights between batches. HTTP threads parse requests and
//! wait; one engine thread owns the model and batches (see `engine`).

mod engine;
mod http;
mod respond;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burn::prelude::*;
use rzero_model::tokenizer::Tokenizer;

use crate::error::{Result, ServeError};
use engine::Job;

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// HF model directory.
    pub model: PathBuf,
    /// `host:port`; port 0 picks a free one (see [`Server::address`]).
    pub address: String,
    /// Device of the model.
    pub device: Device,
    /// Name in `/v1/models` and responses; requests naming another model get 404.
    pub served_model_name: Option<String>,
    /// Rows (prompts × n) per generate call.
    pub max_batch_rows: usize,
    /// How long the engine waits for more requests before a batch.
    pub batch_window: Duration,
    /// HTTP handler threads (concurrent requests accepted).
    pub http_threads: usize,
}

impl ServerConfig {
    /// Defaults: 128 rows, 5 ms window, 16 HTTP threads, name = the path.
    pub fn new(model: PathBuf, address: String, device: Device) -> Self {
        Self {
            model,
            address,
            device,
            served_model_name: None,
            max_batch_rows: 128,
            batch_window: Duration::from_millis(5),
            http_threads: 16,
        }
    }
}

/// What HTTP threads share.
struct Shared {
    name: String,
    created: u64,
    root: RwLock<PathBuf>,
    tokenizer: RwLock<Arc<Tokenizer>>,
}

/// A running server; dropping it does not stop it (see [`Server::shutdown`]).
pub struct Server {
    address: SocketAddr,
    http: Arc<tiny_http::Server>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Loads the model, binds the address and starts serving.
    pub fn start(config: ServerConfig) -> Result<Self> {
        let loaded = engine::load(&config.model, &config.device)?;
        let http = tiny_http::Server::http(&config.address).map_err(|e| ServeError::Bind {
            address: config.address.clone(),
            reason: e.to_string(),
        })?;
        let address = http.server_addr().to_ip().ok_or_else(|| ServeError::Bind {
            address: config.address.clone(),
            reason: "not an IP address".into(),
        })?;
        let http = Arc::new(http);
        let (jobs, receiver) = channel();
        let shared = Arc::new(Shared {
            name: config
                .served_model_name
                .clone()
                .unwrap_or_else(|| config.model.display().to_string()),
            created: unix_now(),
            root: RwLock::new(config.model.clone()),
            tokenizer: RwLock::new(Arc::clone(&loaded.tokenizer)),
        });
        let mut threads = Vec::new();
        let engine_shared = Arc::clone(&shared);
        threads.push(std::thread::spawn(move || {
            let on_reload = |dir: &std::path::Path, tokenizer: Arc<Tokenizer>| {
                *write(&engine_shared.root) = dir.to_path_buf();
                *write(&engine_shared.tokenizer) = tokenizer;
            };
            engine::run(
                loaded,
                config.device,
                receiver,
                config.max_batch_rows.max(1),
                config.batch_window,
                &on_reload,
            );
        }));
        for _ in 0..config.http_threads.max(1) {
            let http = Arc::clone(&http);
            let shared = Arc::clone(&shared);
            let jobs: Sender<Job> = jobs.clone();
            threads.push(std::thread::spawn(move || {
                while let Ok(request) = http.recv() {
                    http::handle(request, &shared, &jobs);
                }
            }));
        }
        // The engine ends when the last HTTP thread drops its sender.
        drop(jobs);
        tracing::info!(%address, model = %config.model.display(), "serving /v1/completions");
        Ok(Self {
            address,
            http,
            threads,
        })
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://address`, the base URL for a client.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Blocks while the server runs.
    pub fn join(self) {
        for t in self.threads {
            let _ = t.join();
        }
    }

    /// Stops accepting requests and waits for the threads to end.
    pub fn shutdown(self) {
        for _ in 0..self.threads.len() {
            self.http.unblock();
        }
        self.join();
    }
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
