//! rzero-serve integration tests, one binary.

mod common;
mod faults;
mod protocol;
mod server;
