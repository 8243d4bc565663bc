//! Canonical form: exact constant folding, flattened and sorted sums and
//! products. Two trees with the same canonical form are equal.

use super::budget::Budget;
use super::expr::Expr;
use super::number::Exact;

/// The canonical form of `e`; exact arithmetic that would pass the size
/// limits is left unfolded (and marks the budget).
pub fn canon(e: &Expr, budget: &mut Budget) -> Expr {
    if !budget.step() {
        return e.clone();
    }
    match e {
        Expr::Add(terms) => sum(terms.iter().map(|t| canon(t, budget)).collect(), budget),
        Expr::Mul(factors) => product(factors.iter().map(|f| canon(f, budget)).collect(), budget),
        Expr::Pow(base, exp) => power(canon(base, budget), canon(exp, budget), budget),
        Expr::Factorial(x) => match canon(x, budget) {
            Expr::Num(n) => n.factorial().map(Expr::Num).unwrap_or_else(|| {
                budget.mark();
                Expr::Factorial(Box::new(Expr::Num(n)))
            }),
            other => Expr::Factorial(Box::new(other)),
        },
        Expr::Func(f, x) => Expr::Func(*f, Box::new(canon(x, budget))),
        Expr::Log(b, x) => Expr::Log(Box::new(canon(b, budget)), Box::new(canon(x, budget))),
        Expr::PlusMinus(x) => Expr::PlusMinus(Box::new(canon(x, budget))),
        Expr::Tuple(v, pair) => Expr::Tuple(v.iter().map(|x| canon(x, budget)).collect(), *pair),
        Expr::Set(v) => Expr::Set(v.iter().map(|x| canon(x, budget)).collect()),
        Expr::Union(v) => Expr::Union(v.iter().map(|x| canon(x, budget)).collect()),
        Expr::Relation(v, ops) => {
            Expr::Relation(v.iter().map(|x| canon(x, budget)).collect(), ops.clone())
        }
        Expr::Interval(a, b, lo, hi) => Expr::Interval(
            Box::new(canon(a, budget)),
            Box::new(canon(b, budget)),
            *lo,
            *hi,
        ),
        Expr::Matrix(rows) => Expr::Matrix(
            rows.iter()
                .map(|r| r.iter().map(|x| canon(x, budget)).collect())
                .collect(),
        ),
        leaf => leaf.clone(),
    }
}

fn sum(terms: Vec<Expr>, budget: &mut Budget) -> Expr {
    let mut constant = Exact::int(0);
    let mut rest = Vec::new();
    for term in flatten(terms, |e| matches!(e, Expr::Add(_))) {
        match term {
            Expr::Num(n) => match constant.add(&n) {
                Some(total) => constant = total,
                None => {
                    budget.mark();
                    rest.push(Expr::Num(n));
                }
            },
            other => rest.push(other),
        }
    }
    assemble(rest, constant, Expr::Add, |c| {
        c.value == num_rational::BigRational::from_integer(0.into()) && !c.float
    })
}

fn product(factors: Vec<Expr>, budget: &mut Budget) -> Expr {
    let mut constant = Exact::int(1);
    let mut rest = Vec::new();
    for factor in flatten(factors, |e| matches!(e, Expr::Mul(_))) {
        match factor {
            Expr::Num(n) => match constant.mul(&n) {
                Some(total) => constant = total,
                None => {
                    budget.mark();
                    rest.push(Expr::Num(n));
                }
            },
            other => rest.push(other),
        }
    }
    if constant.value == num_rational::BigRational::from_integer(0.into())
        && rest.iter().all(is_finite_form)
    {
        return Expr::Num(constant);
    }
    assemble(rest, constant, Expr::Mul, |c| {
        c.value == num_rational::BigRational::from_integer(1.into()) && !c.float
    })
}

/// Sorted `rest` plus the folded constant (left out when it is the identity).
fn assemble(
    mut rest: Vec<Expr>,
    constant: Exact,
    make: fn(Vec<Expr>) -> Expr,
    is_identity: impl Fn(&Exact) -> bool,
) -> Expr {
    if !is_identity(&constant) || rest.is_empty() {
        rest.push(Expr::Num(constant));
    }
    if rest.len() == 1 {
        return rest.remove(0);
    }
    rest.sort_by_cached_key(|e| format!("{e:?}"));
    make(rest)
}

fn flatten(items: Vec<Expr>, nested: fn(&Expr) -> bool) -> Vec<Expr> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if nested(&item) {
            if let Expr::Add(inner) | Expr::Mul(inner) = item {
                out.extend(inner);
            }
        } else {
            out.push(item);
        }
    }
    out
}

fn power(base: Expr, exp: Expr, budget: &mut Budget) -> Expr {
    if let (Expr::Num(b), Expr::Num(x)) = (&base, &exp) {
        if let Some(value) = b.pow(x) {
            return Expr::Num(value);
        }
        let trivial = b.value.is_integer() && x.value.is_integer();
        if trivial {
            budget.mark();
        }
    }
    if matches!(&exp, Expr::Num(x) if x.value == num_rational::BigRational::from_integer(1.into()) && !x.float)
    {
        return base;
    }
    Expr::Pow(Box::new(base), Box::new(exp))
}

/// Whether `0 · e` is safely `0` (no infinity or undefined factor).
fn is_finite_form(e: &Expr) -> bool {
    !matches!(
        e,
        Expr::Inf | Expr::Pow(..) | Expr::Log(..) | Expr::Func(..)
    )
}
