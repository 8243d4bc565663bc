//! String-level cleanup of a LaTeX answer before lexing: delimiters, boxes,
//! spacing macros, thousands separators, degrees, units and text wrappers.

use crate::extract::extract_boxed;

/// Commands whose braced argument is plain text to unwrap.
const TEXT_COMMANDS: [&str; 11] = [
    "\\text",
    "\\textbf",
    "\\textit",
    "\\textrm",
    "\\textnormal",
    "\\mathrm",
    "\\mathbf",
    "\\mathit",
    "\\mathsf",
    "\\mbox",
    "\\operatorname",
];

/// Unit words dropped after a quantity (singular; a plural `s` is accepted).
const UNITS: [&str; 58] = [
    "m",
    "cm",
    "mm",
    "km",
    "meter",
    "centimeter",
    "millimeter",
    "kilometer",
    "metre",
    "in",
    "inch",
    "inche",
    "ft",
    "foot",
    "feet",
    "yd",
    "yard",
    "mile",
    "mi",
    "g",
    "kg",
    "mg",
    "gram",
    "kilogram",
    "lb",
    "pound",
    "oz",
    "ounce",
    "s",
    "sec",
    "second",
    "min",
    "minute",
    "h",
    "hr",
    "hour",
    "day",
    "week",
    "month",
    "year",
    "dollar",
    "cent",
    "euro",
    "unit",
    "sq",
    "square",
    "cubic",
    "degree",
    "deg",
    "radian",
    "rad",
    "l",
    "liter",
    "litre",
    "ml",
    "mph",
    "mile per hour",
    "point",
];

/// Cleans `text` into what the lexer reads.
pub fn normalize(text: &str) -> String {
    let text = undouble_backslashes(text);
    let mut s = strip_delimiters(text.trim());
    s = bracketed_arrays(&s);
    for (from, to) in [
        ("\\left.", ""),
        ("\\right.", ""),
        ("\\left", ""),
        ("\\right", ""),
        ("^{\\circ}", ""),
        ("^\\circ", ""),
        ("\\circ", ""),
        ("\\degree", ""),
        ("{,}", ""),
        (",\\! ", ","),
        (",\\!", ","),
        ("\\!", ""),
        ("\\$", ""),
        ("$", ""),
        ("\\%", "%"),
        ("\\dfrac", "\\frac"),
        ("\\tfrac", "\\frac"),
        ("\\cfrac", "\\frac"),
        ("\\displaystyle", ""),
        ("\\mathstrut", ""),
        ("\u{2212}", "-"),
        ("\u{00d7}", "\\times "),
        ("\u{00b7}", "\\cdot "),
        ("\u{00f7}", "/"),
    ] {
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    s = join_spaced_digits(&s);
    s = base_subscripts(&s);
    s = mixed_numbers(&s);
    s = unwrap_text_commands(&s);
    for word in ["percentage", "percent", "pct"] {
        if s.contains(word) {
            s = s.replace(word, "%");
        }
    }
    let s = drop_trailing_units(&s);
    // What a dropped `\mathrm{~m} / \mathrm{s}` or `\text{.}` leaves.
    let s = s.trim_end_matches(['/', '.', ' ']);
    assignment_list(s)
}

/// `x = 5 or x = -3`, `x=5, x=-3`: several values of one variable are the
/// list of values `5, -3` (`and`/`or` between them read as commas).
fn assignment_list(s: &str) -> String {
    if !s.contains('=') || !(s.contains(',') || s.contains(" or ") || s.contains(" and ")) {
        return s.to_owned();
    }
    let listed = s.replace(" or ", ", ").replace(" and ", ", ");
    let parts: Vec<&str> = listed.split(',').collect();
    let mut name = None;
    let mut values = Vec::with_capacity(parts.len());
    for part in &parts {
        let Some((left, value)) = part.split_once('=') else {
            return s.to_owned();
        };
        let left = left.trim();
        let single = left.len() == 1 && left.chars().all(|c| c.is_ascii_alphabetic());
        if !single || name.is_some_and(|n| n != left) || value.contains('=') {
            return s.to_owned();
        }
        name = Some(left);
        values.push(value.trim());
    }
    values.join(", ")
}

/// Text copied out of JSON or a Python repr arrives with every backslash
/// doubled (`\\frac{1}{2}`): when every run of backslashes has even length
/// and one of them starts a command, each run is halved.
pub fn undouble_backslashes(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let (mut i, mut command) = (0, false);
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let run = bytes[i..].iter().take_while(|&&b| b == b'\\').count();
            if run % 2 == 1 {
                return text.into();
            }
            command |= run == 2 && bytes.get(i + run).is_some_and(u8::is_ascii_alphabetic);
            i += run;
        } else {
            i += 1;
        }
    }
    if !command {
        return text.into();
    }
    text.replace("\\\\", "\\").into()
}

