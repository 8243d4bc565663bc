//! Whole texts: the final answer of a model output or reference solution,
//! found like math-verify's `parse`, and [`verify_texts`].
//!
//! [`text_answer`] reads, in order:
//! 1. the last `\boxed{…}` / `\fbox{…}` (with the boxes just before it when
//!    only `,`, `and`, `or` and `$` separate them: `\boxed{2}, \boxed{3}`
//!    gives `2, 3`);
//! 2. the whole text when it already is an answer (math, not a sentence);
//! 3. after the last "final answer … is", then after the last "answer" (a
//!    `:` form first): the first LaTeX span or number that follows;
//! 4. the rightmost LaTeX span (`$$…$$`, `\[…\]`, `$…$`, `\(…\)`) or number
//!    (`1,000`, `$18.90`, `3.5`, `50%`) or plain expression (`3/4`, `2^10`),
//!    spans joined by `,`/`and`/`or` read as one list, as math-verify does;
//! 5. else the whole text (compared as text).
//!
//! Besides `$…$` spans and numbers, math written in prose without
//! delimiters counts (`the answer is 6\sqrt{2}.`, `I get \left(-2,1\right)
//! as the result`), and so does a choice letter right after an answer
//! anchor (`The answer is (B).`).
//!
//! # Reference and deliberate differences
//! `tests/fixtures/texts/text_cases.jsonl` (made by `make_text_cases.py`:
//! hand rows modelled on math-verify's public tests and on real failure
//! kinds, and solution-like outputs around the golds of `data/bench`) holds
//! the right verdict and math-verify 0.8's; the test requires the right
//! verdict on every row (math-verify is right on 235 of 277, rzero on all).
//! Where math-verify gives another verdict it is, on purpose:
//! - a gold without delimiters is read as one LaTeX answer: math-verify's
//!   `parse("\sqrt{2}")` finds nothing and `parse("\left( 3, \frac{\pi}{2}
//!   \right)")` finds `3`;
//! - the last box wins over a "final answer is … I hope" sentence;
//! - bare LaTeX in prose, choice letters after an anchor and scientific
//!   notation (`5.3e-9`) are read whole (math-verify reads `5.3`, `6`, or
//!   nothing);
//! - the differences of [`crate::equiv`] (percent without its sign,
//!   relations against intervals, tiny values, units after a number).
//!
//! Candidates that do not parse as math are skipped for the next one. Work
//! is bounded: the anchors and spans are searched in the last
//! [`MAX_SCAN_BYTES`] of the text and at most [`MAX_TRIES`] candidates are
//! parsed.

use crate::equiv::{Verdict, verify};
use crate::math::budget::{Budget, MAX_INPUT_BYTES};
use crate::math::expr::Expr;
use crate::math::normalize::undouble_backslashes;

/// Only the end of a longer text is searched for anchors and spans.
pub const MAX_SCAN_BYTES: usize = 16 * 1024;
/// At most this many candidates are parsed per text.
pub const MAX_TRIES: usize = 12;
/// At most this many spans (or boxes) joined into one list.
const MAX_JOINED: usize = 6;

/// The result of [`verify_texts`]: the verdict and what was compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextVerdict {
    /// The verdict of [`verify`] on the two extracted answers.
    pub verdict: Verdict,
    /// The answer found in the gold text.
    pub gold_answer: String,
    /// The answer found in the predicted text.
    pub pred_answer: String,
}

/// Compares two whole texts (answers, sentences or full solutions) like
/// math-verify's `verify(parse(gold), parse(pred))`: the answer of each is
/// found with [`text_answer`], then compared with [`verify`].
///
/// ```
/// use rzero_reward::verify_texts;
/// let solution = r"Adding, $2 + 3 = 5$. So the answer is $\boxed{5}$.";
/// assert!(verify_texts("$5$", solution).verdict.equal);
/// let out = verify_texts("1000", r"The total is $1,\!000$ dollars.");
/// assert_eq!((out.pred_answer.as_str(), out.verdict.equal), (r"1,\!000", true));
/// ```
pub fn verify_texts(gold: &str, pred: &str) -> TextVerdict {
    let gold_answer = text_answer(gold);
    let pred_answer = text_answer(pred);
    TextVerdict {
        verdict: verify(&gold_answer, &pred_answer),
        gold_answer,
        pred_answer,
    }
}

