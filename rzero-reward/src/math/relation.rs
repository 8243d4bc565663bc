//! Equations and inequalities: math-verify's assignment unwrapping,
//! relation comparison, and single-variable relations as intervals.

use super::budget::Budget;
use super::compare::{compare, compare_values};
use super::eval::eval;
use super::expr::{Expr, RelOp};
use crate::equiv::Method;

fn is_equation(e: &Expr) -> bool {
    matches!(e, Expr::Relation(_, ops) if ops.iter().all(|op| *op == RelOp::Eq))
}

/// `x = …`, `f(x) = …`, `x + y = …` (math-verify: an equation whose left
/// side is made of symbols only).
fn is_assignment(e: &Expr) -> bool {
    is_equation(e)
        && matches!(e, Expr::Relation(sides, _) if sides.first().is_some_and(only_symbols))
}

/// latex2sympy's `is_expr_of_only_symbols`: symbols combined without numbers.
fn only_symbols(e: &Expr) -> bool {
    match e {
        Expr::Sym(_) => true,
        Expr::Pow(base, exp) => **exp == Expr::int(-1) && only_symbols(base),
        Expr::Add(v) | Expr::Mul(v) => v.iter().all(only_symbols),
        Expr::Func(_, x) => only_symbols(x),
        _ => false,
    }
}

fn last_side(e: Expr) -> Expr {
    match e {
        Expr::Relation(mut sides, _) => sides.pop().unwrap_or(Expr::Set(Vec::new())),
        other => other,
    }
}

/// math-verify's asymmetric unwrapping: assignments keep first and last
/// side; a pred equation against a non-equation gold compares its last
/// side; a gold assignment against a non-equation pred compares its value.
pub fn unwrap_relations(gold: Expr, pred: Expr) -> (Expr, Expr) {
    let truncate = |e: Expr| match e {
        Expr::Relation(mut sides, _) if sides.len() > 2 => {
            let last = sides.pop().unwrap_or(Expr::Set(Vec::new()));
            Expr::Relation(vec![sides.swap_remove(0), last], vec![RelOp::Eq])
        }
        other => other,
    };
    let (gold_assign, pred_assign) = (is_assignment(&gold), is_assignment(&pred));
    let (gold_eq, pred_eq) = (is_equation(&gold), is_equation(&pred));
    let gold = if gold_assign { truncate(gold) } else { gold };
    let pred = if pred_assign { truncate(pred) } else { pred };
    if pred_eq && !gold_eq {
        (gold, last_side(pred))
    } else if gold_assign && !pred_eq {
        (last_side(gold), pred)
    } else {
        (gold, pred)
    }
}

/// Relations with the same chain of signs, compared link by link.
pub fn compare_relations(gold: &Expr, pred: &Expr, budget: &mut Budget) -> Option<Method> {
    let (Expr::Relation(gs, gops), Expr::Relation(ps, pops)) = (gold, pred) else {
        return None;
    };
    (gops.len() == pops.len()).then_some(())?;
    let mut method = Method::Symbolic;
    for k in 0..gops.len() {
        method = compare_link(
            (&gs[k], gops[k], &gs[k + 1]),
            (&ps[k], pops[k], &ps[k + 1]),
            budget,
        )?;
    }
    Some(method)
}

type Link<'a> = (&'a Expr, RelOp, &'a Expr);

fn compare_link(
    (gl, gop, gr): Link<'_>,
    (pl, pop, pr): Link<'_>,
    budget: &mut Budget,
) -> Option<Method> {
    if gop == pop && compare(gl, pl, budget).is_some() && compare(gr, pr, budget).is_some() {
        return Some(Method::Symbolic);
    }
    if gl.is_set_like() || gr.is_set_like() || pl.is_set_like() || pr.is_set_like() {
        return None;
    }
    let diff = |l: &Expr, r: &Expr| Expr::Add(vec![l.clone(), Expr::negate(r.clone())]);
    let gold_diff = diff(gl, gr);
    if gop == pop && compare_values(&gold_diff, &diff(pl, pr), budget).is_some() {
        return Some(Method::Symbolic);
    }
    if gop.flipped() == pop && compare_values(&gold_diff, &diff(pr, pl), budget).is_some() {
        return Some(Method::Symbolic);
    }
    // Same solutions: one side a constant multiple of the other (like solve()).
    let ratio = constant_ratio(&gold_diff, &diff(pl, pr), budget)?;
    let same = match (gop, pop) {
        (RelOp::Eq, RelOp::Eq) | (RelOp::Ne, RelOp::Ne) => true,
        _ if gop == pop => ratio > 0.0,
        _ if gop.flipped() == pop => ratio < 0.0,
        _ => false,
    };
    same.then_some(Method::Numeric)
}

