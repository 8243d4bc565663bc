//! Answer extraction from model outputs: the last `\boxed{…}`, optional
//! math-verify-style fallbacks, and multiple-choice letters.
//!
//! The official R-Zero code takes the content of the last brace-balanced
//! `\boxed{…}`; `\boxed {…}` (space before the brace) and `\fbox{…}` count too.

/// Commands whose braced argument is a final answer.
const BOX_COMMANDS: [&str; 2] = ["\\boxed", "\\fbox"];

/// Content of the last brace-balanced `\boxed{…}` / `\boxed {…}` / `\fbox{…}`.
///
/// Nested braces are kept (`\boxed{\frac{1}{2}}` gives `\frac{1}{2}`).
/// A box whose braces never close is skipped. Returns `None` when no box
/// closes.
///
/// ```
/// use rzero_reward::extract_boxed;
/// assert_eq!(extract_boxed(r"so \boxed{1} or \boxed{\frac{1}{2}}"), Some(r"\frac{1}{2}"));
/// assert_eq!(extract_boxed("no box"), None);
/// ```
pub fn extract_boxed(text: &str) -> Option<&str> {
    let mut best: Option<(usize, &str)> = None;
    for command in BOX_COMMANDS {
        for (start, _) in text.match_indices(command) {
            let after = start + command.len();
            if let Some(content) = braced_argument(&text[after..])
                && best.is_none_or(|(at, _)| start > at)
            {
                best = Some((start, content));
            }
        }
    }
    best.map(|(_, content)| content)
}

