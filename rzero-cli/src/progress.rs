//! The CLI's side of `rzero_core::progress::Progress`: an indicatif bar.

use indicatif::{ProgressBar, ProgressStyle};
use rzero_core::progress::Progress;

/// A bar over the run's units of work, with ETA.
pub struct Bar(ProgressBar);

impl Bar {
    /// A hidden-until-first-update bar.
    pub fn new() -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} units · ETA {eta} · {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(250));
        Self(bar)
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn unit(&self, label: &str) {
        self.0.set_message(label.to_string());
    }

    fn done(&self, done: usize, total: usize) {
        self.0.set_length(total as u64);
        self.0.set_position(done as u64);
    }
}
