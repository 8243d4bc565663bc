//! `rzero check-answers`: marks each `{"gold", "pred"}` JSONL line with
//! `"equivalent": bool` from the rzero-reward checker.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use serde_json::Value;

/// Arguments of `rzero check-answers`.
#[derive(Debug, clap::Args)]
pub struct CheckAnswersArgs {
    /// JSONL input: one object per line with string (or number) fields `gold`
    /// and `pred`; other fields are kept.
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the marked lines (atomically); stdout when absent.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// What to do with a malformed line: report and skip it, or stop.
    #[arg(long, value_enum, default_value_t = OnBadLine::Skip)]
    pub on_bad_line: OnBadLine,
}

/// Handling of a line that is not an object with `gold` and `pred`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnBadLine {
    /// Report it on stderr with its line number, skip it, count it.
    Skip,
    /// Stop with an error naming the line.
    Fail,
}

/// Runs the subcommand; reports counts on stderr.
pub fn run(args: &CheckAnswersArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("reading {}", args.input.display()))?;
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let (mut checked, mut equal, mut skipped) = (0usize, 0usize, 0usize);
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match mark_line(line) {
            Ok((marked, is_equal)) => {
                out.push_str(&marked);
                out.push('\n');
                checked += 1;
                equal += usize::from(is_equal);
            }
            Err(reason) => {
                let at = format!("{}:{}", args.input.display(), index + 1);
                if args.on_bad_line == OnBadLine::Fail {
                    bail!("{at}: {reason}");
                }
                eprintln!("warning: {at}: {reason}; line skipped");
                skipped += 1;
            }
        }
    }
    match &args.output {
        Some(path) => rzero_data::atomic_write_bytes(path, out.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?,
        None => std::io::stdout()
            .lock()
            .write_all(out.as_bytes())
            .context("writing stdout")?,
    }
    eprintln!(
        "checked {checked} lines: {equal} equivalent, {} not; {skipped} malformed lines skipped",
        checked - equal
    );
    Ok(())
}

/// The line with `"equivalent"` added, keeping the original text of the
/// other fields; an error says what is wrong with the line.
fn mark_line(line: &str) -> Result<(String, bool), String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(mut fields) = value else {
        return Err("not a JSON object".into());
    };
    let field = |name: &str| match fields.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err(format!("field `{name}` is not a string or number")),
        None => Err(format!("missing field `{name}`")),
    };
    let is_equal = rzero_reward::equivalent(&field("gold")?, &field("pred")?);
    let trimmed = line.trim_end();
    if !fields.contains_key("equivalent")
        && let Some(body) = trimmed.strip_suffix('}')
    {
        let separator = if fields.is_empty() { "" } else { "," };
        return Ok((
            format!("{}{separator}\"equivalent\":{is_equal}}}", body.trim_end()),
            is_equal,
        ));
    }
    fields.insert("equivalent".into(), Value::Bool(is_equal));
    Ok((Value::Object(fields).to_string(), is_equal))
}

#[cfg(test)]
mod tests {
    use super::mark_line;

    #[test]
    fn appends_the_verdict_and_keeps_other_fields() {
        let (line, equal) =
            mark_line(r#"{"id": 7, "gold": "\\frac12", "pred": "0.5"}"#).expect("valid");
        assert!(equal);
        assert_eq!(
            line,
            r#"{"id": 7, "gold": "\\frac12", "pred": "0.5","equivalent":true}"#
        );
    }

    #[test]
    fn replaces_an_existing_verdict_and_accepts_numbers() {
        let (line, equal) =
            mark_line(r#"{"gold": 3, "pred": "4", "equivalent": true}"#).expect("valid");
        assert!(!equal);
        assert!(line.contains(r#""equivalent":false"#), "{line}");
    }

    #[test]
    fn reports_what_is_wrong() {
        assert_eq!(mark_line("[1]").unwrap_err(), "not a JSON object");
        assert_eq!(
            mark_line(r#"{"gold": "1"}"#).unwrap_err(),
            "missing field `pred`"
        );
        assert!(mark_line("{nope").unwrap_err().starts_with("not JSON"));
    }
}
