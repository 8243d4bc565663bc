//! Integration tests of rzero-grpo (one binary).

mod adamw_vs_torch;
mod advantage_vs_torch;
mod common;
mod degenerate;
mod edges;
mod finite_diff;
mod learning;
mod loss_vs_torch;
mod resume;
mod toy;
