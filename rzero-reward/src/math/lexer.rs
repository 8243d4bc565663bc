//! Splits a normalized answer into tokens.

use super::expr::RelOp;

/// One token of an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// Digits with an optional decimal part and exponent (`1.5e3`).
    Num(String),
    /// A one-letter variable.
    Letter(char),
    /// A command or known word (`frac`, `sqrt`, `sin`, `pi`, `alpha`).
    Name(String),
    /// One of `+ - * / ^ _ ( ) [ ] { } , ; | ! % &`.
    Op(char),
    /// `\{`
    SetOpen,
    /// `\}`
    SetClose,
    /// A relation sign.
    Rel(RelOp),
    /// `\pm` (and `\mp`).
    Pm,
    /// `\cup`
    Cup,
    /// `\\` (matrix row separator).
    RowSep,
    /// `\begin{env}`
    Begin,
    /// `\end{env}`
    End,
}

/// Plain words read as names rather than as products of letters.
const WORDS: [&str; 22] = [
    "sqrt", "sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh", "tanh", "arcsin", "arccos",
    "arctan", "log", "ln", "exp", "pi", "infinity", "inf", "oo", "and", "or",
];

/// Tokens of `text`, or `None` on a character no answer contains.
pub fn lex(text: &str) -> Option<Vec<Tok>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut depth = 0i32;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'~' => i += 1,
            b'0'..=b'9' | b'.' => {
                let (token, next) = number(bytes, i, depth == 0)?;
                tokens.push(Tok::Num(token));
                i = next;
            }
            b'a'..=b'z' | b'A'..=b'Z' => {
                let end = i + bytes[i..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphabetic())
                    .count();
                let word = &text[i..end];
                if WORDS.contains(&word) {
                    tokens.push(match word {
                        "and" | "or" => Tok::Op(','),
                        _ => Tok::Name(word.to_owned()),
                    });
                } else {
                    tokens.extend(word.chars().map(Tok::Letter));
                }
                i = end;
            }
            b'\\' => i = command(text, i, &mut tokens, &mut depth)?,
            b'*' if bytes.get(i + 1) == Some(&b'*') => {
                tokens.push(Tok::Op('^'));
                i += 2;
            }
            b'<' | b'>' | b'=' | b'!' => i = relation_or_bang(bytes, i, &mut tokens),
            b'(' | b'[' => {
                depth += 1;
                tokens.push(Tok::Op(c as char));
                i += 1;
            }
            b')' | b']' => {
                depth -= 1;
                tokens.push(Tok::Op(c as char));
                i += 1;
            }
            b'+' | b'-' | b'*' | b'/' | b'^' | b'_' | b'{' | b'}' | b',' | b';' | b'|' | b'%'
            | b'&' | b':' => {
                tokens.push(Tok::Op(if c == b':' { '/' } else { c as char }));
                i += 1;
            }
            _ if c >= 0x80 => i = unicode(text, i, &mut tokens)?,
            _ => return None,
        }
    }
    Some(tokens)
}

/// Reads a number at `start`; with `thousands`, `1,234,567` is one number.
fn number(bytes: &[u8], start: usize, thousands: bool) -> Option<(String, usize)> {
    let digits_at = |i: usize| bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    let mut out = String::new();
    let mut i = start;
    let lead = digits_at(i);
    out.push_str(std::str::from_utf8(&bytes[i..i + lead]).ok()?);
    i += lead;
    if thousands && (1..=3).contains(&lead) {
        while bytes.get(i) == Some(&b',') && digits_at(i + 1) == 3 {
            out.push_str(std::str::from_utf8(&bytes[i + 1..i + 4]).ok()?);
            i += 4;
        }
    }
    if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        let frac = digits_at(i + 1);
        out.push_str(std::str::from_utf8(&bytes[i..i + 1 + frac]).ok()?);
        i += 1 + frac;
    }
    if out.is_empty() {
        return None;
    }
    // Scientific notation: `e`/`E`, optional sign, digits, and no letter after.
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(i + 1), Some(b'+' | b'-')));
        let exp = digits_at(i + 1 + sign);
        let end = i + 1 + sign + exp;
        if exp > 0 && exp <= 6 && !bytes.get(end).is_some_and(u8::is_ascii_alphabetic) {
            out.push_str(std::str::from_utf8(&bytes[i..end]).ok()?);
            i = end;
        }
    }
    Some((out, i))
}

