//! rzero-reward integration tests, one module per area.

mod bleu;
mod cluster;
mod equivalence;
mod rewards;
mod vote;
