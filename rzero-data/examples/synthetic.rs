//! Prints synthetic tasks of every level, the oracle's view of them, one
//! rendered Challenger and Solver document, and completion lengths.
//!
//! Run with: `cargo run -p rzero-data --example synthetic`
//! With `-- --write-heldout DIR` it (re)writes the held-out set into DIR
//! (the repository keeps it in `data/synthetic/`).
#![expect(clippy::print_stdout, reason = "an example shows its output")]

use rzero_data::synthetic::render::approx_tokens;
use rzero_data::synthetic::{
    Document, HeldOut, HeldOutConfig, Level, Role, Surface, TaskGenerator, oracle,
};

fn main() -> Result<(), rzero_data::DataError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, dir] = args.as_slice()
        && flag == "--write-heldout"
    {
        let heldout = HeldOut::generate(&HeldOutConfig::default())?;
        for path in heldout.write(std::path::Path::new(dir))? {
            println!("wrote {}", path.display());
        }
        return Ok(());
    }
    let mut generator = TaskGenerator::new(2025);
    for level in Level::all() {
        println!("== level {level}");
        for surface in [Surface::Expression, Surface::WordProblem] {
            let task = generator.task(level, surface);
            let known = oracle(&task.question).map(|o| (o.answer, o.level.get()));
            println!(
                "  {}  => {}   oracle {:?}",
                task.question, task.answer, known
            );
            println!("     working: {}", task.working().join(" | "));
        }
        let max_tokens = (0..2000)
            .map(|i| {
                let surface = if i % 2 == 0 {
                    Surface::Expression
                } else {
                    Surface::WordProblem
                };
                let doc = Document::new(&generator.task(level, surface), Role::Solver);
                approx_tokens(&doc.completion)
            })
            .max()
            .unwrap_or(0);
        println!("  longest Solver completion of 2000: ~{max_tokens} tokens");
    }
    let task = generator.task(Level::new(3).unwrap_or(Level::MIN), Surface::Expression);
    for role in [Role::Challenger, Role::Solver] {
        println!(
            "== {role:?} document\n{}",
            Document::new(&task, role).text()
        );
    }
    Ok(())
}