/// The final answer in `text` (see the module docs for the order).
///
/// ```
/// use rzero_reward::text_answer;
/// assert_eq!(text_answer(r"so $x = \boxed{7}$."), "7");
/// assert_eq!(text_answer(r"\frac{1}{2}"), r"\frac{1}{2}");
/// assert_eq!(text_answer("The largest $n$ is 34."), "34");
/// assert_eq!(text_answer(r"Answer \( 9 \)"), "9");
/// ```
pub fn text_answer(text: &str) -> String {
    let text = undouble_backslashes(text);
    let text = text.trim();
    if let Some(boxed) = last_boxes(text) {
        return boxed;
    }
    let mut tries = 0;
    if is_answer(text, &mut tries) {
        return text.to_owned();
    }
    let tail = tail(text, MAX_SCAN_BYTES);
    anchored(tail, &mut tries)
        .or_else(|| best_of(candidates(tail, 0), &mut tries))
        .unwrap_or_else(|| text.to_owned())
}

/// The last `max` bytes of `text`, cut at a character boundary.
fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Whether the whole text reads as one math answer (no sentence around it).
fn is_answer(text: &str, tries: &mut usize) -> bool {
    if text.is_empty() || text.len() > MAX_INPUT_BYTES || has_sentence_word(text) {
        return false;
    }
    parses(text, tries)
}

/// Whether `candidate` parses as math (not as words); counts a try.
fn parses(candidate: &str, tries: &mut usize) -> bool {
    if *tries >= MAX_TRIES || candidate.trim().is_empty() {
        return false;
    }
    *tries += 1;
    let mut budget = Budget::default();
    let parsed = crate::math::parse(candidate, &mut budget);
    matches!(parsed.expr, Some(ref e) if !matches!(e, Expr::Text(_)))
}

/// Short words that only occur in sentences, never in a math answer, or
/// markup around one (`**`, `####`).
fn has_sentence_word(text: &str) -> bool {
    const WORDS: [&str; 14] = [
        "is", "so", "we", "be", "it", "of", "to", "by", "as", "at", "if", "the", "are", "thus",
    ];
    let sentence = text
        .split(|c: char| !c.is_ascii_alphabetic() && c != '\\')
        .filter(|w| !w.starts_with('\\'))
        .any(|w| WORDS.iter().any(|s| s.eq_ignore_ascii_case(w)));
    sentence || text.contains("**") || text.contains("####")
}

/// The last closed box, with the boxes just before it that are joined to it
/// by `,`, `and`, `or` (several answers). One pass matches every brace, so
/// many unclosed boxes cost no more than one.
fn last_boxes(text: &str) -> Option<String> {
    let closing = matching_braces(text);
    let mut boxes = Vec::new();
    for command in ["\\boxed", "\\fbox"] {
        for (start, _) in text.match_indices(command) {
            let after = start + command.len();
            let open =
                after + text[after..].len() - text[after..].trim_start_matches([' ', '\t']).len();
            // An empty box (`put the answer in \boxed{}`) holds no answer.
            if let Some(&close) = closing.get(&open)
                && !text[open + 1..close].trim().is_empty()
            {
                boxes.push((start, close + 1, text[open + 1..close].trim()));
            }
        }
    }
    boxes.sort_by_key(|b| b.0);
    let (mut start, _, last) = *boxes.last()?;
    let mut joined = vec![last];
    for &(s, e, content) in boxes.iter().rev().skip(1) {
        if joined.len() >= MAX_JOINED || e > start || !is_joiner(&text[e..start]) {
            break;
        }
        joined.push(content);
        start = s;
    }
    joined.reverse();
    Some(join_answers(&joined))
}