/// `a / b` when it is the same non-zero real number at every sample point.
fn constant_ratio(a: &Expr, b: &Expr, budget: &mut Budget) -> Option<f64> {
    let mut names = Vec::new();
    for e in [a, b] {
        e.visit(&mut |n| {
            if let Expr::Sym(s) = n
                && !names.contains(s)
            {
                names.push(s.clone());
            }
        });
    }
    let mut ratio: Option<f64> = None;
    for point in 0..4 {
        let env: Vec<(String, f64)> = names
            .iter()
            .enumerate()
            .map(|(j, n)| (n.clone(), 0.3 + 0.61 * f64::from(point) + 0.37 * j as f64))
            .collect();
        let r = eval(a, &env, budget)? / eval(b, &env, budget)?;
        (r.is_finite() && r.is_real() && r.re != 0.0).then_some(())?;
        match ratio {
            Some(first) if (first - r.re).abs() > 1e-9 * first.abs() => return None,
            Some(_) => {}
            None => ratio = Some(r.re),
        }
    }
    ratio
}

/// `x > 3` as `(3, ∞)`, `1 < x \le 2` as `(1, 2]`: relations of one bare
/// variable with constant bounds.
pub fn relation_to_set(e: &Expr) -> Option<Expr> {
    let Expr::Relation(sides, ops) = e else {
        return None;
    };
    let inf = || Box::new(Expr::Inf);
    let neg_inf = || Box::new(Expr::negate(Expr::Inf));
    let constant = |x: &Expr| !x.has_symbols() && !x.is_set_like();
    match (sides.as_slice(), ops.as_slice()) {
        ([Expr::Sym(_), c], [op]) if constant(c) => Some(one_sided(*op, c.clone(), inf, neg_inf)),
        ([c, Expr::Sym(_)], [op]) if constant(c) => {
            Some(one_sided(op.flipped(), c.clone(), inf, neg_inf))
        }
        ([a, Expr::Sym(_), b], [op1, op2]) if constant(a) && constant(b) => {
            let lower = |op: &RelOp| matches!(op, RelOp::Lt | RelOp::Le);
            let upper = |op: &RelOp| matches!(op, RelOp::Gt | RelOp::Ge);
            if lower(op1) && lower(op2) {
                Some(Expr::Interval(
                    Box::new(a.clone()),
                    Box::new(b.clone()),
                    *op1 == RelOp::Lt,
                    *op2 == RelOp::Lt,
                ))
            } else if upper(op1) && upper(op2) {
                Some(Expr::Interval(
                    Box::new(b.clone()),
                    Box::new(a.clone()),
                    *op2 == RelOp::Gt,
                    *op1 == RelOp::Gt,
                ))
            } else {
                None
            }
        }
        _ => None,
    }
}

fn one_sided(
    op: RelOp,
    c: Expr,
    inf: impl Fn() -> Box<Expr>,
    neg_inf: impl Fn() -> Box<Expr>,
) -> Expr {
    let c = Box::new(c);
    match op {
        RelOp::Lt => Expr::Interval(neg_inf(), c, true, true),
        RelOp::Le => Expr::Interval(neg_inf(), c, true, false),
        RelOp::Gt => Expr::Interval(c, inf(), true, true),
        RelOp::Ge => Expr::Interval(c, inf(), false, true),
        RelOp::Eq => Expr::Set(vec![*c]),
        RelOp::Ne => Expr::Union(vec![
            Expr::Interval(neg_inf(), c.clone(), true, true),
            Expr::Interval(c, inf(), true, true),
        ]),
    }
}
