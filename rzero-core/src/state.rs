//! Where a run stands: the resumable state machine's position.
//!
//! The loop moves `Eval(0)` (the base model) → for each iteration t:
//! `Challenger{step}` → `QuestionSet` → `Solver{step}` → `Eval` → next t.
//! `state.json` is rewritten atomically after every completed unit of work,
//! always after the files that unit produced, so a crash at any instant
//! leaves a state that points at complete files.

use serde::{Deserialize, Serialize};

/// A phase of an iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "phase")]
pub enum Phase {
    /// Challenger GRPO; `step` rollout steps are done.
    Challenger {
        /// Completed rollout steps.
        step: usize,
    },
    /// Building the question set.
    QuestionSet,
    /// Solver GRPO; `step` rollout steps are done.
    Solver {
        /// Completed rollout steps.
        step: usize,
    },
    /// Evaluating the Solver of this iteration.
    Eval,
    /// All iterations are done.
    Done,
}

/// The persisted position of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    /// Current iteration; 0 while the base model is evaluated.
    pub iteration: usize,
    /// What to do next within the iteration.
    pub next: Phase,
}

impl RunState {
    /// A fresh run: evaluate the base model first.
    pub fn start() -> Self {
        Self {
            iteration: 0,
            next: Phase::Eval,
        }
    }

    /// The state after the current unit of work completes.
    ///
    /// `challenger_steps` and `solver_steps` are the rollout steps per phase;
    /// `iterations` is T.
    pub fn advance(self, challenger_steps: usize, solver_steps: usize, iterations: usize) -> Self {
        let t = self.iteration;
        let next_iteration = |t: usize| {
            if t >= iterations {
                RunState {
                    iteration: t,
                    next: Phase::Done,
                }
            } else {
                RunState {
                    iteration: t + 1,
                    next: Phase::Challenger { step: 0 },
                }
            }
        };
        match self.next {
            Phase::Challenger { step } if step + 1 < challenger_steps => RunState {
                iteration: t,
                next: Phase::Challenger { step: step + 1 },
            },
            Phase::Challenger { .. } => RunState {
                iteration: t,
                next: Phase::QuestionSet,
            },
            Phase::QuestionSet => RunState {
                iteration: t,
                next: Phase::Solver { step: 0 },
            },
            Phase::Solver { step } if step + 1 < solver_steps => RunState {
                iteration: t,
                next: Phase::Solver { step: step + 1 },
            },
            Phase::Solver { .. } => RunState {
                iteration: t,
                next: Phase::Eval,
            },
            Phase::Eval => next_iteration(t),
            Phase::Done => self,
        }
    }

    /// Whether the run is finished.
    pub fn is_done(&self) -> bool {
        self.next == Phase::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_every_unit_once_in_order() {
        let mut s = RunState::start();
        let mut seen = vec![s];
        while !s.is_done() {
            s = s.advance(2, 3, 2);
            seen.push(s);
        }
        // eval0, then per iteration: 2 challenger + qs + 3 solver + eval = 7, then done.
        assert_eq!(seen.len(), 1 + 2 * 7 + 1);
        assert_eq!(
            seen[1],
            RunState {
                iteration: 1,
                next: Phase::Challenger { step: 0 }
            }
        );
        assert_eq!(
            seen[3],
            RunState {
                iteration: 1,
                next: Phase::QuestionSet
            }
        );
        assert_eq!(
            seen[14],
            RunState {
                iteration: 2,
                next: Phase::Eval
            }
        );
    }

    #[test]
    fn state_round_trips_through_json() {
        let s = RunState {
            iteration: 2,
            next: Phase::Solver { step: 4 },
        };
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<RunState>(&text).unwrap(), s);
    }
}
