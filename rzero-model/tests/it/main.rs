//! rzero-model integration tests, one binary.

mod attention_op;
mod chunked_logprobs;
mod common;
mod config;
mod decode_kernels;
mod errors;
mod frozen;
mod generation;
mod hf_reference;
mod kernels;
mod layer_op;
mod logprobs;
mod lora;
mod random_checkpoint;
mod sampling;
mod tokenizer;
mod weights;
