//! GRPO objective and optimizer step (work in progress).
//!
//! Will hold: group advantages, the clipped surrogate, KL estimators, loss
//! aggregation modes and a rollout-batch update over any burn module that
//! yields per-token log-probs.
#![warn(missing_docs)]
