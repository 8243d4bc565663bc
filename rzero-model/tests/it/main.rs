//! rzero-model integration tests, one binary.

mod sampling;
mod tokenizer;
