//! Equivalence of two answers: [`verify`] and [`equivalent`].
//!
//! # Reference
//! The verdict follows Hugging Face math-verify 0.8 on answers as they come
//! out of a box: `verify(parse("\\boxed{gold}"), parse("\\boxed{pred}"))`.
//! `tests/fixtures/equivalence/cases.jsonl` (507 rows, made by
//! `make_cases.py`) and `random_cases.jsonl` (320 rows) hold math-verify's
//! verdicts; the test `equivalence::agrees_with_math_verify_on_case_file`
//! requires the same verdict on every row without an override, and the
//! random-row test on every row but those in its `KNOWN_RANDOM_DIFFERENCES`
//! list (one: a percent math-verify rounds before scaling), so any change of
//! verdict fails; `equivalence::overrides_give_the_right_verdict` checks the
//! overrides. Whole texts (solutions, sentences) go through
//! [`crate::text::verify_texts`], checked on `tests/fixtures/texts/`.
//!
//! # How a pair is decided
//! 1. Both answers are normalized ([`crate::math::normalize`]): `$…$` and box
//!    wrappers, `\left`/`\right`, `\dfrac`, `^\circ`, `\%`, `\text{…}`
//!    (unit words after a quantity are dropped), thousands separators
//!    (`1,000`, `1{,}000`, `1\,000`). Equal normalized strings are equal
//!    ([`Method::ExactString`]).
//! 2. Each is parsed into an [`Expr`](crate::math::expr::Expr): numbers of
//!    any size as exact rationals, decimals and `1.5e3` (marked as floats),
//!    `\frac`/`a/b`, roots, powers, π, e, i, functions, implicit products,
//!    `\pm`, tuples, sets, intervals, unions, relation chains, matrices; a
//!    lone letter is a case-insensitive choice/variable; words are text.
//! 3. math-verify's asymmetric unwrapping: a gold assignment `x = 3` (left
//!    side only symbols) against a pred that is no equation compares `3`; a
//!    pred equation against a gold that is none compares its last side; a
//!    gold relation against a pred set becomes an interval (`x > 3` ≡ `(3,∞)`).
//! 4. Structures compare element-wise (sets and unions in any order, tuples in
//!    order, `(a,b)` also as an open interval; intervals by ends and brackets).
//! 5. Values: if either side is a lone float literal (or a percent of one),
//!    both are rounded to 6 decimals (math-verify's rule); otherwise equal
//!    canonical forms (exact constant folding, flattened, sorted sums and
//!    products) decide ([`Method::Rational`], [`Method::Symbolic`]); then
//!    constants are evaluated in complex `f64` (1e-10 relative) and
//!    expressions with variables at 6 fixed pseudo-random points of both
//!    signs (1e-8 relative) ([`Method::Numeric`]).
//!
//! # Budget (never hangs)
//! Every call does bounded work: each answer at most
//! [`MAX_INPUT_BYTES`](crate::math::budget::MAX_INPUT_BYTES) = 2000 bytes is
//! parsed (longer ones only compare as strings), nesting at most
//! [`MAX_DEPTH`](crate::math::parser::MAX_DEPTH) = 64, exact numbers at most
//! [`MAX_BITS`](crate::math::number::MAX_BITS) = 4096 bits (exponents that
//! would pass it are not expanded: `10^{10^{10}}` stays a power), factorials
//! exact up to 400!, sets of at most 64 elements, ±-expansions at most 8, and
//! at most [`MAX_STEPS`](crate::math::budget::MAX_STEPS) = 200 000 tree nodes
//! visited in all. When a limit is hit, [`Verdict::budget_hit`] is set and
//! only string or canonical equality can still make the answers equal
//! (floating point is not trusted for numbers it cannot hold). Measured in
//! a release build, `10^{10^{10}}`, `9^{9^{9^9}}`, `1000000!`, a 10 000-term
//! sum, 1000 nested parentheses and unbalanced braces each take under
//! 0.02 ms; the slowest input found, two 60-element sets of roots in
//! opposite orders, takes 1.4 ms (see `reward_check/hostile` in BENCHMARKS.md).
//!
//! # Deliberate differences from math-verify 0.8
//! Each is a row with an `"override"` reason in the case file.
//! - A thin space separates thousands: `1\,000` ≡ `1000` (math-verify: `1·0`).
//! - Scientific notation: `1.5e3` ≡ `1500`, `2e-3` ≡ `0.002`, `1e2` ≡ `100`
//!   (math-verify: `1.5·e·3`).
//! - The 6-decimal rule also holds against integers: `1.9999999` ≡ `2`,
//!   `0.0000001` ≡ `0`, `0.1^{100}` ≡ `0` (math-verify: sympy's
//!   `Float(2.0) != Integer(2)` after rounding).
//! - Large decimals stay exact: `6.02\times 10^{23}` ≡
//!   `602000000000000000000000` (math-verify: 15-digit floats).
//! - Complex arithmetic is done: `i^2` ≡ `-1`, `(1+i)^2` ≡ `2i`, `\sqrt{-1}` ≡ `i`.
//! - The Unicode degree sign is dropped like `^\circ`: `30°` ≡ `30`.
//! - Relations with the same solutions, one side a constant multiple of the
//!   other: `2x=4` ≡ `x=2`, `2x>6` ≡ `x>3` (a negative multiple flips `<`/`>`;
//!   math-verify's `solve` step fails on these).
//! - A final period ends the sentence: `3.` ≡ `3`, `5.` ≡ `5.0`.
//! - `\sqrt{x}\sqrt{x}` ≡ `x` (true for every complex `x`).
//! - The same huge number written two ways is equal: `10^{10^{10}}` ≡
//!   `10^{10000000000}` (math-verify times out after 5 s and says no).
//! - A percent against a bare number is also read without the sign:
//!   `50\%` ≡ `50` as well as `50\%` ≡ `0.5` (math-verify: only `0.5`, and
//!   its `parse` on bare text reads `50%` and `50\%` differently).
//! - An inequality chain and the interval it describes are equal either way
//!   round: `[-2, 7]` ≡ `-2 \le x \le 7` (math-verify converts only a gold
//!   relation).
//! - Not in the case file (math-verify agrees on the rows there):
//!   - two non-zero values below 1e-4 compare relatively (1e-6), not by the
//!     6-decimal rule: `3.61e-10` ≢ `3.91e-10`, `4.6 \times 10^{-24}` ≡
//!     `4.6e-24` (math-verify rounds both to 0);
//!   - `3,5` against a single decimal is a decimal comma (`3,5` ≡ `3.5`; not
//!     `1,000`, a thousands group);
//!   - several values of one variable are the list of values:
//!     `x = 5 \text{ or } x = -3` ≡ `-3, 5`;
//!   - any word after a plain number is a unit: `12 cookies` ≡ `12`;
//!   - backslashes doubled throughout (`\\frac{1}{2}`, copied out of JSON)
//!     are halved.
//! - Not in the case file: answers are always read as LaTeX math, as a box
//!   would be; math-verify given a bare string (no box, no `$`) only
//!   extracts plain numbers, so it reads `6 - 5i` as `5`.
//! - Expressions with variables are compared at sample points rather than by
//!   sympy's `simplify`, so identities sympy cannot prove (and those it
//!   proves) are found alike; two different functions that agree at all 6
//!   points would be judged equal (not seen in practice).

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
    let (gold_bases, pred_bases) = (bases(gold), bases(pred));
    if !gold_bases.is_empty() && !pred_bases.is_empty() && gold_bases != pred_bases {
        // `4343_6` and `4343_8` are different numbers with the same digits.
        return Verdict {
            equal: false,
            method: Method::Different,
            budget_hit: false,
        };
    }
    let first = verify_with(gold, pred, &mut budget);
    if first.equal {
        return first;
    }
    match retry_reading(gold, pred) {
        Some((g, p)) => {
            let second = verify_with(&g, &p, &mut budget);
            Verdict {
                budget_hit: budget.hit,
                ..second
            }
        }
        None => first,
    }
}

