//! One module per subcommand: argument struct + `run`.

pub mod check_answers;
pub mod generate;
