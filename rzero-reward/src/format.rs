//! The Solver's format reward.
//!
//! Official rule: first remove whitespace around every `<`, `>` and `/`
//! (Python `re.sub(r"\s*(<|>|/)\s*", r"\1", output)`), then the whole output
//! must match `<think>.*</think>.*\boxed\{.*\}.*` with `.` matching newlines.
//! So the output must *start* with `<think>`, close it, and have a
//! `\boxed{` with some `}` after it.

use std::borrow::Cow;

use crate::bleu::is_python_space;

/// Removes whitespace (Python's `\s`) around `<`, `>` and `/`.
pub fn tighten_tags(output: &str) -> Cow<'_, str> {
    if !output.contains(['<', '>', '/']) {
        return Cow::Borrowed(output);
    }
    let mut out = String::with_capacity(output.len());
    let mut pending = String::new();
    let mut after_tag = false;
    for c in output.chars() {
        if is_python_space(c) {
            if !after_tag {
                pending.push(c);
            }
        } else if matches!(c, '<' | '>' | '/') {
            pending.clear();
            out.push(c);
            after_tag = true;
        } else {
            out.push_str(&pending);
            pending.clear();
            out.push(c);
            after_tag = false;
        }
    }
    out.push_str(&pending);
    Cow::Owned(out)
}

/// Whether a Solver output has the official format (after [`tighten_tags`]).
///
/// ```
/// use rzero_reward::format::solver_format_ok;
/// assert!(solver_format_ok("< think >2+2</think >so \\boxed{4}."));
/// assert!(!solver_format_ok("answer: <think></think> \\boxed{4}"));
/// ```
pub fn solver_format_ok(output: &str) -> bool {
    let text = tighten_tags(output);
    let Some(rest) = text.strip_prefix("<think>") else {
        return false;
    };
    // Earliest matches leave the most room for what must follow.
    let Some(close) = rest.find("</think>") else {
        return false;
    };
    let rest = &rest[close + "</think>".len()..];
    let Some(open) = rest.find("\\boxed{") else {
        return false;
    };
    rest[open + "\\boxed{".len()..].contains('}')
}

/// The format term: 1.0 when [`solver_format_ok`], else 0.0.
pub fn solver_format_reward(output: &str) -> f64 {
    if solver_format_ok(output) { 1.0 } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tightening_matches_python_re_sub() {
        assert_eq!(tighten_tags("a < b / c >\n d"), "a<b/c>d");
        assert_eq!(tighten_tags("x  y"), "x  y");
        assert_eq!(tighten_tags("1 / 2 = 0.5 "), "1/2 = 0.5 ");
    }

    #[test]
    fn format_needs_every_part_in_order() {
        assert!(solver_format_ok(
            "<think>\nwork\n</think>\nThe answer is \\boxed{\\frac{1}{2}}"
        ));
        assert!(!solver_format_ok("<think>work</think> the answer is 4"));
        assert!(!solver_format_ok("<think>\\boxed{4}</think> done"));
        assert!(!solver_format_ok("<think>work</think> \\boxed{4"));
        assert!(solver_format_ok("<think></think>\\boxed{}"));
    }
}
