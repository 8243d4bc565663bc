//! Answer extraction from model outputs: the last `\boxed{…}`.
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
