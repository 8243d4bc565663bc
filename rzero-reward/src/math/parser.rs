//! Recursive-descent parser from tokens to an [`Expr`], with a depth limit.
//!
//! Precedence, loosest first: list (`,` `;`), relation chain, `\cup`,
//! sum (`+ - \pm`), product (`* /` and juxtaposition), unary sign, power,
//! postfix (`!`, `%`, subscripts).

use super::expr::{Expr, Func, RelOp};
use super::lexer::Tok;
use super::number::Exact;
use super::structure::bracket;

/// Deepest nesting the parser follows before giving up.
pub const MAX_DEPTH: usize = 64;

/// Parser state over a token list.
#[derive(Debug)]
pub struct Parser {
    pub(super) tokens: Vec<Tok>,
    pub(super) pos: usize,
    depth: usize,
}

/// Parses a whole answer; `None` when it is not well formed.
pub fn parse_tokens(tokens: Vec<Tok>) -> Option<Expr> {
    let tokens = balance_braces(tokens);
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let items = parser.list()?;
    (parser.pos == parser.tokens.len())
        .then(|| {
            if items.len() == 1 {
                items.into_iter().next()
            } else {
                Some(Expr::Set(items))
            }
        })
        .flatten()
}

impl Parser {
    pub(super) fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    pub(super) fn eat(&mut self, tok: &Tok) -> bool {
        let hit = self.peek() == Some(tok);
        self.pos += usize::from(hit);
        hit
    }

    fn next(&mut self) -> Option<Tok> {
        let tok = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        tok
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Items separated by `,` or `;`.
    pub(super) fn list(&mut self) -> Option<Vec<Expr>> {
        let mut items = vec![self.relation()?];
        while self.eat(&Tok::Op(',')) || self.eat(&Tok::Op(';')) {
            items.push(self.relation()?);
        }
        Some(items)
    }

    fn relation(&mut self) -> Option<Expr> {
        let first = self.union()?;
        let (mut sides, mut ops) = (vec![first], Vec::new());
        while let Some(Tok::Rel(op)) = self.peek() {
            ops.push(*op);
            self.pos += 1;
            sides.push(self.union()?);
        }
        Some(if ops.is_empty() {
            sides.remove(0)
        } else {
            Expr::Relation(sides, ops)
        })
    }

    fn union(&mut self) -> Option<Expr> {
        let mut parts = vec![self.sum()?];
        while self.eat(&Tok::Cup) {
            parts.push(self.sum()?);
        }
        Some(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Union(parts)
        })
    }

