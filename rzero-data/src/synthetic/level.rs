//! Difficulty levels. A task's level is the least level whose limits it
//! satisfies, computed from the arithmetic alone, so the oracle gives the
//! same level to a generated task and to any text that parses to it.
//!
//! | level | ops ≤ | operands ≤ | smaller `×` factor ≤ | \|values\| ≤ | negatives | example |
//! |---|---|---|---|---|---|---|
//! | 1 | 1 | 9 | no `×` | 18 | no | `3 + 4` |
//! | 2 | 2 | 9 | no `×` | 27 | no | `7 + 3 - 4` |
//! | 3 | 2 | 9 | 9 | 99 | no | `7 + 3 * 4` |
//! | 4 | 3 | 9 | 9 | 99 | yes | `(6 - 8) * 4 + 9` |
//! | 5 | 4 | 9 | 9 | 99 | yes | `(6 - 8) * 4 + 9 * 3` |
//! | 6 | anything larger | | | | | `47 - 8 * 6` |
//!
//! The ladder is one operation per level on single digits, so a small model
//! that writes its working one step per line can climb it, while answering
//! without working gets harder with every level (the built-in model's
//! frontier). Operands of two digits or more are level 6.
//!
//! "Values" are the operands and every intermediate result; "smaller
//! factor" is `min(|a|, |b|)` over the multiplications `a × b` performed.

use serde::{Deserialize, Serialize};

use super::expr::{Expr, Op};

/// A difficulty level, 1 (trivial) to 6 (hard for a ~1M-parameter model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Level(u8);

impl Level {
    /// The easiest level.
    pub const MIN: Level = Level(1);
    /// The hardest level.
    pub const MAX: Level = Level(6);

    /// `Some` for 1..=6.
    pub fn new(level: u8) -> Option<Level> {
        (1..=6).contains(&level).then_some(Level(level))
    }

    /// The number, 1..=6.
    pub fn get(self) -> u8 {
        self.0
    }

    /// All levels, easiest first.
    pub fn all() -> impl Iterator<Item = Level> {
        (1..=6).map(Level)
    }

    /// The limits of this level (`None` for level 6, which is unbounded).
    pub fn limits(self) -> Option<&'static Limits> {
        LIMITS.get(usize::from(self.0) - 1)
    }
}

impl TryFrom<u8> for Level {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, Self::Error> {
        Level::new(v).ok_or_else(|| format!("level {v} is not in 1..=6"))
    }
}

impl From<Level> for u8 {
    fn from(l: Level) -> u8 {
        l.0
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Upper limits of one level (all inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Binary operations.
    pub max_ops: usize,
    /// Largest operand literal.
    pub max_operand: i128,
    /// Largest smaller factor of a multiplication; `None` forbids `×`.
    pub max_factor: Option<i128>,
    /// Largest absolute value of any operand or intermediate result.
    pub max_abs: i128,
    /// Whether negative values may appear.
    pub allow_negative: bool,
}

const LIMITS: [Limits; 5] = [
    Limits {
        max_ops: 1,
        max_operand: 9,
        max_factor: None,
        max_abs: 18,
        allow_negative: false,
    },
    Limits {
        max_ops: 2,
        max_operand: 9,
        max_factor: None,
        max_abs: 27,
        allow_negative: false,
    },
    Limits {
        max_ops: 2,
        max_operand: 9,
        max_factor: Some(9),
        max_abs: 99,
        allow_negative: false,
    },
    Limits {
        max_ops: 3,
        max_operand: 9,
        max_factor: Some(9),
        max_abs: 99,
        allow_negative: true,
    },
    Limits {
        max_ops: 4,
        max_operand: 9,
        max_factor: Some(9),
        max_abs: 99,
        allow_negative: true,
    },
];

/// What decides a task's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// Binary operations.
    pub ops: usize,
    /// Largest |operand|.
    pub max_operand: i128,
    /// Largest smaller factor over multiplications (`None`: no `×`).
    pub max_factor: Option<i128>,
    /// Largest |value| among operands and intermediate results.
    pub max_abs: i128,
    /// Whether any operand or intermediate result is negative.
    pub negative: bool,
}

impl Features {
    /// Measures `expr`; `None` if evaluating it overflows.
    pub fn of(expr: &Expr) -> Option<Features> {
        let steps = expr.steps()?;
        let literals = expr.literals();
        let max_operand = literals
            .iter()
            .map(|v| v.checked_abs())
            .try_fold(0, |m, v| v.map(|v| m.max(v)))?;
        let mut max_abs = max_operand;
        let mut negative = literals.iter().any(|v| *v < 0);
        let mut max_factor: Option<i128> = None;
        for s in &steps {
            max_abs = max_abs.max(s.result.checked_abs()?);
            negative |= s.result < 0;
            if s.op == Op::Mul {
                let small = s.lhs.checked_abs()?.min(s.rhs.checked_abs()?);
                max_factor = Some(max_factor.map_or(small, |m| m.max(small)));
            }
        }
        Some(Features {
            ops: steps.len(),
            max_operand,
            max_factor,
            max_abs,
            negative,
        })
    }