/// The content of a `{…}` group that opens `rest` (after optional spaces).
pub(crate) fn braced_argument(rest: &str) -> Option<&str> {
    let trimmed = rest.trim_start_matches([' ', '\t']);
    let body = trimmed.strip_prefix('{')?;
    let mut depth = 1usize;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&body[..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// Where [`extract_answer`] may look besides `\boxed{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExtractOptions {
    /// Fall back, in math-verify's order, to "final answer is …",
    /// "answer: …", the last `$…$`/`\(…\)`/`\[…\]`, then the last number.
    /// Off by default: R-Zero only reads boxes.
    pub fallbacks: bool,
}

/// The answer in a model output: the last box, else (with
/// [`ExtractOptions::fallbacks`]) the first fallback that matches.
///
/// ```
/// use rzero_reward::extract::{ExtractOptions, extract_answer};
/// let with = ExtractOptions { fallbacks: true };
/// assert_eq!(extract_answer("so \\boxed{7}", ExtractOptions::default()), Some("7".into()));
/// assert_eq!(extract_answer("The final answer is 12.", with), Some("12".into()));
/// assert_eq!(extract_answer("The final answer is 12.", ExtractOptions::default()), None);
/// ```
pub fn extract_answer(text: &str, options: ExtractOptions) -> Option<String> {
    if let Some(boxed) = extract_boxed(text) {
        return Some(boxed.trim().to_owned());
    }
    if !options.fallbacks {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    for anchor in ["final answer is", "answer:", "answer is"] {
        if let Some(at) = lower.rfind(anchor) {
            let rest = text[at + anchor.len()..].trim_start_matches([':', ' ', '*']);
            let answer = first_clause(rest);
            if !answer.is_empty() {
                return Some(answer);
            }
        }
    }
    last_latex(text).or_else(|| last_number(text))
}

/// Up to the end of the line or a sentence-ending period, without `$` and `I hope`.
fn first_clause(rest: &str) -> String {
    let line = rest.lines().next().unwrap_or("");
    let line = line.split(" I hope").next().unwrap_or(line);
    let end = line
        .char_indices()
        .find(|&(i, c)| c == '.' && !line[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        .map_or(line.len(), |(i, _)| i);
    line[..end].trim().trim_matches('$').trim().to_owned()
}

/// Content of the last `$…$`, `\(…\)` or `\[…\]`.
fn last_latex(text: &str) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for (open, close) in [("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")] {
        let mut from = 0;
        while let Some(start) = text[from..].find(open).map(|i| from + i + open.len()) {
            let Some(len) = text[start..].find(close) else {
                break;
            };
            let inner = text[start..start + len].trim();
            if !inner.is_empty() && best.is_none_or(|(at, _)| start > at) {
                best = Some((start, inner));
            }
            from = start + len + close.len();
        }
    }
    best.map(|(_, inner)| inner.to_owned())
}

/// The last number (`-12`, `3.5`, `1,000`, `2/3`) in the text.
fn last_number(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut end = bytes.iter().rposition(u8::is_ascii_digit)? + 1;
    let mut start = end - 1;
    while start > 0
        && (bytes[start - 1].is_ascii_digit()
            || matches!(bytes[start - 1], b'.' | b',' | b'/')
                && start >= 2
                && bytes[start - 2].is_ascii_digit())
    {
        start -= 1;
    }
    if start > 0 && bytes[start - 1] == b'-' {
        start -= 1;
    }
    while end > start && !bytes[end - 1].is_ascii_digit() {
        end -= 1;
    }
    Some(text[start..end].to_owned())
}

/// The multiple-choice letter (`A`–`Z`, upper case) an answer names:
/// `A`, `(A)`, `A.`, `A)`, `\text{(A)}`, `\textbf{A}`; `None` otherwise.
///
/// ```
/// use rzero_reward::extract::choice_letter;
/// assert_eq!(choice_letter("\\text{(B)}"), Some('B'));
/// assert_eq!(choice_letter("c."), Some('C'));
/// assert_eq!(choice_letter("AB"), None);
/// ```
pub fn choice_letter(answer: &str) -> Option<char> {
    let mut s = answer.trim();
    for command in ["\\text", "\\textbf", "\\mathrm", "\\mathbf"] {
        if let Some(rest) = s.strip_prefix(command)
            && let Some(inner) = braced_argument(rest)
        {
            s = inner.trim();
        }
    }
    let s = s.trim_end_matches(['.', ':']);
    let s = s
        .strip_prefix('(')
        .map_or(s, |x| x.strip_suffix(')').unwrap_or(x));
    let s = s.strip_suffix(')').unwrap_or(s).trim();
    let mut chars = s.chars();
    let letter = chars.next()?;
    (chars.next().is_none() && letter.is_ascii_alphabetic()).then(|| letter.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_balanced_box_wins() {
        assert_eq!(
            extract_boxed(r"\boxed{1} then \boxed{\frac{a}{b}}"),
            Some(r"\frac{a}{b}")
        );
        assert_eq!(extract_boxed(r"\boxed {x+1}"), Some("x+1"));
        assert_eq!(extract_boxed(r"\fbox{3} and \boxed{2"), Some("3"));
        assert_eq!(extract_boxed(r"\boxed{\{1,2\}}"), Some(r"\{1,2\}"));
        assert_eq!(extract_boxed(r"\boxed{a{b{c}}d}"), Some("a{b{c}}d"));
        assert_eq!(extract_boxed(""), None);
    }

    #[test]
    fn fallbacks_follow_math_verify_order() {
        let on = ExtractOptions { fallbacks: true };
        assert_eq!(extract_answer("Answer: $x=2$", on), Some("x=2".into()));
        assert_eq!(
            extract_answer("we get $3$ and then $\\frac{1}{2}$", on),
            Some(r"\frac{1}{2}".into())
        );
        assert_eq!(
            extract_answer("so 12 apples, total 3,500.", on),
            Some("3,500".into())
        );
        assert_eq!(extract_answer("it is -4.5 now", on), Some("-4.5".into()));
        assert_eq!(extract_answer("no digits", on), None);
    }

    #[test]
    fn choice_letters() {
        for s in ["A", "(A)", "A.", "A)", r"\text{(A)}", r"\textbf{A}", " a "] {
            assert_eq!(choice_letter(s), Some('A'), "{s}");
        }
        assert_eq!(choice_letter("12"), None);
        assert_eq!(choice_letter("(AB)"), None);
    }
}