/// Byte position of the `}` closing each `{` (a backslash escapes the next
/// character, as in [`crate::extract::extract_boxed`]).
fn matching_braces(text: &str) -> std::collections::HashMap<usize, usize> {
    let mut open = Vec::new();
    let mut pairs = std::collections::HashMap::new();
    let mut escaped = false;
    for (i, b) in text.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'{' => open.push(i),
            b'}' => {
                if let Some(o) = open.pop() {
                    pairs.insert(o, i);
                }
            }
            _ => {}
        }
    }
    pairs
}

/// Whether the text between two answers only joins them (`, `, ` and `,
/// `$ or $`).
fn is_joiner(between: &str) -> bool {
    let t = between.trim_matches(|c: char| c.is_whitespace() || c == '$' || c == ',');
    t.is_empty() || t == "and" || t == "or"
}

/// A found answer: its byte range in the text and the text to compare.
#[derive(Debug, Clone)]
struct Candidate {
    start: usize,
    end: usize,
    answer: String,
}

/// After the last "final answer … is", else after the last "answer".
fn anchored(text: &str, tries: &mut usize) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    if let Some(at) = lower.rfind("final answer") {
        let rest_start = at + "final answer".len();
        let window =
            &lower[rest_start..floor_boundary(&lower, (rest_start + 100).min(lower.len()))];
        let is = window
            .find(" is")
            .map(|i| i + 3)
            .or_else(|| window.find(':').map(|i| i + 1));
        if let Some(offset) = is
            && let Some(found) = first_after(text, rest_start + offset, 50, tries)
        {
            return Some(found);
        }
    }
    for (at, _) in lower.rmatch_indices("answer").take(8) {
        let from = at + "answer".len();
        if let Some(letter) = choice_after(&text[from..]) {
            return Some(letter);
        }
        if let Some(found) = first_after(text, from, 50, tries) {
            return Some(found);
        }
    }
    None
}

/// A multiple-choice letter right after an answer anchor: `is (B).`,
/// `: C`, `is option D` (capital `A`–`J` standing alone).
fn choice_after(rest: &str) -> Option<String> {
    let mut t = rest.trim_start_matches([' ', ':', '*']);
    for word in ["is", "option", "choice", ":"] {
        t = t
            .strip_prefix(word)
            .unwrap_or(t)
            .trim_start_matches([' ', ':', '*', '$']);
    }
    let t = t.strip_prefix("\\text{").unwrap_or(t);
    let t = t.strip_prefix("\\textbf{").unwrap_or(t);
    let (open, t) = t.strip_prefix('(').map_or((false, t), |x| (true, x));
    let mut chars = t.chars();
    let letter = chars.next().filter(|c| ('A'..='J').contains(c))?;
    let after = chars.as_str();
    let after = if open {
        after.strip_prefix(')')?
    } else {
        after
    };
    // `A` and `I` are also words ("the answer is I think 5"): a space
    // after them is not enough.
    let word = !open && matches!(letter, 'A' | 'I');
    let ends = after
        .chars()
        .next()
        .is_none_or(|c| c.is_whitespace() && !word || ".,;:)}$*".contains(c));
    ends.then(|| letter.to_string())
}

