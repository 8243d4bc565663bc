//! Bracketed structures: groups, tuples, intervals and matrices.

use super::expr::Expr;
use super::lexer::Tok;
use super::parser::Parser;

/// After `(` or `[`: a group, a tuple, or an interval, by the closing bracket.
pub fn bracket(parser: &mut Parser, open: char) -> Option<Expr> {
    let mut items = parser.list()?;
    let close = match parser.peek()? {
        Tok::Op(c @ (')' | ']')) => *c,
        _ => return None,
    };
    parser.pos += 1;
    Some(match items.len() {
        1 => items.remove(0),
        2 if open == '(' && close == ')' => Expr::Tuple(items, true),
        2 => {
            let hi = items.pop()?;
            let lo = items.pop()?;
            Expr::Interval(Box::new(lo), Box::new(hi), open == '(', close == ')')
        }
        _ => Expr::Tuple(items, false),
    })
}

/// After `\begin{…}`: rows split by `\\`, cells by `&`, up to `\end{…}`.
pub fn matrix(parser: &mut Parser) -> Option<Expr> {
    let mut rows = vec![Vec::new()];
    loop {
        if parser.eat(&Tok::End) {
            break;
        }
        let cell = parser.list()?;
        let [cell] = <[Expr; 1]>::try_from(cell).ok()?;
        rows.last_mut()?.push(cell);
        if parser.eat(&Tok::Op('&')) {
            continue;
        }
        if parser.eat(&Tok::RowSep) {
            if parser.peek() != Some(&Tok::End) {
                rows.push(Vec::new());
            }
            continue;
        }
        parser.eat(&Tok::End).then_some(())?;
        break;
    }
    let width = rows.first()?.len();
    (width > 0 && rows.iter().all(|r| r.len() == width)).then_some(Expr::Matrix(rows))
}
