//! Integration tests of rzero-core, linked as one binary.

mod ablations;
mod plan;
mod run;