    pub(super) fn sum(&mut self) -> Option<Expr> {
        let mut terms = vec![self.signed()?];
        loop {
            let term = match self.peek() {
                Some(Tok::Op('+')) => {
                    self.pos += 1;
                    self.product()?
                }
                Some(Tok::Op('-')) => {
                    self.pos += 1;
                    Expr::negate(self.product()?)
                }
                Some(Tok::Pm) => {
                    self.pos += 1;
                    Expr::PlusMinus(Box::new(self.product()?))
                }
                _ => break,
            };
            terms.push(term);
        }
        Some(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Add(terms)
        })
    }

    /// Leading signs, folded into one so `------5` builds no deep tree.
    fn signed(&mut self) -> Option<Expr> {
        let (mut negative, mut plus_minus) = (false, false);
        while let Some(tok @ (Tok::Op('-' | '+') | Tok::Pm)) = self.peek() {
            negative ^= *tok == Tok::Op('-');
            plus_minus |= *tok == Tok::Pm;
            self.pos += 1;
        }
        let out = self.product()?;
        Some(match (plus_minus, negative) {
            (true, _) => Expr::PlusMinus(Box::new(out)),
            (false, true) => Expr::negate(out),
            (false, false) => out,
        })
    }

    fn product(&mut self) -> Option<Expr> {
        self.enter()?;
        let mut factors = vec![self.power()?];
        loop {
            match self.peek() {
                Some(Tok::Op('*')) => {
                    self.pos += 1;
                    factors.push(self.power()?);
                }
                Some(Tok::Op('/')) => {
                    self.pos += 1;
                    factors.push(Expr::recip(self.power()?));
                }
                Some(tok) if starts_atom(tok) => factors.push(self.power()?),
                _ => break,
            }
        }
        self.depth -= 1;
        Some(if factors.len() == 1 {
            factors.remove(0)
        } else {
            Expr::Mul(factors)
        })
    }

    pub(super) fn power(&mut self) -> Option<Expr> {
        self.enter()?;
        let mut base = self.primary()?;
        let depth_before = self.depth;
        loop {
            // Each postfix operator nests the tree one level deeper.
            if matches!(self.peek(), Some(Tok::Op('^' | '!' | '%'))) {
                self.enter()?;
            }
            match self.peek() {
                Some(Tok::Op('^')) => {
                    self.pos += 1;
                    let exp = self.exponent()?;
                    base = Expr::Pow(Box::new(base), Box::new(exp));
                }
                Some(Tok::Op('!')) => {
                    self.pos += 1;
                    base = Expr::Factorial(Box::new(base));
                }
                Some(Tok::Op('%')) => {
                    self.pos += 1;
                    let hundredth = Expr::recip(Expr::int(100));
                    base = Expr::Mul(vec![base, hundredth]);
                }
                Some(Tok::Op('_')) => base = self.subscript(base)?,
                _ => break,
            }
        }
        self.depth = depth_before - 1;
        Some(base)
    }

    pub(super) fn exponent(&mut self) -> Option<Expr> {
        match self.peek() {
            Some(Tok::Op('-')) => {
                self.pos += 1;
                Some(Expr::negate(self.exponent()?))
            }
            _ => self.argument(),
        }
    }

    /// A variable's subscript becomes part of its name (`x_1`, `a_{n}`).
    fn subscript(&mut self, base: Expr) -> Option<Expr> {
        self.pos += 1;
        let Expr::Sym(name) = base else { return None };
        let sub = match self.next()? {
            Tok::Num(n) => n,
            Tok::Letter(c) => c.to_string(),
            Tok::Op('{') => {
                let mut text = String::new();
                while let Some(tok) = self.next() {
                    match tok {
                        Tok::Op('}') => break,
                        Tok::Num(n) => text.push_str(&n),
                        Tok::Letter(c) => text.push(c),
                        Tok::Name(n) => text.push_str(&n),
                        _ => return None,
                    }
                }
                text
            }
            _ => return None,
        };
        Some(Expr::Sym(format!("{name}_{sub}")))
    }

    /// A LaTeX macro argument: a `{…}` group, one digit of a number, or one atom.
    pub(super) fn argument(&mut self) -> Option<Expr> {
        self.enter()?;
        let arg = match self.peek()? {
            Tok::Op('{') => {
                self.pos += 1;
                let inner = self.group_items(&Tok::Op('}'))?;
                Some(inner)
            }
            Tok::Num(n) if n.len() > 1 && !n.starts_with('.') => {
                let (first, rest) = n.split_at(1);
                let first = Expr::Num(Exact::parse(first)?);
                self.tokens[self.pos] = Tok::Num(rest.to_owned());
                Some(first)
            }
            _ => self.primary(),
        };
        self.depth -= 1;
        arg
    }

    /// Items up to `close`; several items make a set.
    pub(super) fn group_items(&mut self, close: &Tok) -> Option<Expr> {
        let mut items = self.list()?;
        if !self.eat(close) {
            return None;
        }
        Some(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Set(items)
        })
    }

    fn primary(&mut self) -> Option<Expr> {
        self.enter()?;
        let tok = self.next()?;
        let out = match tok {
            Tok::Num(n) => Some(Expr::Num(Exact::parse(&n)?)),
            Tok::Letter('e') => Some(Expr::E),
            Tok::Letter('i') => Some(Expr::I),
            Tok::Letter(c) => Some(Expr::Sym(c.to_string())),
            Tok::Op('{') => self.group_items(&Tok::Op('}')),
            Tok::Op(open @ ('(' | '[')) => bracket(self, open),
            Tok::SetOpen => {
                if self.eat(&Tok::SetClose) {
                    Some(Expr::Set(Vec::new()))
                } else {
                    self.list()
                        .and_then(|items| self.eat(&Tok::SetClose).then_some(Expr::Set(items)))
                }
            }
            Tok::Op('|') => {
                let inner = self.sum()?;
                self.eat(&Tok::Op('|'))
                    .then(|| Expr::Func(Func::Abs, Box::new(inner)))
            }
            Tok::Begin => super::structure::matrix(self),
            Tok::Name(name) => self.named(&name),
            _ => None,
        };
        self.depth -= 1;
        out
    }
}

/// Drops unmatched `}` and closes unclosed `{` at the end, as latex2sympy
/// forgives `\frac{1}{2` and `\frac{1}{2}}`.
fn balance_braces(tokens: Vec<Tok>) -> Vec<Tok> {
    let mut open = 0usize;
    let mut out: Vec<Tok> = Vec::with_capacity(tokens.len());
    for tok in tokens {
        match tok {
            Tok::Op('{') => open += 1,
            Tok::Op('}') if open == 0 => continue,
            Tok::Op('}') => open -= 1,
            _ => {}
        }
        out.push(tok);
    }
    out.extend(std::iter::repeat_n(Tok::Op('}'), open));
    out
}

/// Whether a token can start a factor of an implicit product (`2x`, `3\pi`).
pub(super) fn starts_atom(tok: &Tok) -> bool {
    match tok {
        Tok::Num(_) | Tok::Letter(_) | Tok::SetOpen | Tok::Begin => true,
        Tok::Op(c) => matches!(c, '(' | '[' | '{'),
        Tok::Name(name) => !matches!(name.as_str(), "rfloor" | "rceil"),
        _ => false,
    }
}

impl RelOp {
    /// Whether the relation is `=`.
    pub fn is_eq(self) -> bool {
        self == Self::Eq
    }
}
