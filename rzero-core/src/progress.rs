//! Progress reporting from the loop to whoever draws it (the CLI's bars).

use std::sync::atomic::{AtomicBool, Ordering};

/// Receives progress; libraries never draw or print themselves.
pub trait Progress {
    /// A unit of work begins: `label` like `iter 2 · solver step 3/6`.
    fn unit(&self, label: &str);
    /// A unit of work is done; `done` of `total` units are finished.
    fn done(&self, done: usize, total: usize);
}

/// Ignores all progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn unit(&self, _label: &str) {}
    fn done(&self, _done: usize, _total: usize) {}
}

/// A stop request (set by the CLI's Ctrl-C handler), honoured between units
/// of work so the run directory is always consistent.
#[derive(Debug, Default)]
pub struct StopFlag(AtomicBool);

impl StopFlag {
    /// Asks the loop to stop at the next safe point.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was requested.
    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