fn relation_or_bang(bytes: &[u8], i: usize, tokens: &mut Vec<Tok>) -> usize {
    let next_eq = bytes.get(i + 1) == Some(&b'=');
    let (tok, len) = match (bytes[i], next_eq) {
        (b'<', true) => (Tok::Rel(RelOp::Le), 2),
        (b'>', true) => (Tok::Rel(RelOp::Ge), 2),
        (b'!', true) => (Tok::Rel(RelOp::Ne), 2),
        (b'<', false) => (Tok::Rel(RelOp::Lt), 1),
        (b'>', false) => (Tok::Rel(RelOp::Gt), 1),
        (b'=', _) => (Tok::Rel(RelOp::Eq), 1),
        _ => (Tok::Op('!'), 1),
    };
    tokens.push(tok);
    i + len
}

fn command(text: &str, start: usize, tokens: &mut Vec<Tok>, depth: &mut i32) -> Option<usize> {
    let bytes = text.as_bytes();
    let name_len = bytes[start + 1..]
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    if name_len == 0 {
        let next = *bytes.get(start + 1)?;
        match next {
            b'{' => {
                *depth += 1;
                tokens.push(Tok::SetOpen);
            }
            b'}' => {
                *depth -= 1;
                tokens.push(Tok::SetClose);
            }
            b'\\' => tokens.push(Tok::RowSep),
            b'%' => tokens.push(Tok::Op('%')),
            b',' | b';' | b':' | b'!' | b' ' | b'|' => {}
            _ => return None,
        }
        return Some(start + 2);
    }
    let end = start + 1 + name_len;
    let name = &text[start + 1..end];
    let tok = match name {
        "cdot" | "times" | "ast" => Tok::Op('*'),
        "div" => Tok::Op('/'),
        "le" | "leq" | "leqslant" => Tok::Rel(RelOp::Le),
        "ge" | "geq" | "geqslant" => Tok::Rel(RelOp::Ge),
        "lt" => Tok::Rel(RelOp::Lt),
        "gt" => Tok::Rel(RelOp::Gt),
        "ne" | "neq" => Tok::Rel(RelOp::Ne),
        "in" | "approx" => Tok::Rel(RelOp::Eq),
        "pm" | "mp" => Tok::Pm,
        "cup" => Tok::Cup,
        "lbrace" => Tok::SetOpen,
        "rbrace" => Tok::SetClose,
        "begin" | "end" => {
            // Skip the `{env}` argument: every environment is a matrix here.
            let close = text[end..].find('}')?;
            tokens.push(if name == "begin" {
                Tok::Begin
            } else {
                Tok::End
            });
            return Some(end + close + 1);
        }
        "quad" | "qquad" | "displaystyle" | "limits" | "left" | "right" | "big" | "Big" => {
            return Some(end);
        }
        _ => Tok::Name(name.to_owned()),
    };
    tokens.push(tok);
    Some(end)
}

fn unicode(text: &str, i: usize, tokens: &mut Vec<Tok>) -> Option<usize> {
    let c = text[i..].chars().next()?;
    let tok = match c {
        '−' | '–' => Tok::Op('-'),
        '×' | '·' | '⋅' => Tok::Op('*'),
        '÷' => Tok::Op('/'),
        '≤' => Tok::Rel(RelOp::Le),
        '≥' => Tok::Rel(RelOp::Ge),
        '≠' => Tok::Rel(RelOp::Ne),
        '±' => Tok::Pm,
        'π' => Tok::Name("pi".into()),
        '∞' => Tok::Name("infty".into()),
        '√' => Tok::Name("sqrt".into()),
        '∪' => Tok::Cup,
        '°' | '\u{a0}' | '\u{2009}' => return Some(i + c.len_utf8()),
        _ => return None,
    };
    tokens.push(tok);
    Some(i + c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nums(text: &str) -> Vec<String> {
        lex(text)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|t| if let Tok::Num(n) = t { Some(n) } else { None })
            .collect()
    }

    #[test]
    fn thousands_join_only_outside_brackets() {
        assert_eq!(nums("1,234,567"), ["1234567"]);
        assert_eq!(nums("(1,234)"), ["1", "234"]);
        assert_eq!(nums("1,23"), ["1", "23"]);
    }

    #[test]
    fn scientific_notation_needs_digits_and_no_letter_after() {
        assert_eq!(nums("1.5e3"), ["1.5e3"]);
        assert_eq!(nums("2e-3"), ["2e-3"]);
        assert_eq!(nums("2ex"), ["2"]);
    }

    #[test]
    fn unknown_characters_fail() {
        assert_eq!(lex("1 # 2"), None);
        assert!(lex(r"\frac{1}{2} \le x").is_some());
    }
}
