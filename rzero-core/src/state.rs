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

    /// The one checkpoint step of `role_steps`-step phase `challenger` (or
    /// the Solver's) in iteration `t` that this state still needs: the last
    /// step of a finished phase, the previous step of the phase in progress,
    /// none for a phase not yet started. Every other checkpoint is superseded.
    pub fn live_checkpoint(&self, t: usize, challenger: bool, role_steps: usize) -> Option<usize> {
        let last = role_steps.checked_sub(1);
        if t == 0 || t > self.iteration {
            return None;
        }
        if t < self.iteration {
            return last;
        }
        match (self.next, challenger) {
            (Phase::Challenger { step }, true) | (Phase::Solver { step }, false) => {
                step.checked_sub(1)
            }
            (Phase::Challenger { .. }, false) | (Phase::QuestionSet, false) => None,
            _ => last,
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
    fn live_checkpoints_follow_the_phase() {
        let at = |t, next| RunState { iteration: t, next };
        let live = |s: RunState, t, c| s.live_checkpoint(t, c, if c { 3 } else { 4 });
        let s = at(2, Phase::Challenger { step: 0 });
        assert_eq!((live(s, 1, true), live(s, 1, false)), (Some(2), Some(3)));
        assert_eq!((live(s, 2, true), live(s, 2, false)), (None, None));
        let s = at(2, Phase::Challenger { step: 2 });
        assert_eq!((live(s, 2, true), live(s, 2, false)), (Some(1), None));
        let s = at(2, Phase::QuestionSet);
        assert_eq!((live(s, 2, true), live(s, 2, false)), (Some(2), None));
        let s = at(2, Phase::Solver { step: 1 });
        assert_eq!((live(s, 2, true), live(s, 2, false)), (Some(2), Some(0)));
        let s = at(2, Phase::Eval);
        assert_eq!((live(s, 2, true), live(s, 2, false)), (Some(2), Some(3)));
        assert_eq!(live(at(0, Phase::Eval), 1, true), None);
        assert_eq!(live(at(1, Phase::Eval), 3, false), None);
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
