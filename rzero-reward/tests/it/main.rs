//! rzero-reward integration tests, one module per area.

mod bleu;
mod cluster;
mod rewards;
mod vote;
