//! One module per subcommand: argument struct + `run`.

pub mod check_answers;
pub mod eval;
pub mod generate;
pub mod plan;
pub mod pretrain;
pub mod report;
pub mod run;
pub mod serve;
