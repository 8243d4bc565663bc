//! Integration tests of rzero-data (one binary).

mod bench;
mod corpus;
mod filter;
mod jsonl;
mod oracle;
mod render;
mod reward_path;