/// `\left[\begin{array}{cc}…\end{array}\right]` is a matrix: the column
/// spec and the brackets around the environment go.
fn bracketed_arrays(s: &str) -> String {
    if !s.contains("\\begin{array}") {
        return s.to_owned();
    }
    let mut out = s.to_owned();
    while let Some(at) = out.find("\\begin{array}") {
        let after = at + "\\begin{array}".len();
        let spec = crate::extract::braced_argument(&out[after..]).map_or(0, |c| {
            let open = out[after..].find('{').unwrap_or(0);
            open + c.len() + 2
        });
        out = format!("{}\\begin{{matrix}}{}", &out[..at], &out[after + spec..]);
    }
    out = out.replace("\\end{array}", "\\end{matrix}");
    for (open, close) in [
        ("\\left[", "\\right]"),
        ("\\left(", "\\right)"),
        ("[", "]"),
        ("(", ")"),
    ] {
        let t = out.trim();
        if let Some(inner) = t.strip_prefix(open).and_then(|x| x.strip_suffix(close))
            && inner.trim_start().starts_with("\\begin{matrix}")
            && inner.trim_end().ends_with("\\end{matrix}")
        {
            out = inner.trim().to_owned();
        }
    }
    out
}

/// Removes `$…$`, `\(…\)`, `\[…\]` and a box around the whole answer.
fn strip_delimiters(text: &str) -> String {
    let mut s = text;
    loop {
        let before = s;
        for (open, close) in [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")] {
            if s.len() >= open.len() + close.len() && s.starts_with(open) && s.ends_with(close) {
                s = s[open.len()..s.len() - close.len()].trim();
            }
        }
        if (s.starts_with("\\boxed") || s.starts_with("\\fbox"))
            && s.ends_with('}')
            && let Some(inner) = extract_boxed(s)
        {
            s = inner.trim();
        }
        if s == before {
            return s.trim_end_matches(['.', ' ']).to_owned();
        }
    }
}

/// `1\,000` and `1\!000` are one number; elsewhere thin spaces are spaces.
fn join_spaced_digits(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let spacing =
            bytes[i] == b'\\' && matches!(bytes.get(i + 1), Some(b',' | b'!' | b';' | b':' | b' '));
        if spacing {
            let between_digits = out.ends_with(|c: char| c.is_ascii_digit())
                && bytes
                    .get(i + 2..i + 5)
                    .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
            if !between_digits {
                out.push(' ');
            }
            i += 2;
            continue;
        }
        let len = s[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&s[i..i + len]);
        i += len;
    }
    out
}

/// `204_5`, `1011_{2}`: a number written in another base is compared by its
/// digits (math-verify reads `204_5` as `204`); `x_1`, `a_{10}` stay.
fn base_subscripts(s: &str) -> String {
    if !s.contains('_') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'_' && i > 0 && bytes[i - 1].is_ascii_digit() {
            let run_start = bytes[..i]
                .iter()
                .rposition(|b| !b.is_ascii_digit())
                .map_or(0, |p| p + 1);
            let bare = run_start == 0
                || !(bytes[run_start - 1].is_ascii_alphabetic()
                    || matches!(bytes[run_start - 1], b'_' | b'^' | b'.'));
            let rest = &s[i + 1..];
            let braced = rest.strip_prefix('{').map(|r| (r, 1));
            let (digits_from, extra) = braced.unwrap_or((rest, 0));
            let digits = digits_from.bytes().take_while(u8::is_ascii_digit).count();
            let closed = extra == 0 || digits_from[digits..].starts_with('}');
            if bare && digits > 0 && closed {
                i += 1 + digits + 2 * extra;
                continue;
            }
        }
        let len = s[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&s[i..i + len]);
        i += len;
    }
    out
}

/// `2\frac{1}{2}` is the mixed number `(2+\frac{1}{2})`, as in math-verify.
fn mixed_numbers(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < bytes.len() {
        let starts_number = bytes[i].is_ascii_digit()
            && (i == 0
                || !(bytes[i - 1].is_ascii_alphanumeric()
                    || matches!(bytes[i - 1], b'.' | b'^' | b'_' | b'{')));
        if starts_number {
            let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            let after = &s[i + digits..];
            let frac = after.trim_start();
            if let Some(len) = integer_fraction_len(frac) {
                let skipped = after.len() - frac.len();
                out.push_str(&format!("({}+{})", &s[i..i + digits], &frac[..len]));
                i += digits + skipped + len;
                continue;
            }
            out.push_str(&s[i..i + digits]);
            i += digits;
            continue;
        }
        let len = s[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&s[i..i + len]);
        i += len;
    }
    out
}

