//! Deciding whether two parsed answers are equal, following math-verify's
//! `sympy_expr_eq`: relations, then sets, then text, then values.

use super::budget::Budget;
use super::canon::canon;
use super::complex::C64;
use super::eval::eval;
use super::expr::Expr;
use super::relation::{compare_relations, relation_to_set, unwrap_relations};
use crate::equiv::Method;

/// Largest set or tuple compared element by element.
const MAX_ITEMS: usize = 64;

/// `Some(method)` when `pred` equals `gold`, `None` otherwise.
pub fn compare_top(gold: &Expr, pred: &Expr, budget: &mut Budget) -> Option<Method> {
    let (gold, pred) = unwrap_relations(gold.clone(), pred.clone());
    let gold = expand_plus_minus(gold);
    let pred = expand_plus_minus(pred);
    let gold = match (&gold, pred.is_set_like()) {
        (Expr::Relation(..), true) => relation_to_set(&gold).unwrap_or(gold),
        _ => gold,
    };
    // The other way round too (math-verify only converts the gold side).
    let pred = match (&pred, gold.is_set_like()) {
        (Expr::Relation(..), true) => relation_to_set(&pred).unwrap_or(pred),
        _ => pred,
    };
    compare(&gold, &pred, budget)
}

/// Structural dispatch shared by the top level and set elements.
pub fn compare(gold: &Expr, pred: &Expr, budget: &mut Budget) -> Option<Method> {
    if !budget.step() {
        return None;
    }
    match (gold, pred) {
        (Expr::Text(a), Expr::Text(b)) => (a == b).then_some(Method::Text),
        (Expr::Text(_), _) | (_, Expr::Text(_)) => None,
        (Expr::Relation(..), Expr::Relation(..)) => compare_relations(gold, pred, budget),
        (Expr::Relation(..), _) | (_, Expr::Relation(..)) => None,
        (Expr::Matrix(a), Expr::Matrix(b)) => {
            let same_shape = a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.len() == y.len());
            let cells = a.iter().flatten().zip(b.iter().flatten());
            (same_shape
                && cells
                    .map(|(x, y)| compare(x, y, budget))
                    .collect::<Option<Vec<_>>>()
                    .is_some())
            .then_some(Method::Symbolic)
        }
        _ if gold.is_set_like() || pred.is_set_like() => compare_sets(gold, pred, budget),
        _ => compare_values(gold, pred, budget),
    }
}

fn compare_sets(gold: &Expr, pred: &Expr, budget: &mut Budget) -> Option<Method> {
    let singleton = |e: &Expr| {
        if e.is_set_like() {
            e.clone()
        } else {
            Expr::Set(vec![e.clone()])
        }
    };
    let (gold, pred) = (singleton(gold), singleton(pred));
    match (&gold, &pred) {
        (Expr::Interval(a0, a1, al, ar), Expr::Interval(b0, b1, bl, br)) => {
            (al == bl && ar == br).then_some(())?;
            compare(a0, b0, budget)?;
            compare(a1, b1, budget)
        }
        (Expr::Interval(a0, a1, true, true), Expr::Tuple(v, _) | Expr::Set(v)) if v.len() == 2 => {
            in_order(&[(**a0).clone(), (**a1).clone()], v, budget)
        }
        (Expr::Tuple(v, _) | Expr::Set(v), Expr::Interval(b0, b1, true, true)) if v.len() == 2 => {
            in_order(v, &[(**b0).clone(), (**b1).clone()], budget)
        }
        (Expr::Tuple(a, _), Expr::Tuple(b, _)) => in_order(a, b, budget),
        (Expr::Set(a) | Expr::Tuple(a, _), Expr::Set(b) | Expr::Tuple(b, _))
        | (Expr::Union(a), Expr::Union(b)) => unordered(a, b, budget),
        _ => None,
    }
}

fn in_order(a: &[Expr], b: &[Expr], budget: &mut Budget) -> Option<Method> {
    (a.len() == b.len() && a.len() <= MAX_ITEMS).then_some(())?;
    let mut method = Method::Symbolic;
    for (x, y) in a.iter().zip(b) {
        method = compare(x, y, budget)?;
    }
    Some(method)
}

/// Every gold element matches a distinct pred element.
fn unordered(a: &[Expr], b: &[Expr], budget: &mut Budget) -> Option<Method> {
    (a.len() == b.len() && a.len() <= MAX_ITEMS).then_some(())?;
    let mut used = vec![false; b.len()];
    let mut method = Method::Symbolic;
    for x in a {
        let hit = (0..b.len())
            .find(|&j| !used[j] && compare(x, &b[j], budget).inspect(|m| method = *m).is_some())?;
        used[hit] = true;
    }
    Some(method)
}

