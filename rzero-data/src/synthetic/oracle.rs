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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_both_surfaces() {
        let a = oracle("What is 3 + 4 * 2?").unwrap();
        assert_eq!(
            (a.answer, a.level.get(), a.surface),
            (11, 2, Surface::Expression)
        );
        let q = "Tom has 3 bags of 12 apples each. Then Tom gives away 5 apples. \
                 How many apples does Tom have now?";
        let a = oracle(q).unwrap();
        assert_eq!((a.answer, a.surface), (31, Surface::WordProblem));
        let q = "anna has 20 coins.  she gets 5 more coins\nhow many coins does she have";
        assert_eq!(oracle(q).map(|a| a.answer), Some(25));
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
        ] {
            assert_eq!(oracle(q), None, "{q}");
        }
    }
}
