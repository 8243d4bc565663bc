//! One module per subcommand: argument struct + `run`.
