//! Equivalence of two answers: [`verify`] and [`equivalent`].

use crate::math::budget::Budget;
use crate::math::{compare::compare_top, parse};

/// How a [`Verdict`] was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// The normalized strings are equal.
    ExactString,
    /// Both sides reduce to exact rationals (or structures of them).
    Rational,
    /// Canonical forms (folded, flattened, sorted) agree, or relations and
    /// structures match element by element.
    Symbolic,
    /// Numeric evaluation: 6-decimal rounding when a float is involved,
    /// 1e-10 relative for constants, several sample points for variables.
    Numeric,
    /// Plain text comparison (case- and space-normalized).
    Text,
    /// Nothing matched, or one side could not be parsed.
    Different,
}

/// The detailed result of [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Whether `pred` is judged equal to `gold`.
    pub equal: bool,
    /// Which rule decided (for unequal answers, [`Method::Different`]).
    pub method: Method,
    /// Whether a work limit (length, depth, number size, steps) was hit; a
    /// hit never makes answers equal that were not shown equal.
    pub budget_hit: bool,
}

/// Whether `pred` is the same answer as `gold` (see [`verify`]).
///
/// ```
/// assert!(rzero_reward::equivalent("0.5", r"\frac{1}{2}"));
/// assert!(!rzero_reward::equivalent("2", "3"));
/// ```
pub fn equivalent(gold: &str, pred: &str) -> bool {
    verify(gold, pred).equal
}

/// Compares `pred` against `gold` and says how it decided.
///
/// Like math-verify's `verify(gold, pred)` it is not symmetric: an
/// equation in `pred` is compared by its right side when `gold` is not an
/// equation, and a `gold` assignment `x = 3` by its value.
pub fn verify(gold: &str, pred: &str) -> Verdict {
    let mut budget = Budget::default();
    let g = parse(gold, &mut budget);
    let p = parse(pred, &mut budget);
    let verdict = |equal, method, budget: &Budget| Verdict {
        equal,
        method,
        budget_hit: budget.hit,
    };
    if !g.normalized.is_empty() && g.normalized == p.normalized {
        return verdict(true, Method::ExactString, &budget);
    }
    let (Some(ge), Some(pe)) = (&g.expr, &p.expr) else {
        return verdict(false, Method::Different, &budget);
    };
    match compare_top(ge, pe, &mut budget) {
        Some(method) => verdict(true, method, &budget),
        None => verdict(false, Method::Different, &budget),
    }
}
