//! LaTeX commands and named functions: `\frac`, `\sqrt`, `\binom`,
//! `\log_b`, `\sin^2 x`, `\lfloor…\rfloor`, `\mathbb{R}`, constants.

use super::expr::{Expr, Func};
use super::lexer::Tok;
use super::parser::{Parser, starts_atom};

impl Parser {
    pub(super) fn named(&mut self, name: &str) -> Option<Expr> {
        match name {
            "frac" | "dfrac" | "tfrac" | "cfrac" => {
                let numer = self.argument()?;
                let denom = self.argument()?;
                Some(Expr::Mul(vec![numer, Expr::recip(denom)]))
            }
            "sqrt" => {
                let index = if self.eat(&Tok::Op('[')) {
                    Some(self.group_items(&Tok::Op(']'))?)
                } else {
                    None
                };
                let radicand = self.argument()?;
                let index = index.unwrap_or(Expr::int(2));
                Some(Expr::Pow(Box::new(radicand), Box::new(Expr::recip(index))))
            }
            "binom" | "dbinom" | "tbinom" => {
                let n = self.argument()?;
                let k = self.argument()?;
                Some(binomial(n, k))
            }
            "pi" => Some(Expr::Pi),
            "mathbb"
                if self.eat(&Tok::Op('{'))
                    && self.eat(&Tok::Letter('R'))
                    && self.eat(&Tok::Op('}')) =>
            {
                Some(Expr::Interval(
                    Box::new(Expr::negate(Expr::Inf)),
                    Box::new(Expr::Inf),
                    true,
                    true,
                ))
            }
            "lfloor" | "lceil" => {
                let inner = self.sum()?;
                let close = if name == "lfloor" { "rfloor" } else { "rceil" };
                self.eat(&Tok::Name(close.into())).then_some(())?;
                Some(Expr::Func(
                    if name == "lfloor" {
                        Func::Floor
                    } else {
                        Func::Ceil
                    },
                    Box::new(inner),
                ))
            }
            "emptyset" | "varnothing" => Some(Expr::Set(Vec::new())),
            "infty" | "infinity" | "inf" | "oo" => Some(Expr::Inf),
            "e" => Some(Expr::E),
            "i" | "imath" => Some(Expr::I),
            "log" | "lg" if self.peek() == Some(&Tok::Op('_')) => {
                self.pos += 1;
                let base = self.argument()?;
                let arg = self.function_argument()?;
                Some(Expr::Log(Box::new(base), Box::new(arg)))
            }
            _ => match Func::from_name(name) {
                Some(func) => self.function(func),
                None => Some(Expr::Sym(name.to_owned())),
            },
        }
    }

    /// `\sin x`, `\sin(x)`, `\sin^2 x`, `\sin^{-1} x`.
    fn function(&mut self, func: Func) -> Option<Expr> {
        let mut power = None;
        let mut func = func;
        if self.eat(&Tok::Op('^')) {
            let exp = self.exponent()?;
            if exp == Expr::negate(Expr::int(1)) {
                func = func.inverse()?;
            } else {
                power = Some(exp);
            }
        }
        let applied = Expr::Func(func, Box::new(self.function_argument()?));
        Some(match power {
            Some(p) => Expr::Pow(Box::new(applied), Box::new(p)),
            None => applied,
        })
    }

    /// `(…)` or, without parentheses, a product of atoms that are not functions
    /// (`\sin 2x` is `sin(2x)`, as latex2sympy reads it).
    fn function_argument(&mut self) -> Option<Expr> {
        if self.peek()? == &Tok::Op('(') {
            return self.power();
        }
        let mut factors = vec![self.power()?];
        while let Some(tok) = self.peek() {
            let is_func =
                matches!(tok, Tok::Name(n) if Func::from_name(n).is_some() || n == "frac");
            if !starts_atom(tok) || is_func || tok == &Tok::Op('(') {
                break;
            }
            factors.push(self.power()?);
        }
        Some(if factors.len() == 1 {
            factors.remove(0)
        } else {
            Expr::Mul(factors)
        })
    }
}

/// `C(n, k) = n! / (k! (n-k)!)`.
fn binomial(n: Expr, k: Expr) -> Expr {
    let diff = Expr::Add(vec![n.clone(), Expr::negate(k.clone())]);
    let fact = |x: Expr| Expr::Factorial(Box::new(x));
    Expr::Mul(vec![fact(n), Expr::recip(fact(k)), Expr::recip(fact(diff))])
}
