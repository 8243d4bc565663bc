//! The math answer parser: normalization, lexing, parsing, canonical form
//! and numeric evaluation, each bounded (see [`budget`]).

pub mod budget;
pub mod canon;
pub mod commands;
pub mod compare;
pub mod complex;
pub mod eval;
pub mod expr;
pub mod lexer;
pub mod normalize;
pub mod number;
pub mod parser;
pub mod relation;
pub mod structure;

use budget::{Budget, MAX_INPUT_BYTES};
use expr::Expr;

/// An answer after normalization and parsing.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The normalized text (what string comparison uses).
    pub normalized: String,
    /// The parsed tree, or `None` when the text is not a math answer.
    pub expr: Option<Expr>,
}

/// Normalizes and parses `text`; a text over [`MAX_INPUT_BYTES`] is not
/// parsed (and marks the budget).
pub fn parse(text: &str, budget: &mut Budget) -> Parsed {
    if text.len() > MAX_INPUT_BYTES {
        budget.mark();
        return Parsed {
            normalized: text.trim().to_owned(),
            expr: None,
        };
    }
    let normalized = normalize::normalize(text);
    let expr = if let Some(letter) = choice_letter(&normalized) {
        Some(Expr::Sym(letter.to_string()))
    } else if is_text(&normalized) {
        Some(Expr::Text(text_key(&normalized)))
    } else {
        lexer::lex(&normalized).and_then(parser::parse_tokens)
    };
    Parsed { normalized, expr }
}

/// A lone letter, maybe in parentheses (`B`, `(b)`): a multiple-choice
/// answer, read as a lowercase variable so case does not matter, as in
/// math-verify. `e` and `i` stay
/// constants.
fn choice_letter(s: &str) -> Option<char> {
    let inner = s.trim();
    let inner = inner
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .unwrap_or(inner)
        .trim();
    let mut chars = inner.chars();
    let c = chars.next()?;
    (chars.next().is_none() && c.is_ascii_alphabetic() && c != 'e' && c != 'i')
        .then(|| c.to_ascii_lowercase())
}

/// Whether the answer is words (a run of three letters that is no command
/// or known function name), compared as text rather than as math.
fn is_text(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() {
            let end = i + bytes[i..]
                .iter()
                .take_while(|b| b.is_ascii_alphabetic())
                .count();
            let command = i > 0 && bytes[i - 1] == b'\\';
            let word = &s[i..end];
            if !command && word.len() >= 3 && !is_math_word(word) {
                return true;
            }
            i = end;
        } else {
            i += 1;
        }
    }
    false
}

pub(crate) fn is_math_word(word: &str) -> bool {
    const MATH: [&str; 25] = [
        "sqrt", "sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh", "tanh", "arcsin",
        "arccos", "arctan", "log", "exp", "infinity", "inf", "and", "frac", "matrix", "pmatrix",
        "bmatrix", "vmatrix", "Bmatrix", "array",
    ];
    MATH.contains(&word)
}

/// Text answers compare lowercase, without spaces, braces or a final period.
pub fn text_key(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '{' | '}' | '\\'))
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .trim_end_matches('.')
        .to_owned()
}
