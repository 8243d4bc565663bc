//! Parsing a Challenger output and its format gate (docs/DESIGN.md §2).

use crate::extract::extract_boxed;

/// A Challenger output that passed the format gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengerOutput {
    /// Content of the last `<question>…</question>`, trimmed; never empty.
    pub question: String,
    /// Content of the last brace-balanced `\boxed{…}`, trimmed; never empty.
    pub answer: String,
}

/// Parses a Challenger output; `None` means it fails the format gate.
///
/// The question is the content of the **last** `<question>…</question>`
/// (across newlines), trimmed; the answer is the content of the last
/// brace-balanced `\boxed{…}`. Either missing or empty fails the gate.
///
/// ```
/// let out = rzero_reward::parse_challenger("<question>\n1+1?\n</question>\n\\boxed{2}").unwrap();
/// assert_eq!(out.question, "1+1?");
/// assert_eq!(out.answer, "2");
/// ```
pub fn parse_challenger(text: &str) -> Option<ChallengerOutput> {
    let question = last_question(text)?.trim();
    let answer = extract_boxed(text)?.trim();
    if question.is_empty() || answer.is_empty() {
        return None;
    }
    Some(ChallengerOutput {
        question: question.to_owned(),
        answer: answer.to_owned(),
    })
}

/// Content of the last `<question>…</question>`, as a non-greedy regex
/// `<question>(.*?)</question>` with dot-all would find its last match.
fn last_question(text: &str) -> Option<&str> {
    const OPEN: &str = "<question>";
    const CLOSE: &str = "</question>";
    let mut last = None;
    let mut from = 0;
    while let Some(open) = text[from..].find(OPEN) {
        let body_start = from + open + OPEN.len();
        let Some(close) = text[body_start..].find(CLOSE) else {
            break;
        };
        last = Some(&text[body_start..body_start + close]);
        from = body_start + close + CLOSE.len();
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_last_question_and_last_box() {
        let text = "<question>draft</question>\n<question>\n  What is 2+3?\n</question>\n\\boxed{4} \\boxed{5}";
        let out = parse_challenger(text).expect("passes the gate");
        assert_eq!(out.question, "What is 2+3?");
        assert_eq!(out.answer, "5");
    }

    #[test]
    fn question_spans_lines_and_keeps_nested_braces() {
        let text = "<question>Line one\nline two</question>\n\\boxed{\\frac{1}{2}}";
        let out = parse_challenger(text).expect("passes the gate");
        assert_eq!(out.question, "Line one\nline two");
        assert_eq!(out.answer, "\\frac{1}{2}");
    }

    #[test]
    fn missing_or_empty_parts_fail_the_gate() {
        for text in [
            "",
            "<question>Q?</question>",
            "\\boxed{3}",
            "<question>  \n </question> \\boxed{3}",
            "<question>Q?</question> \\boxed{ }",
            "<question>Q?</question> \\boxed{3",
            "<question>Q? \\boxed{3}",
        ] {
            assert_eq!(parse_challenger(text), None, "{text:?}");
        }
    }
}
