//! rzero-reward integration tests, one module per area.

mod bleu;
mod checker_limits;
mod checker_props;
mod cluster;
mod equivalence;
mod format;
mod rewards;
mod texts;
mod vote;
