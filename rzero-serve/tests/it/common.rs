//! Shared helpers: the tiny model, a server on a free port, a pool.

use std::path::PathBuf;
use std::time::Duration;

use burn::prelude::*;
use rzero_serve::{Pool, PoolConfig, Server, ServerConfig};

/// The repository's tiny model (HF layout).
pub fn tiny_model() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rzero-core/models/tiny"
    ))
}

/// `rzero serve` in this process on 127.0.0.1 and a free port.
pub fn start_server() -> Server {
    let config = ServerConfig::new(tiny_model(), "127.0.0.1:0".into(), Device::flex());
    Server::start(config).unwrap()
}

/// A pool with short timeouts for tests.
pub fn pool(endpoints: Vec<String>) -> Pool {
    let mut config = PoolConfig::new(endpoints);
    config.timeout = Duration::from_secs(60);
    config.backoff = Duration::from_millis(20);
    config.max_attempts = 3;
    config.max_in_flight = 2;
    Pool::new(config).unwrap()
}
