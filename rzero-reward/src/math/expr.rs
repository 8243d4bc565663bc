//! The expression tree that answers parse into.

use super::number::Exact;

/// A relation between two neighbouring sides of a [`Expr::Relation`] chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelOp {
    /// `=`
    Eq,
    /// `\neq`
    Ne,
    /// `<`
    Lt,
    /// `\le`
    Le,
    /// `>`
    Gt,
    /// `\ge`
    Ge,
}

impl RelOp {
    /// The relation read from right to left (`<` becomes `>`).
    pub fn flipped(self) -> Self {
        match self {
            Self::Lt => Self::Gt,
            Self::Le => Self::Ge,
            Self::Gt => Self::Lt,
            Self::Ge => Self::Le,
            other => other,
        }
    }
}

/// One-argument functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[expect(missing_docs, reason = "the names are the functions")]
pub enum Func {
    Sin,
    Cos,
    Tan,
    Cot,
    Sec,
    Csc,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Ln,
    Exp,
    Abs,
    Floor,
    Ceil,
}

impl Func {
    /// The function a LaTeX command or plain name stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "sin" => Self::Sin,
            "cos" => Self::Cos,
            "tan" => Self::Tan,
            "cot" => Self::Cot,
            "sec" => Self::Sec,
            "csc" => Self::Csc,
            "arcsin" | "asin" => Self::Asin,
            "arccos" | "acos" => Self::Acos,
            "arctan" | "atan" => Self::Atan,
            "sinh" => Self::Sinh,
            "cosh" => Self::Cosh,
            "tanh" => Self::Tanh,
            "ln" | "log" => Self::Ln,
            "exp" => Self::Exp,
            "abs" => Self::Abs,
            "floor" => Self::Floor,
            "ceil" => Self::Ceil,
            _ => return None,
        })
    }

    /// The inverse function (`\sin^{-1}`), where there is one.
    pub fn inverse(self) -> Option<Self> {
        Some(match self {
            Self::Sin => Self::Asin,
            Self::Cos => Self::Acos,
            Self::Tan => Self::Atan,
            Self::Exp => Self::Ln,
            _ => return None,
        })
    }
}

/// A parsed answer: arithmetic, or a structure (tuple, set, interval,
/// relation, matrix) of arithmetic, or plain text.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number literal (or a folded exact value).
    Num(Exact),
    /// A variable.
    Sym(String),
    /// π.
    Pi,
    /// Euler's number.
    E,
    /// The imaginary unit.
    I,
    /// ∞.
    Inf,
    /// A sum.
    Add(Vec<Expr>),
    /// A product (division is a power −1).
    Mul(Vec<Expr>),
    /// A power.
    Pow(Box<Expr>, Box<Expr>),
    /// A function applied to an argument.
    Func(Func, Box<Expr>),
    /// `log_base(argument)`.
    Log(Box<Expr>, Box<Expr>),
    /// `n!`.
    Factorial(Box<Expr>),
    /// `±x` (expands an answer into two).
    PlusMinus(Box<Expr>),
    /// `(a, b, …)`; `open_pair` marks `(a, b)`, which may also be an open interval.
    Tuple(Vec<Expr>, bool),
    /// `\{a, b\}` or a bare list `a, b`.
    Set(Vec<Expr>),
    /// An interval with open or closed ends.
    Interval(Box<Expr>, Box<Expr>, bool, bool),
    /// `A \cup B`.
    Union(Vec<Expr>),
    /// Rows of a matrix (a column vector is a one-column matrix).
    Matrix(Vec<Vec<Expr>>),
    /// A chain `a op b op c`.
    Relation(Vec<Expr>, Vec<RelOp>),
    /// A word answer, lowercase without spaces.
    Text(String),
}

impl Expr {
    /// An exact integer.
    pub fn int(n: i64) -> Self {
        Self::Num(Exact::int(n))
    }

    /// `-x`.
    pub fn negate(x: Self) -> Self {
        Self::Mul(vec![Self::int(-1), x])
    }

    /// `1/x`.
    pub fn recip(x: Self) -> Self {
        Self::Pow(Box::new(x), Box::new(Self::int(-1)))
    }

    /// Whether this is a set-like structure (set, tuple, interval, union).
    pub fn is_set_like(&self) -> bool {
        matches!(
            self,
            Self::Set(_) | Self::Tuple(..) | Self::Interval(..) | Self::Union(_)
        )
    }

    /// Whether this is a bare float literal, possibly negated or a percent
    /// (math-verify's "atomic Float" that triggers 6-decimal rounding).
    pub fn is_float_atom(&self) -> bool {
        match self {
            Self::Num(n) => n.float,
            Self::Mul(f) if f.len() == 2 => match (&f[0], &f[1]) {
                (Self::Num(a), Self::Num(b)) => a.float || b.float,
                _ => false,
            },
            _ => false,
        }
    }

    /// Whether the tree contains any variable.
    pub fn has_symbols(&self) -> bool {
        let mut found = false;
        self.visit(&mut |e| found |= matches!(e, Self::Sym(_)));
        found
    }

    /// Calls `f` on every node, parents first.
    pub fn visit(&self, f: &mut dyn FnMut(&Self)) {
        f(self);
        for child in self.children() {
            child.visit(f);
        }
    }

    fn children(&self) -> Vec<&Self> {
        match self {
            Self::Add(v)
            | Self::Mul(v)
            | Self::Set(v)
            | Self::Union(v)
            | Self::Tuple(v, _)
            | Self::Relation(v, _) => v.iter().collect(),
            Self::Pow(a, b) | Self::Log(a, b) | Self::Interval(a, b, ..) => vec![a, b],
            Self::Func(_, a) | Self::Factorial(a) | Self::PlusMinus(a) => vec![a],
            Self::Matrix(rows) => rows.iter().flatten().collect(),
            _ => Vec::new(),
        }
    }
}
