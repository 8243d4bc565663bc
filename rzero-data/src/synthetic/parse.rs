//! Parsing an arithmetic expression out of free text (what a Challenger
//! might write): `3 + 4`, `What is (12 + 5) * 3?`, `Compute $7 \times 8$.`,
//! `9 - 4 = ?`. Bounded: at most [`MAX_OPS`] operations, [`MAX_DEPTH`]
//! nested parentheses or signs and [`MAX_DIGITS`] digits per number, so
//! arbitrary text can neither panic nor exhaust the stack.

use super::expr::{Expr, Op};

/// Most binary operations accepted.
pub const MAX_OPS: usize = 32;
/// Deepest nesting of parentheses / unary signs accepted.
pub const MAX_DEPTH: usize = 32;
/// Most digits in one number.
pub const MAX_DIGITS: usize = 18;

/// Leading phrases removed before parsing (compared in lowercase).
const PREFIXES: [&str; 11] = [
    "what is the value of",
    "what is the result of",
    "what is",
    "what's",
    "find the value of",
    "find",
    "compute",
    "calculate",
    "evaluate",
    "simplify",
    "solve",
];

/// Notations rewritten to the ASCII operators before tokenising (after
/// whitespace is collapsed to single spaces).
const REWRITES: [(&str, &str); 14] = [
    (" plus ", " + "),
    (" minus ", " - "),
    (" multiplied by ", " * "),
    (" times ", " * "),
    ("\\times", "*"),
    ("\\cdot", "*"),
    ("×", "*"),
    ("·", "*"),
    ("∗", "*"),
    ("−", "-"),
    ("–", "-"),
    ("\\left(", "("),
    ("\\right)", ")"),
    ("\\,", " "),
];

/// Parses `text` as one arithmetic question. `None` when it is not one
/// (other words, division, decimals, no operation, too large).
pub fn parse_expression_question(text: &str) -> Option<Expr> {
    let body = strip_question_frame(text)?;
    let tokens = tokenize(&body)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        ops: 0,
    };
    let expr = parser.expr(0)?;
    (parser.pos == tokens.len() && parser.ops > 0).then_some(expr)
}

/// Removes the question phrasing around the expression.
fn strip_question_frame(text: &str) -> Option<String> {
    let mut s = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in REWRITES {
        s = s.replace(from, to);
    }
    for p in PREFIXES {
        if let Some(rest) = strip_prefix_ignore_case(&s, p) {
            s = rest.to_string();
            break;
        }
    }
    let trim_set: &[char] = &[' ', '?', '.', '!', '=', '$', ':'];
    let mut s = s.trim_matches(trim_set);
    for (open, close) in [("\\(", "\\)"), ("\\[", "\\]")] {
        if let Some(inner) = s.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            s = inner;
        }
    }
    let s = s.trim_matches(trim_set);
    (!s.is_empty()).then(|| s.to_string())
}

/// `s` without `prefix` (ASCII, any case), if it starts with it.
pub(crate) fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Num(i128),
    Op(Op),
    Open,
    Close,
}

fn tokenize(s: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            ' ' => continue,
            '0'..='9' => {
                let mut digits = String::from(c);
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                if digits.len() > MAX_DIGITS {
                    return None;
                }
                Token::Num(digits.parse().ok()?)
            }
            '+' => Token::Op(Op::Add),
            '-' => Token::Op(Op::Sub),
            '*' | 'x' | 'X' => Token::Op(Op::Mul),
            '(' => Token::Open,
            ')' => Token::Close,
            _ => return None,
        };
        tokens.push(token);
    }
    Some(tokens)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    ops: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.pos).copied()
    }

    fn binary(&mut self, op: Op, lhs: Expr, rhs: Expr) -> Option<Expr> {
        self.ops += 1;
        (self.ops <= MAX_OPS).then(|| Expr::bin(op, lhs, rhs))
    }

    /// expr := term (('+' | '-') term)*
    fn expr(&mut self, depth: usize) -> Option<Expr> {
        let mut lhs = self.term(depth)?;
        while let Some(Token::Op(op @ (Op::Add | Op::Sub))) = self.peek() {
            self.pos += 1;
            let rhs = self.term(depth)?;
            lhs = self.binary(op, lhs, rhs)?;
        }
        Some(lhs)
    }

    /// term := unary ('*' unary)*
    fn term(&mut self, depth: usize) -> Option<Expr> {
        let mut lhs = self.unary(depth)?;
        while let Some(Token::Op(Op::Mul)) = self.peek() {
            self.pos += 1;
            let rhs = self.unary(depth)?;
            lhs = self.binary(Op::Mul, lhs, rhs)?;
        }
        Some(lhs)
    }

    /// unary := ('-' | '+') unary | number | '(' expr ')'
    fn unary(&mut self, depth: usize) -> Option<Expr> {
        if depth >= MAX_DEPTH {
            return None;
        }
        let token = self.peek()?;
        self.pos += 1;
        match token {
            Token::Num(n) => Some(Expr::Num(n)),
            Token::Op(Op::Sub) => Some(Expr::Neg(Box::new(self.unary(depth + 1)?))),
            Token::Op(Op::Add) => self.unary(depth + 1),
            Token::Open => {
                let inner = self.expr(depth + 1)?;
                (self.peek() == Some(Token::Close)).then(|| {
                    self.pos += 1;
                    inner
                })
            }
            Token::Op(Op::Mul) | Token::Close => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Option<i128> {
        parse_expression_question(text).and_then(|e| e.eval())
    }

    #[test]
    fn accepts_common_phrasings() {
        assert_eq!(value("3 + 4"), Some(7));
        assert_eq!(value("  What is 3+4 ?  "), Some(7));
        assert_eq!(value("what is (12 + 5) * 3?"), Some(51));
        assert_eq!(value("Compute: $7 \\times 8$."), Some(56));
        assert_eq!(value("9 - 4 = ?"), Some(5));
        assert_eq!(value("Calculate 6 × 7 − 2"), Some(40));
        assert_eq!(value("-3 * 4"), Some(-12));
        assert_eq!(value("2 - -3"), Some(5));
        assert_eq!(value("What is 3 plus 4 times 2?"), Some(11));
        assert_eq!(value("What is 10 minus 2 multiplied by 3?"), Some(4));
    }

    #[test]
    fn rejects_what_is_not_an_arithmetic_task() {
        for text in [
            "",
            "7",
            "What is 7?",
            "3 / 4",
            "3.5 + 1",
            "2(3 + 4)",
            "3 + ",
            "(3 + 4",
            "x + 1",
            "What is the capital of France?",
            "3 + 4 apples",
            "1,000 + 2",
        ] {
            assert_eq!(parse_expression_question(text), None, "{text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(parse_expression_question(&deep), None);
        let long = vec!["1"; 100].join(" + ");
        assert_eq!(parse_expression_question(&long), None);
    }
}
