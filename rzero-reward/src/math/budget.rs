//! The fixed work budget of one comparison.

/// Longest answer (bytes, per side) that is parsed; longer ones are only
/// compared as normalized strings.
pub const MAX_INPUT_BYTES: usize = 2000;

/// Tree nodes visited per comparison (folding, evaluation, all points).
pub const MAX_STEPS: u32 = 200_000;

/// Counts work and remembers whether a limit was hit.
#[derive(Debug, Clone)]
pub struct Budget {
    steps_left: u32,
    /// Whether any limit (steps, size, depth, number size) was hit.
    pub hit: bool,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            steps_left: MAX_STEPS,
            hit: false,
        }
    }
}

impl Budget {
    /// Spends one step; `false` once the budget is gone.
    pub fn step(&mut self) -> bool {
        if self.steps_left == 0 {
            self.hit = true;
            return false;
        }
        self.steps_left -= 1;
        true
    }

    /// Records that some other limit was hit.
    pub fn mark(&mut self) {
        self.hit = true;
    }
}
