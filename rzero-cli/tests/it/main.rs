//! Integration tests of the `rzero` binary and of the workspace as a whole.

mod architecture;
mod check_answers;
mod common;
mod config;
mod crash;
mod dependencies;
mod plan;
mod pretrain;
mod remote;
mod run;