/// Values: math-verify's 6-decimal rule when a float literal stands alone,
/// then exact/canonical equality, then numeric evaluation.
pub fn compare_values(gold: &Expr, pred: &Expr, budget: &mut Budget) -> Option<Method> {
    let g = canon(gold, budget);
    let p = canon(pred, budget);
    let numeric = !g.has_symbols() && !p.has_symbols();
    if numeric && (g.is_float_atom() || p.is_float_atom()) {
        return round6_equal(&g, &p, budget);
    }
    if g == p {
        return Some(if matches!(g, Expr::Num(_)) {
            Method::Rational
        } else {
            Method::Symbolic
        });
    }
    if let (Expr::Num(_), Expr::Num(_)) = (&g, &p) {
        return None;
    }
    if budget.hit {
        // A number too large to hold exactly: floating point would only guess.
        return None;
    }
    if numeric {
        let a = eval(&g, &[], budget)?;
        let b = eval(&p, &[], budget)?;
        return close(a, b, 1e-10).then_some(Method::Numeric);
    }
    equal_at_points(&g, &p, budget).then_some(Method::Numeric)
}

fn round6_equal(g: &Expr, p: &Expr, budget: &mut Budget) -> Option<Method> {
    if let Some(equal) = tiny_values_equal(g, p, budget) {
        return equal.then_some(Method::Numeric);
    }
    if let (Expr::Num(a), Expr::Num(b)) = (g, p) {
        return (a.round_units(6) == b.round_units(6)).then_some(Method::Rational);
    }
    let a = eval(g, &[], budget)?;
    let b = eval(p, &[], budget)?;
    let units = |z: C64| (z.is_finite() && z.is_real()).then(|| (z.re * 1e6).round());
    let (a, b) = (units(a)?, units(b)?);
    (a == b).then_some(Method::Numeric)
}

/// Below 1e-4 six decimals say little (`3.61e-10` and `3.91e-10` both round
/// to 0): two non-zero values that small compare relatively (1e-6).
/// `None` when the rule does not apply.
fn tiny_values_equal(g: &Expr, p: &Expr, budget: &mut Budget) -> Option<bool> {
    let a = eval(g, &[], budget)?;
    let b = eval(p, &[], budget)?;
    let tiny = |z: C64| z.is_finite() && z.is_real() && z.re != 0.0 && z.re.abs() < 1e-4;
    (tiny(a) && tiny(b)).then(|| (a.re - b.re).abs() <= 1e-6 * a.re.abs().max(b.re.abs()))
}

fn close(a: C64, b: C64, tolerance: f64) -> bool {
    a.is_finite() && b.is_finite() && (a - b).abs() <= tolerance * a.abs().max(b.abs()).max(1.0)
}

/// Equal at several pseudo-random points (fixed seed, so verdicts repeat).
fn equal_at_points(g: &Expr, p: &Expr, budget: &mut Budget) -> bool {
    let mut names = Vec::new();
    for e in [g, p] {
        e.visit(&mut |node| {
            if let Expr::Sym(n) = node
                && !names.contains(n)
            {
                names.push(n.clone());
            }
        });
    }
    let mut agreeing = 0;
    for point in 0..6u64 {
        let env: Vec<(String, f64)> = names
            .iter()
            .enumerate()
            .map(|(j, n)| (n.clone(), sample(point, j as u64)))
            .collect();
        let (Some(a), Some(b)) = (eval(g, &env, budget), eval(p, &env, budget)) else {
            return false;
        };
        if !a.is_finite() && !b.is_finite() {
            continue;
        }
        if !close(a, b, 1e-8) {
            return false;
        }
        agreeing += 1;
    }
    agreeing >= 3
}

/// A value in ±[0.2, 2.2) from a hash of the point and variable index;
/// odd points are negative, so `\ln(x^2)` and `2\ln x` differ.
fn sample(point: u64, var: u64) -> f64 {
    let mut x = (point + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (var + 7).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 29;
    let magnitude = 0.2 + 2.0 * ((x >> 11) as f64 / (1u64 << 53) as f64);
    if point % 2 == 1 {
        -magnitude
    } else {
        magnitude
    }
}

/// `a ± b` as the set `{a + b, a - b}` (at most 8 variants).
fn expand_plus_minus(e: Expr) -> Expr {
    let mut variants = vec![e];
    for _ in 0..3 {
        let mut next = Vec::new();
        let mut changed = false;
        for v in &variants {
            match split_first_pm(v) {
                Some((plus, minus)) => {
                    next.extend([plus, minus]);
                    changed = true;
                }
                None => next.push(v.clone()),
            }
        }
        variants = next;
        if !changed {
            break;
        }
    }
    if variants.len() == 1 {
        variants.remove(0)
    } else {
        Expr::Set(variants)
    }
}

/// The tree with its first `±x` replaced by `x` and by `-x`.
fn split_first_pm(e: &Expr) -> Option<(Expr, Expr)> {
    match e {
        Expr::PlusMinus(x) => Some(((**x).clone(), Expr::negate((**x).clone()))),
        Expr::Add(v) | Expr::Mul(v) => {
            let (i, (a, b)) = v
                .iter()
                .enumerate()
                .find_map(|(i, x)| split_first_pm(x).map(|r| (i, r)))?;
            let rebuild = |item: Expr| {
                let mut items = v.clone();
                items[i] = item;
                if matches!(e, Expr::Add(_)) {
                    Expr::Add(items)
                } else {
                    Expr::Mul(items)
                }
            };
            Some((rebuild(a), rebuild(b)))
        }
        _ => None,
    }
}
