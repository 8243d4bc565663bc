//! The crate's one error type.

use std::path::PathBuf;

/// What went wrong talking to (or serving) `/v1/completions`.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// An endpoint URL that is not `http://host:port[/prefix]`.
    #[error("endpoint `{endpoint}`: {reason}")]
    BadEndpoint {
        /// The URL as given.
        endpoint: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A pool or request setting out of range.
    #[error("client config: {reason}")]
    BadConfig {
        /// Which setting and why.
        reason: String,
    },
    /// The server rejected the request (HTTP 4xx): retrying cannot help.
    #[error("{endpoint} rejected the request (HTTP {status}): {body}")]
    Rejected {
        /// Base URL of the server.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// Response body (the server's reason).
        body: String,
    },
    /// The server answered 200 with a body that is not what was asked for.
    #[error("{endpoint} sent a bad response: {reason}")]
    BadResponse {
        /// Base URL of the server.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Every endpoint failed on the request's last tries.
    #[error(
        "all inference endpoints are down ({attempts} tries): {}",
        list_failures(failures)
    )]
    AllDown {
        /// Tries made for the request that gave up.
        attempts: usize,
        /// Each endpoint and its last error.
        failures: Vec<(String, String)>,
    },
    /// A request used up its retries while some endpoint still answered.
    #[error("request failed after {attempts} tries, last at {endpoint}: {last_error}")]
    RetriesExhausted {
        /// Tries made.
        attempts: usize,
        /// Base URL of the last server tried.
        endpoint: String,
        /// Its error.
        last_error: String,
    },
    /// The server could not bind its address.
    #[error("cannot listen on {address}: {reason}")]
    Bind {
        /// `host:port`.
        address: String,
        /// The OS error.
        reason: String,
    },
    /// Loading or running the model failed.
    #[error("model at {}: {source}", dir.display())]
    Model {
        /// The model directory.
        dir: PathBuf,
        /// The model error.
        #[source]
        source: rzero_model::ModelError,
    },
}

fn list_failures(failures: &[(String, String)]) -> String {
    failures
        .iter()
        .map(|(endpoint, error)| format!("{endpoint}: {error}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `Result` with [`ServeError`].
pub type Result<T, E = ServeError> = std::result::Result<T, E>;