    fn within(&self, l: &Limits) -> bool {
        let factor_ok = match (self.max_factor, l.max_factor) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(f), Some(max)) => f <= max,
        };
        self.ops <= l.max_ops
            && self.max_operand <= l.max_operand
            && factor_ok
            && self.max_abs <= l.max_abs
            && (l.allow_negative || !self.negative)
    }

    /// The least level whose limits these features satisfy.
    pub fn level(&self) -> Level {
        LIMITS
            .iter()
            .position(|l| self.within(l))
            .and_then(|i| u8::try_from(i + 1).ok())
            .map_or(Level::MAX, Level)
    }
}

/// The level of `expr`; `None` on overflow.
pub fn level_of(expr: &Expr) -> Option<Level> {
    Features::of(expr).map(|f| f.level())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: i128) -> Expr {
        Expr::Num(v)
    }

    #[test]
    fn table_examples_have_their_levels() {
        let b = Expr::bin;
        let cases = [
            (b(Op::Add, n(3), n(4)), 1),
            (b(Op::Sub, b(Op::Add, n(7), n(3)), n(4)), 2),
            (b(Op::Add, n(7), b(Op::Mul, n(3), n(4))), 3),
            (
                b(Op::Add, b(Op::Mul, b(Op::Sub, n(6), n(8)), n(4)), n(9)),
                4,
            ),
            (
                b(
                    Op::Add,
                    b(Op::Mul, b(Op::Sub, n(6), n(8)), n(4)),
                    b(Op::Mul, n(9), n(3)),
                ),
                5,
            ),
            (b(Op::Sub, n(47), b(Op::Mul, n(8), n(6))), 6),
        ];
        for (e, want) in cases {
            assert_eq!(level_of(&e).map(Level::get), Some(want), "{e}");
        }
    }

    #[test]
    fn band_edges() {
        // 9 + 9 = 18 is level 1; 9 - 9 = 0 too; 3 - 4 goes negative → level 4.
        assert_eq!(level_of(&Expr::bin(Op::Add, n(9), n(9))), Level::new(1));
        assert_eq!(level_of(&Expr::bin(Op::Sub, n(9), n(9))), Level::new(1));
        assert_eq!(level_of(&Expr::bin(Op::Sub, n(3), n(4))), Level::new(4));
        // 2 * 3 is level 3 (no multiplication below it); 10 + 1 is level 6.
        assert_eq!(level_of(&Expr::bin(Op::Mul, n(2), n(3))), Level::new(3));
        assert_eq!(level_of(&Expr::bin(Op::Add, n(10), n(1))), Level::new(6));
        // 9 * 9 + 9 = 90 stays within level 3; 9 * 9 + 9 * 9 = 162 does not.
        let nine_sq = || Expr::bin(Op::Mul, n(9), n(9));
        assert_eq!(
            level_of(&Expr::bin(Op::Add, nine_sq(), n(9))),
            Level::new(3)
        );
        assert_eq!(
            level_of(&Expr::bin(Op::Add, nine_sq(), nine_sq())),
            Level::new(6)
        );
    }
}
