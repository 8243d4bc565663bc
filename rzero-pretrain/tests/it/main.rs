//! Integration tests of rzero-pretrain, linked as one binary.

mod bpe;
mod pretrain;
