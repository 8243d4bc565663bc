//! OpenAI-compatible `/v1/completions` for rzero: a client [`Pool`] that
//! spreads requests over vLLM, SGLang or `rzero serve` servers, and a
//! [`Server`] that serves an rzero-model directory.
//!
//! - [`protocol`]: the request and response bodies (vLLM's field names,
//!   `logprobs` with `token_id:N` tokens);
//! - [`client`]: [`Pool`] — least-busy balancing over endpoints, bounded
//!   concurrency on std threads, per-request timeout, retries with
//!   exponential backoff on another endpoint, an "all endpoints down" error
//!   naming each endpoint and its last error;
//! - [`server`]: [`Server`] — static batching over
//!   [`rzero_model::generate_seeded`], `/v1/completions`, `/v1/models`,
//!   `/health` and SGLang's `/update_weights_from_disk`.
//!
//! A prompt's `seed` fixes its samples: `rzero serve` gives sample `s` of a
//! prompt with seed `x` the RNG stream `sample_seed(x, 0, 0, s)`, whatever
//! else is in its batch, so a local run and a served one draw alike.
//!
//! # Example
//!
//! ```no_run
//! use rzero_serve::protocol::{CompletionRequest, Prompt};
//! use rzero_serve::{Pool, PoolConfig};
//!
//! let pool = Pool::new(PoolConfig::new(vec![
//!     "http://127.0.0.1:8001".into(),
//!     "http://127.0.0.1:8002/v1".into(),
//! ]))?;
//! let request = CompletionRequest {
//!     prompt: Some(Prompt::TokenIds(vec![1, 2, 3])),
//!     n: Some(4),
//!     max_tokens: Some(32),
//!     temperature: Some(1.0),
//!     seed: Some(7),
//!     logprobs: Some(0),
//!     return_tokens_as_token_ids: Some(true),
//!     ..CompletionRequest::default()
//! };
//! let answers = pool.complete_all(&[request])?;
//! assert_eq!(answers[0].choices.len(), 4);
//! # Ok::<(), rzero_serve::ServeError>(())
//! ```
#![warn(missing_docs)]

pub mod client;
pub mod error;
pub mod protocol;
pub mod server;

pub use client::{Pool, PoolConfig};
pub use error::{Result, ServeError};
pub use server::{Server, ServerConfig};