/// The bases of the numbers written with a base subscript (`204_5`,
/// `11_{2}`), which normalization drops (at most 8).
fn bases(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (at, _) in s.match_indices('_').take(64) {
        if !s[..at].ends_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let rest = &s[at + 1..];
        let inner = rest.strip_prefix('{').unwrap_or(rest);
        let len = inner.bytes().take_while(u8::is_ascii_digit).count();
        if len > 0 && out.len() < 8 {
            out.push(&inner[..len]);
        }
    }
    out
}

/// A second reading of a pair that did not match: a percent against a bare
/// number is also read without the percent sign (`50\%` ≡ `50`, besides
/// `50\%` ≡ `0.5`), and `3,5` against a single decimal is a decimal comma.
fn retry_reading(gold: &str, pred: &str) -> Option<(String, String)> {
    let has_percent = |s: &str| {
        s.trim_end()
            .trim_end_matches(['.', '$', '}'])
            .ends_with('%')
    };
    let drop_percent = |s: &str| s.replace("\\%", "").replace('%', "");
    match (has_percent(gold), has_percent(pred)) {
        (true, false) => return Some((drop_percent(gold), pred.to_owned())),
        (false, true) => return Some((gold.to_owned(), drop_percent(pred))),
        _ => {}
    }
    let decimal = |s: &str| {
        let t = s.trim().trim_matches('$').trim();
        let digits = t.strip_prefix('-').unwrap_or(t);
        let (int, frac) = digits.split_once('.')?;
        (!int.is_empty()
            && !frac.is_empty()
            && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()))
        .then_some(())
    };
    let comma = |s: &str| {
        let t = s.trim().trim_matches('$').trim();
        let digits = t.strip_prefix('-').unwrap_or(t);
        let (int, frac) = digits.split_once(',')?;
        let plain = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
        (plain(int) && plain(frac) && frac.len() != 3).then(|| t.replacen(',', ".", 1))
    };
    match (decimal(gold), decimal(pred)) {
        (Some(()), None) => comma(pred).map(|p| (gold.to_owned(), p)),
        (None, Some(())) => comma(gold).map(|g| (g, pred.to_owned())),
        _ => None,
    }
}

fn verify_with(gold: &str, pred: &str, budget: &mut Budget) -> Verdict {
    let g = parse(gold, budget);
    let p = parse(pred, budget);
    let method = if !g.normalized.is_empty() && g.normalized == p.normalized {
        Some(Method::ExactString)
    } else if let (Some(ge), Some(pe)) = (&g.expr, &p.expr) {
        compare_top(ge, pe, budget)
    } else {
        None
    };
    Verdict {
        equal: method.is_some(),
        method: method.unwrap_or(Method::Different),
        budget_hit: budget.hit,
    }
}
