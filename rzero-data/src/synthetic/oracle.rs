//! The oracle: given any question text, decide whether it is a task of the
//! synthetic family and, if so, return its true answer and level.

use super::expr::Expr;
use super::generate::Surface;
use super::level::{Level, level_of};
use super::parse::parse_expression_question;
use super::word::WordProblem;
use crate::records::OracleLabel;

/// What the oracle knows about a question of the family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleAnswer {
    /// The true answer.
    pub answer: i128,
    /// The level of its arithmetic.
    pub level: Level,
    /// Whether it was written as an expression or a word problem.
    pub surface: Surface,
    /// The arithmetic it was parsed to.
    pub expr: Expr,
}

impl OracleAnswer {
    /// The answer as a decimal string.
    pub fn answer_text(&self) -> String {
        self.answer.to_string()
    }

    /// Whether a model's answer (e.g. the content of its `\boxed{}`) is this
    /// true answer; see [`parse_integer_answer`] for what is accepted.
    pub fn is_correct(&self, prediction: &str) -> bool {
        parse_integer_answer(prediction) == Some(self.answer)
    }

    /// The record form stored next to Challenger samples.
    pub fn label(&self) -> OracleLabel {
        OracleLabel {
            answer: self.answer_text(),
            level: self.level.get(),
        }
    }
}

/// Parses `question` as an arithmetic expression (with optional "What is …?"
/// phrasing) or as a templated word problem and returns its true answer and
/// level; `None` when it is neither, or too large to be one (see
/// [`super::parse`]). Never panics.
pub fn oracle(question: &str) -> Option<OracleAnswer> {
    let (expr, surface) = match parse_expression_question(question) {
        Some(e) => (e, Surface::Expression),
        None => (WordProblem::parse(question)?.expr(), Surface::WordProblem),
    };
    let answer = expr.eval()?;
    let level = level_of(&expr)?;
    Some(OracleAnswer {
        answer,
        level,
        surface,
        expr,
    })
}

/// Reads an integer answer leniently: surrounding spaces and `$`, a leading
/// `+`, thousands separators (`1,234`), a zero fractional part (`27.0`) and
/// one `\text{…}` wrapper are accepted; anything else is `None`.
pub fn parse_integer_answer(answer: &str) -> Option<i128> {
    let mut s = answer.trim().trim_matches('$').trim();
    if let Some(inner) = s.strip_prefix("\\text{").and_then(|r| r.strip_suffix('}')) {
        s = inner.trim();
    }
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let digits = match digits.split_once('.') {
        Some((int, frac)) if !frac.is_empty() && frac.bytes().all(|b| b == b'0') => int,
        Some(_) => return None,
        None => digits,
    };
    let grouped = digits.contains(',');
    if grouped {
        let mut groups = digits.split(',');
        let first_ok = groups.next().is_some_and(|g| (1..=3).contains(&g.len()));
        if !first_ok || !groups.all(|g| g.len() == 3) {
            return None;
        }
    }
    let plain: String = digits.chars().filter(|c| *c != ',').collect();
    if plain.is_empty() || plain.len() > 30 || !plain.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i128 = plain.parse().ok()?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_both_surfaces() {
        let a = oracle("What is 3 + 4 * 2?").unwrap();
        assert_eq!(
            (a.answer, a.level.get(), a.surface),
            (11, 3, Surface::Expression)
        );
        let q = "Tom has 3 bags of 12 apples each. Then Tom gives away 5 apples. \
                 How many apples does Tom have now?";
        let a = oracle(q).unwrap();
        assert_eq!((a.answer, a.surface), (31, Surface::WordProblem));
        let q = "anna has 20 coins.  she gets 5 more coins\nhow many coins does she have";
        assert_eq!(oracle(q).map(|a| a.answer), Some(25));
    }

    #[test]
    fn integer_answers_are_read_leniently() {
        for (text, want) in [
            ("31", Some(31)),
            (" -7 ", Some(-7)),
            ("+5", Some(5)),
            ("27.0", Some(27)),
            ("1,234", Some(1234)),
            ("$12$", Some(12)),
            ("\\text{40}", Some(40)),
            ("12.5", None),
            ("1,23", None),
            ("", None),
            ("-", None),
            ("x", None),
            ("3 + 4", None),
        ] {
            assert_eq!(parse_integer_answer(text), want, "{text:?}");
        }
        assert!(oracle("What is 6 * 7?").unwrap().is_correct("42.0"));
    }

    #[test]
    fn refuses_inconsistent_or_foreign_word_problems() {
        for q in [
            "Tom has 3 apples. Anna gets 4 more apples. How many apples does Tom have now?",
            "Tom has 3 apples. Tom gets 4 more coins. How many apples does Tom have now?",
            "Tom has 3 apples. Tom gives away 5 apples. How many apples does Tom have now?",
            "Tom has 3 apples. How many apples does Tom have now?",
            "He has 3 apples. He gets 4 more apples. How many apples does he have?",
            "Prove that there are infinitely many primes.",
            &format!(
                "Tom has 2 apples. {}How many apples does Tom have?",
                "Tom gets 3 more apples. ".repeat(100_000)
            ),
        ] {
            assert_eq!(oracle(q), None, "{q}");
        }
    }
}
