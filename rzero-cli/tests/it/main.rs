//! Integration tests of the `rzero` binary and of the workspace as a whole.

mod architecture;
mod check_answers;
mod common;
mod crash;
mod pretrain;
mod remote;
mod run;