/// Length of a leading `\frac{digits}{digits}`.
fn integer_fraction_len(s: &str) -> Option<usize> {
    let rest = s.strip_prefix("\\frac{")?;
    let numer = rest.bytes().take_while(u8::is_ascii_digit).count();
    let rest = rest[numer..].strip_prefix("}{")?;
    let denom = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[denom..].starts_with('}').then_some(())?;
    (numer > 0 && denom > 0).then_some("\\frac{".len() + numer + 2 + denom + 1)
}

fn unwrap_text_commands(s: &str) -> String {
    let mut out = s.to_owned();
    // Innermost-last order does not matter: each pass unwraps one command.
    for _ in 0..32 {
        let Some((start, command)) = TEXT_COMMANDS
            .iter()
            .filter_map(|c| find_command(&out, c).map(|at| (at, *c)))
            .min_by_key(|(at, _)| *at)
        else {
            break;
        };
        let after = start + command.len();
        let Some(content) = crate::extract::braced_argument(&out[after..]) else {
            break;
        };
        let open = out[after..].find('{').map_or(after, |o| after + o);
        let end = open + 1 + content.len() + 1;
        let word = content.trim_matches(|c: char| c.is_whitespace() || c == '~');
        let quantity_before = !out[..start].trim().is_empty();
        let replacement = if command == "\\operatorname" {
            format!("\\{word} ")
        } else if quantity_before && is_unit(word) {
            String::new()
        } else {
            format!(" {word} ")
        };
        let mut rest = &out[end..];
        if replacement.is_empty() {
            rest = rest
                .trim_start()
                .trim_start_matches("^{2}")
                .trim_start_matches("^2")
                .trim_start_matches("^{3}")
                .trim_start_matches("^3");
        }
        out = format!("{}{replacement}{rest}", &out[..start]);
    }
    out
}

/// Position of `command` not followed by more letters (`\text` but not `\textbf`).
fn find_command(s: &str, command: &str) -> Option<usize> {
    s.match_indices(command)
        .find(|(at, _)| !s[at + command.len()..].starts_with(|c: char| c.is_ascii_alphabetic()))
        .map(|(at, _)| at)
}

fn is_unit(word: &str) -> bool {
    // Compound units: `m/s`, `km/h`, `kg m^2`.
    if let Some((a, b)) = word.split_once('/') {
        return is_unit(a.trim()) && is_unit(b.trim());
    }
    let lower = word.to_ascii_lowercase();
    let lower = lower.trim_end_matches('.');
    let single = lower
        .strip_suffix('s')
        .filter(|w| w.len() > 1)
        .unwrap_or(lower);
    UNITS.contains(&lower)
        || UNITS.contains(&single)
        || lower
            .split_whitespace()
            .all(|w| UNITS.contains(&w.trim_end_matches('s')) || UNITS.contains(&w))
            && !lower.is_empty()
}

/// `5 cm`, `12 inches`: a unit word (two letters or more) after a quantity.
fn drop_trailing_units(s: &str) -> String {
    let mut s = s.trim().to_owned();
    for _ in 0..3 {
        let Some((rest, last)) = s.rsplit_once(' ') else {
            break;
        };
        let rest = rest.trim_end();
        let last_bare = last.trim_end_matches(['^', '2', '3']);
        let after_quantity = rest.ends_with(|c: char| c.is_ascii_digit() || c == '}' || c == ')');
        let after_number = rest.ends_with(|c: char| c.is_ascii_digit());
        let letters = last_bare.chars().all(|c| c.is_ascii_alphabetic());
        // Any word after a plain number is a unit (`12 cookies`); after a
        // `}` or `)` only the known units are.
        let noun = last_bare.len() >= 3 && !super::is_math_word(last_bare) && after_number;
        if last_bare.len() >= 2 && letters && (is_unit(last_bare) && after_quantity || noun) {
            s = rest.to_owned();
        } else {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn cleans_common_wrappers() {
        let cases = [
            (r"$\frac{1}{2}$", r"\frac{1}{2}"),
            (r"\boxed{1\,000}", "1000"),
            (r"1{,}000", "1000"),
            (r"30^\circ", "30"),
            (r"5\text{ cm}", "5"),
            (r"5\text{ cm}^2", "5"),
            (r"12 inches", "12"),
            (r"\text{(A)}", "(A)"),
            (r"\left( 1, 2 \right)", "( 1, 2 )"),
            (r"50\%", "50%"),
            (r"\dfrac12", r"\frac12"),
            (r"2\frac{1}{2}", r"(2+\frac{1}{2})"),
            (r"x^2\frac{1}{2}", r"x^2\frac{1}{2}"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize(input).trim(), expected, "{input}");
        }
    }
}