/// What follows an anchor at `from`, as math-verify's anchored patterns
/// read it: the first LaTeX span and the first number starting within
/// `window` bytes, and the number after the last `=` within twice that;
/// the one ending last that parses.
fn first_after(text: &str, from: usize, window: usize, tries: &mut usize) -> Option<String> {
    let near = |c: &Candidate| c.start <= from + window;
    let mut spans = latex_spans(text, from);
    join_spans(text, &mut spans);
    let mut found: Vec<Candidate> = spans.into_iter().filter(near).take(1).collect();
    let numbers_after = numbers(text, from);
    let first_number = numbers_after.iter().find(|c| near(c)).cloned();
    // Bare LaTeX (`the answer is 6\sqrt{2}.`) only where it holds the first number.
    let run = bare_runs(text, from).into_iter().find(near);
    if let Some(run) = run
        && first_number.as_ref().is_none_or(|n| run.start <= n.start)
    {
        found.push(run);
    }
    found.extend(first_number);
    let reach = floor_boundary(text, (from + 2 * window).min(text.len()));
    if let Some(eq) = text[from..reach].rfind('=') {
        let at = from + eq + 1;
        let skip = text[at..].len() - text[at..].trim_start().len();
        found.extend(
            numbers_after
                .into_iter()
                .filter(|c| c.start == at + skip)
                .take(1),
        );
    }
    best_of(found, tries)
}

/// The largest character boundary at or before `at`.
fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The rightmost candidate that parses.
fn best_of(mut found: Vec<Candidate>, tries: &mut usize) -> Option<String> {
    found.sort_by_key(|c| (std::cmp::Reverse(c.end), c.start));
    found
        .into_iter()
        .find(|c| parses(&c.answer, tries))
        .map(|c| c.answer)
}

/// Every LaTeX span (joined lists merged), number and plain expression
/// starting at or after `from`.
fn candidates(text: &str, from: usize) -> Vec<Candidate> {
    let mut spans = latex_spans(text, from);
    join_spans(text, &mut spans);
    let mut all = spans;
    all.extend(numbers(text, from));
    all.extend(bare_runs(text, from));
    all
}

/// `$$…$$`, `\[…\]`, `$…$` (one line), `\(…\)` (one line), and the
/// percent sign after one.
fn latex_spans(text: &str, from: usize) -> Vec<Candidate> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut unclosed: Vec<&str> = Vec::new();
    let mut i = from;
    while i < bytes.len() {
        let escaped = i > 0 && bytes[i - 1] == b'\\';
        let (open, close, one_line): (&str, &str, bool) =
            if bytes[i..].starts_with(b"$$") && !escaped {
                ("$$", "$$", false)
            } else if bytes[i..].starts_with(b"\\[") && !escaped {
                ("\\[", "\\]", false)
            } else if bytes[i..].starts_with(b"\\(") && !escaped {
                ("\\(", "\\)", true)
            } else if bytes[i] == b'$' && !escaped && !(i > 0 && bytes[i - 1].is_ascii_digit()) {
                ("$", "$", true)
            } else {
                i += 1;
                continue;
            };
        let body = i + open.len();
        if !one_line && unclosed.contains(&open) {
            i += open.len();
            continue;
        }
        match find_close(text, body, close, one_line) {
            Some(end) => {
                let inner = text[body..end].trim();
                let mut stop = end + close.len();
                let mut answer = inner.to_owned();
                if let Some(len) = percent_after(&text[stop..]) {
                    answer.push_str("\\%");
                    stop += len;
                }
                if !inner.is_empty() {
                    out.push(Candidate {
                        start: i,
                        end: stop,
                        answer,
                    });
                }
                i = end + close.len();
            }
            None => {
                // Nothing closes a display span after here: skip its openers.
                if !one_line {
                    unclosed.push(open);
                }
                i += open.len();
            }
        }
    }
    out
}

/// Where `close` (not escaped) ends the span opened before `body`; a
/// one-line span is looked for up to the end of its line only.
fn find_close(text: &str, body: usize, close: &str, one_line: bool) -> Option<usize> {
    let limit = if one_line {
        text[body..].find('\n').map_or(text.len(), |n| body + n)
    } else {
        text.len()
    };
    let mut from = body;
    loop {
        let at = from + text[from..limit].find(close)?;
        if close == "$" && at > 0 && text.as_bytes()[at - 1] == b'\\' {
            from = at + 1;
            continue;
        }
        return Some(at);
    }
}

