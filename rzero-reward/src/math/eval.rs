//! Numeric evaluation of an expression in complex `f64`.

use super::budget::Budget;
use super::complex::C64;
use super::expr::{Expr, Func};

/// Values of the variables, by name.
pub type Env<'a> = &'a [(String, f64)];

/// The value of `e` with variables from `env`; `None` for structures,
/// unknown variables, or when the budget runs out.
pub fn eval(e: &Expr, env: Env<'_>, budget: &mut Budget) -> Option<C64> {
    if !budget.step() {
        return None;
    }
    Some(match e {
        Expr::Num(n) => C64::real(n.to_f64()),
        Expr::Sym(name) => C64::real(env.iter().find(|(n, _)| n == name)?.1),
        Expr::Pi => C64::real(std::f64::consts::PI),
        Expr::E => C64::real(std::f64::consts::E),
        Expr::I => C64::I,
        Expr::Inf => C64::real(f64::INFINITY),
        Expr::Add(terms) => {
            let mut acc = C64::real(0.0);
            for t in terms {
                acc = acc + eval(t, env, budget)?;
            }
            acc
        }
        Expr::Mul(factors) => {
            let mut acc = C64::real(1.0);
            for f in factors {
                acc = acc * eval(f, env, budget)?;
            }
            acc
        }
        Expr::Pow(b, x) => eval(b, env, budget)?.pow(eval(x, env, budget)?),
        Expr::Func(f, x) => apply(*f, eval(x, env, budget)?),
        Expr::Log(b, x) => {
            let base = eval(b, env, budget)?;
            eval(x, env, budget)?.ln() / base.ln()
        }
        Expr::Factorial(x) => eval(x, env, budget)?.real_only(factorial),
        _ => return None,
    })
}

fn apply(f: Func, z: C64) -> C64 {
    let one = C64::real(1.0);
    match f {
        Func::Sin => z.sin(),
        Func::Cos => z.cos(),
        Func::Tan => z.sin() / z.cos(),
        Func::Cot => z.cos() / z.sin(),
        Func::Sec => one / z.cos(),
        Func::Csc => one / z.sin(),
        Func::Asin => z.real_only(f64::asin),
        Func::Acos => z.real_only(f64::acos),
        Func::Atan => z.real_only(f64::atan),
        Func::Sinh => (z.exp() - (-z).exp()) / C64::real(2.0),
        Func::Cosh => (z.exp() + (-z).exp()) / C64::real(2.0),
        Func::Tanh => z.real_only(f64::tanh),
        Func::Ln => z.ln(),
        Func::Exp => z.exp(),
        Func::Abs => C64::real(z.abs()),
        Func::Floor => z.real_only(f64::floor),
        Func::Ceil => z.real_only(f64::ceil),
    }
}

fn factorial(x: f64) -> f64 {
    if x < 0.0 || x.fract() != 0.0 || x > 170.0 {
        return f64::NAN;
    }
    (2..=x as u32).map(f64::from).product()
}
