//! Integer arithmetic expressions: the tree, exact evaluation, rendering
//! with the parentheses needed to parse back to the same tree, and the
//! step-by-step working in order of evaluation.

use std::fmt;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
}

impl Op {
    /// The ASCII symbol used in questions and working.
    pub fn symbol(self) -> char {
        match self {
            Op::Add => '+',
            Op::Sub => '-',
            Op::Mul => '*',
        }
    }

    fn precedence(self) -> u8 {
        match self {
            Op::Add | Op::Sub => 1,
            Op::Mul => 2,
        }
    }

    /// `lhs op rhs`, or `None` on overflow.
    pub fn apply(self, lhs: i128, rhs: i128) -> Option<i128> {
        match self {
            Op::Add => lhs.checked_add(rhs),
            Op::Sub => lhs.checked_sub(rhs),
            Op::Mul => lhs.checked_mul(rhs),
        }
    }
}

/// An expression tree over integers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    /// A non-negative literal.
    Num(i128),
    /// Unary minus (only the oracle produces it, for text like `-3 * 4`).
    Neg(Box<Expr>),
    /// `lhs op rhs`.
    Bin(Op, Box<Expr>, Box<Expr>),
}

/// One operation of the working: `lhs op rhs = result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Left operand's value.
    pub lhs: i128,
    /// The operator.
    pub op: Op,
    /// Right operand's value.
    pub rhs: i128,
    /// The result.
    pub result: i128,
}

impl fmt::Display for Step {
    /// Compact, no spaces (`12*4=48`), negatives in parentheses on the right
    /// (`5-(-3)=8`): short lines for a tiny model.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = self.op.symbol();
        if self.rhs < 0 {
            write!(f, "{}{op}({})={}", self.lhs, self.rhs, self.result)
        } else {
            write!(f, "{}{op}{}={}", self.lhs, self.rhs, self.result)
        }
    }
}

impl Expr {
    /// `lhs op rhs`.
    pub fn bin(op: Op, lhs: Expr, rhs: Expr) -> Expr {
        Expr::Bin(op, Box::new(lhs), Box::new(rhs))
    }

    /// The exact value, or `None` on `i128` overflow.
    pub fn eval(&self) -> Option<i128> {
        match self {
            Expr::Num(n) => Some(*n),
            Expr::Neg(e) => e.eval()?.checked_neg(),
            Expr::Bin(op, l, r) => op.apply(l.eval()?, r.eval()?),
        }
    }

    /// The operations in order of evaluation (post-order, left first), or
    /// `None` on overflow. Unary minus folds into its operand, no step.
    pub fn steps(&self) -> Option<Vec<Step>> {
        let mut steps = Vec::new();
        self.collect_steps(&mut steps)?;
        Some(steps)
    }

    fn collect_steps(&self, steps: &mut Vec<Step>) -> Option<i128> {
        match self {
            Expr::Num(n) => Some(*n),
            Expr::Neg(e) => e.collect_steps(steps)?.checked_neg(),
            Expr::Bin(op, l, r) => {
                let lhs = l.collect_steps(steps)?;
                let rhs = r.collect_steps(steps)?;
                let result = op.apply(lhs, rhs)?;
                steps.push(Step {
                    lhs,
                    op: *op,
                    rhs,
                    result,
                });
                Some(result)
            }
        }
    }

    /// Number of binary operations.
    pub fn op_count(&self) -> usize {
        match self {
            Expr::Num(_) => 0,
            Expr::Neg(e) => e.op_count(),
            Expr::Bin(_, l, r) => 1 + l.op_count() + r.op_count(),
        }
    }

    /// Literal values, left to right (a negated literal counts as negative).
    pub fn literals(&self) -> Vec<i128> {
        let mut out = Vec::new();
        self.collect_literals(false, &mut out);
        out
    }

    fn collect_literals(&self, negated: bool, out: &mut Vec<i128>) {
        match self {
            Expr::Num(n) => out.push(if negated { n.saturating_neg() } else { *n }),
            Expr::Neg(e) => e.collect_literals(!negated, out),
            Expr::Bin(_, l, r) => {
                l.collect_literals(false, out);
                r.collect_literals(false, out);
            }
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Num(_) => 4,
            Expr::Neg(_) => 3,
            Expr::Bin(op, _, _) => op.precedence(),
        }
    }
}

impl fmt::Display for Expr {
    /// Spaced infix (`(12 + 5) * 3`). A child is parenthesised when its
    /// precedence is lower than its parent's, and a right child also when
    /// equal, so the text parses back (left-associatively) to this tree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Num(n) => write!(f, "{n}"),
            Expr::Neg(e) => {
                if e.precedence() < 3 {
                    write!(f, "-({e})")
                } else {
                    write!(f, "-{e}")
                }
            }
            Expr::Bin(op, l, r) => {
                let p = op.precedence();
                if l.precedence() < p {
                    write!(f, "({l})")?;
                } else {
                    write!(f, "{l}")?;
                }
                write!(f, " {} ", op.symbol())?;
                if r.precedence() <= p {
                    write!(f, "({r})")
                } else {
                    write!(f, "{r}")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: i128) -> Expr {
        Expr::Num(v)
    }

    #[test]
    fn renders_minimal_but_unambiguous_parentheses() {
        let e = Expr::bin(Op::Mul, Expr::bin(Op::Add, n(12), n(5)), n(3));
        assert_eq!(e.to_string(), "(12 + 5) * 3");
        let e = Expr::bin(Op::Add, n(3), Expr::bin(Op::Mul, n(4), n(2)));
        assert_eq!(e.to_string(), "3 + 4 * 2");
        let e = Expr::bin(Op::Sub, n(9), Expr::bin(Op::Sub, n(5), n(2)));
        assert_eq!(e.to_string(), "9 - (5 - 2)");
        let e = Expr::bin(Op::Sub, Expr::bin(Op::Sub, n(9), n(5)), n(2));
        assert_eq!(e.to_string(), "9 - 5 - 2");
    }

    #[test]
    fn steps_follow_evaluation_order() {
        let e = Expr::bin(Op::Add, n(3), Expr::bin(Op::Mul, n(4), n(2)));
        let lines: Vec<String> = e.steps().unwrap().iter().map(Step::to_string).collect();
        assert_eq!(lines, ["4*2=8", "3+8=11"]);
        let e = Expr::bin(Op::Sub, n(3), Expr::bin(Op::Sub, n(4), n(9)));
        let lines: Vec<String> = e.steps().unwrap().iter().map(Step::to_string).collect();
        assert_eq!(lines, ["4-9=-5", "3-(-5)=8"]);
        assert_eq!(e.eval(), Some(8));
    }

    #[test]
    fn overflow_is_none() {
        use crate::synthetic::level_of;
        let min = Expr::bin(Op::Add, n(i128::MIN), n(1));
        assert_eq!(level_of(&min), None);
        assert_eq!(Expr::Neg(Box::new(n(i128::MIN))).eval(), None);
        let big = n(i128::MAX);
        assert_eq!(Expr::bin(Op::Add, big.clone(), n(1)).eval(), None);
        assert_eq!(Expr::bin(Op::Mul, big, n(2)).steps(), None);
    }
}