/// Length of a `%`, `\%` or "percent" right after a span or number.
fn percent_after(rest: &str) -> Option<usize> {
    let t = rest.trim_start_matches(' ');
    let skipped = rest.len() - t.len();
    ["\\%", "%", "percent", "pct"]
        .iter()
        .find(|p| t.starts_with(**p))
        .map(|p| skipped + p.len())
}

/// Several answers as one list; `x = 2` and `x = -2` give `2, -2`.
fn join_answers(parts: &[&str]) -> String {
    let value = |p: &str| {
        let (name, value) = p.split_once('=')?;
        let name = name.trim();
        (name.len() == 1 && name.chars().all(|c| c.is_ascii_alphabetic()))
            .then(|| (name.to_owned(), value.trim().to_owned()))
    };
    let values: Option<Vec<(String, String)>> = parts.iter().map(|p| value(p)).collect();
    match values {
        Some(v) if parts.len() > 1 && v.iter().all(|(n, _)| *n == v[0].0) => v
            .into_iter()
            .map(|(_, value)| value)
            .collect::<Vec<_>>()
            .join(", "),
        _ => parts.join(", "),
    }
}

/// Merges spans joined by `,`, `and`, `or` into one list answer.
fn join_spans(text: &str, spans: &mut Vec<Candidate>) {
    let mut merged: Vec<Candidate> = Vec::with_capacity(spans.len());
    let mut run = 1;
    for span in spans.drain(..) {
        if let Some(last) = merged.last_mut()
            && run < MAX_JOINED
            && is_joiner(&text[last.end..span.start])
            && !text[last.end..span.start].trim().is_empty()
        {
            last.answer = join_answers(&[&last.answer, &span.answer]);
            last.end = span.end;
            run += 1;
            continue;
        }
        run = 1;
        merged.push(span);
    }
    *spans = merged;
}

/// Math written in prose without delimiters: maximal runs of
/// space-separated tokens that look like math (a command, `_`, `^`, `=`,
/// `{`, a digit, a lone letter), kept when the run has a command or one of
/// `_^={` (plain numbers are found by [`numbers`]). Spaces inside braces or
/// `\left…\right` stay in the token.
fn bare_runs(text: &str, from: usize) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut run: Option<(usize, usize)> = None;
    for (start, end) in tokens(text, from) {
        let token = &text[start..end];
        if is_math_token(token) {
            run = Some((run.map_or(start, |r| r.0), end));
            continue;
        }
        if let Some(r) = run.take() {
            push_run(text, r, &mut out);
        }
    }
    if let Some(r) = run {
        push_run(text, r, &mut out);
    }
    out
}

fn push_run(text: &str, (start, end): (usize, usize), out: &mut Vec<Candidate>) {
    // Markdown bold around the answer (`**\frac{1}{2}**.`) is no part of it.
    let body = text[start..end].trim_end_matches(['.', ',', ';', ':', '!', '?', '*']);
    let start = start + (body.len() - body.trim_start_matches('*').len());
    let body = body.trim_start_matches('*');
    let bracketed =
        body.starts_with(['(', '[']) && body.ends_with([')', ']']) && body.contains(',');
    // `19, 0, 1`: a list of numbers (a thousands group ties with the number
    // candidate, which comes first).
    let list = body.contains(',')
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || b" ,.-".contains(&b))
        && body.ends_with(|c: char| c.is_ascii_digit());
    let marked =
        (bracketed || list || body.contains(['\\', '_', '^', '=', '{'])) && !body.contains('$');
    if marked && !body.is_empty() {
        out.push(Candidate {
            start,
            end: start + body.len(),
            answer: body.to_owned(),
        });
    }
}

