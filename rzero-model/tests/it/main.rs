//! rzero-model integration tests, one binary.

mod bpe;
mod sampling;
mod tokenizer;