/// Byte ranges of the space-separated tokens after `from`; a space inside
/// braces, parentheses or brackets does not split.
fn tokens(text: &str, from: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, None::<usize>);
    for (i, c) in text[from..].char_indices() {
        let i = from + i;
        match c {
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth = (depth - 1).max(0),
            _ => {}
        }
        if c.is_whitespace() && (depth == 0 || c == '\n') {
            depth = 0;
            if let Some(s) = start.take() {
                out.push((s, i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

fn is_math_token(token: &str) -> bool {
    let bare = token.trim_end_matches(['.', ',', ';', ':']);
    let lone_letter = bare.len() == 1 && bare.chars().all(|c| c.is_ascii_alphabetic());
    (lone_letter && !matches!(bare, "I" | "a" | "A"))
        || bare.contains(['\\', '_', '^', '=', '{', '+', '<', '>'])
        || bare
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || "-([".contains(c))
}

/// Numbers and plain expressions after a space, `=`, `**` or a currency sign
/// (math-verify's anchors): `1,000`, `3,5` (decimal comma), `.5`, `-2`,
/// `50%`, `3/4`, `2^{10}` is not plain, `(1+2)*3` is.
fn numbers(text: &str, from: usize) -> Vec<Candidate> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = from;
    while i < bytes.len() {
        let starts = bytes[i].is_ascii_digit()
            || (matches!(bytes[i], b'-' | b'.' | b'(')
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        if !starts || !anchored_before(bytes, i) {
            i += 1;
            continue;
        }
        let (end, answer) = number_at(text, i);
        let mut stop = end;
        let mut answer = answer;
        if let Some(len) = percent_after(&text[end..]) {
            answer.push('%');
            stop += len;
        }
        if !answer.is_empty() {
            out.push(Candidate {
                start: i,
                end: stop,
                answer,
            });
        }
        i = end.max(i + 1);
    }
    out
}

/// Whether the byte before `i` (past `**` or a currency sign) starts a word.
fn anchored_before(bytes: &[u8], i: usize) -> bool {
    let mut j = i;
    if j > 0 && bytes[j - 1] == b'$' {
        j -= 1;
    }
    while j >= 2 && bytes[j - 1] == b'*' && bytes[j - 2] == b'*' {
        j -= 2;
    }
    j == 0 || bytes[j - 1].is_ascii_whitespace() || bytes[j - 1] == b'='
}

/// The number or plain expression starting at `i`: its end and its text
/// without thousands separators (a decimal comma becomes a point).
fn number_at(text: &str, i: usize) -> (usize, String) {
    let bytes = text.as_bytes();
    let expr_char = |b: u8| b.is_ascii_digit() || b" .+-*/^()".contains(&b);
    let mut end = i;
    while end < bytes.len() && expr_char(bytes[end]) {
        end += 1;
    }
    // A plain expression needs an operator between two operands.
    let raw = text[i..end].trim_end_matches([' ', '.', '+', '-', '*', '/', '^', '(']);
    let has_op = raw.char_indices().skip(1).any(|(k, c)| {
        "+-*/^".contains(c)
            && raw[..k]
                .trim_end()
                .ends_with(|d: char| d.is_ascii_digit() || d == ')')
    });
    if has_op && balanced(raw) {
        let stop = i + raw.len();
        let suffix_ok = text[stop..]
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || ".,:)$".contains(c));
        if suffix_ok {
            return (stop, raw.trim().to_owned());
        }
    }
    simple_number(text, i)
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        depth += match c {
            '(' => 1,
            ')' => -1,
            _ => 0,
        };
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// A number in math-verify's formats: thousands groups `1,234,567.8`,
/// a decimal point or comma `3.5` / `3,5`, `.5`, or an integer.
fn simple_number(text: &str, i: usize) -> (usize, String) {
    let bytes = text.as_bytes();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut k = i;
    let mut out = String::new();
    if bytes.get(k) == Some(&b'(') {
        return (i + 1, String::new());
    }
    if bytes[k] == b'-' {
        out.push('-');
        k += 1;
    }
    let lead = digits(k);
    out.push_str(&text[k..k + lead]);
    k += lead;
    // Thousands groups: 1-3 leading digits, then `,ddd` (not followed by a digit).
    let mut grouped = false;
    if (1..=3).contains(&lead) && bytes[k - lead] != b'0' {
        while bytes.get(k) == Some(&b',')
            && digits(k + 1) == 3
            && !bytes.get(k + 4).is_some_and(u8::is_ascii_digit)
        {
            out.push_str(&text[k + 1..k + 4]);
            k += 4;
            grouped = true;
        }
    }
    let sep = bytes.get(k).copied();
    // `3,5` is a decimal comma, `19,0,1` a list.
    let list = sep == Some(b',') && {
        let after = k + 1 + digits(k + 1);
        bytes.get(after) == Some(&b',') && bytes.get(after + 1).is_some_and(u8::is_ascii_digit)
    };
    let decimal_comma = sep == Some(b',') && !grouped && lead > 0 && !list;
    if (sep == Some(b'.') || decimal_comma) && digits(k + 1) > 0 {
        let n = digits(k + 1);
        out.push('.');
        out.push_str(&text[k + 1..k + 1 + n]);
        k += 1 + n;
    }
    if out.is_empty() || out == "-" {
        return (i + 1, String::new());
    }
    // Scientific notation: `5.3e-9`, `1.85E5` (not `2e` or `3eggs`).
    if matches!(bytes.get(k), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(k + 1), Some(b'-' | b'+')));
        let exp = digits(k + 1 + sign);
        let after = k + 1 + sign + exp;
        if exp > 0 && !bytes.get(after).is_some_and(u8::is_ascii_alphanumeric) {
            out.push_str(&text[k..after]);
            k = after;
        }
    }
    (k, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_come_first_and_join() {
        assert_eq!(text_answer(r"$\boxed{2}$ and $\boxed{3}$"), "2, 3");
        assert_eq!(text_answer(r"\boxed{1} so later \boxed{4}"), "4");
        assert_eq!(text_answer(r"\\boxed{\\frac{1}{2}}"), r"\frac{1}{2}");
        assert_eq!(text_answer(r"so \boxed{3}. (Put it in \boxed{}.)"), "3");
    }

    #[test]
    fn anchors_then_rightmost_candidate() {
        assert_eq!(text_answer("The final answer is $3$. I hope"), "3");
        assert_eq!(text_answer("**Answer:** 12 apples"), "12");
        assert_eq!(text_answer("so it costs $18.90."), "18.90");
        assert_eq!(text_answer("we get 1,234,567 ways"), "1234567");
        assert_eq!(text_answer("about 3,5 m"), "3.5");
        assert_eq!(text_answer("#### 72"), "72");
        assert_eq!(text_answer("That is 50% of it"), "50%");
        assert_eq!(text_answer(r"Thus \[x = 5\]"), "x = 5");
        assert_eq!(text_answer("The roots are $2$ and $3$."), "2, 3");
        assert_eq!(text_answer("it is 3/4 of it"), "3/4");
        assert_eq!(text_answer("The answer is (B)."), "B");
        assert_eq!(text_answer("**Answer:** C"), "C");
        assert_eq!(text_answer("The answer is I think 5."), "5");
    }

    #[test]
    fn answers_stay_whole() {
        for s in [
            r"\left( 3, \frac{\pi}{2} \right)",
            "x = 5",
            r"$69$,$84$",
            "p - q",
        ] {
            assert_eq!(text_answer(s), s);
        }
        assert_eq!(text_answer("no numbers here"), "no numbers here");
    }

    #[test]
    fn numbers_need_an_anchor() {
        assert_eq!(text_answer("XDY2K"), "XDY2K");
        assert_eq!(tail("aé", 1), "");
    }
}
