//! `rzero check-answers`: marks each `{"gold", "pred"}` JSONL line with
//! `"equivalent": bool` from the rzero-reward checker. By default both
//! sides may be whole texts (a solution, a sentence, `$…$`): their answers
//! are found first, like math-verify's `verify(parse(gold), parse(pred))`,
//! and written as `"gold_answer"` / `"pred_answer"`; `--extract none`
//! compares the two fields as they are.

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
    /// How answers are read: found in whole texts first (`answers`), or the
    /// fields compared as answer strings (`none`).
    #[arg(long, value_enum, default_value_t = Extract::Answers)]
    pub extract: Extract,
}

/// Whether `gold` and `pred` are whole texts or answer strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Extract {
    /// Find each answer (last `\boxed{}`, then math-verify's fallbacks).
    Answers,
    /// Compare the fields as they are.
    None,
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
        match mark_line(line, args.extract) {
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

/// The line with `"equivalent"` (and, when extracting, `"gold_answer"`
/// and `"pred_answer"`) added, keeping the original text of the other
/// fields; an error says what is wrong with the line.
fn mark_line(line: &str, extract: Extract) -> Result<(String, bool), String> {
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
    let (gold, pred) = (field("gold")?, field("pred")?);
    let mut added: Vec<(&str, Value)> = Vec::new();
    let is_equal = match extract {
        Extract::None => rzero_reward::equivalent(&gold, &pred),
        Extract::Answers => {
            let out = rzero_reward::verify_texts(&gold, &pred);
            added.push(("gold_answer", Value::String(out.gold_answer)));
            added.push(("pred_answer", Value::String(out.pred_answer)));
            out.verdict.equal
        }
    };
    added.push(("equivalent", Value::Bool(is_equal)));
    let trimmed = line.trim_end();
    if added.iter().all(|(name, _)| !fields.contains_key(*name))
        && let Some(body) = trimmed.strip_suffix('}')
    {
        let mut out = body.trim_end().to_owned();
        for (i, (name, value)) in added.iter().enumerate() {
            let separator = if fields.is_empty() && i == 0 { "" } else { "," };
            out.push_str(&format!("{separator}\"{name}\":{value}"));
        }
        out.push('}');
        return Ok((out, is_equal));
    }
    for (name, value) in added {
        fields.insert(name.into(), value);
    }
    Ok((Value::Object(fields).to_string(), is_equal))
}

#[cfg(test)]
mod tests {
    use super::{Extract, mark_line};

    #[test]
    fn appends_the_verdict_and_keeps_other_fields() {
        let (line, equal) = mark_line(
            r#"{"id": 7, "gold": "\\frac12", "pred": "0.5"}"#,
            Extract::None,
        )
        .expect("valid");
        assert!(equal);
        assert_eq!(
            line,
            r#"{"id": 7, "gold": "\\frac12", "pred": "0.5","equivalent":true}"#
        );
    }

    #[test]
    fn replaces_an_existing_verdict_and_accepts_numbers() {
        let (line, equal) = mark_line(
            r#"{"gold": 3, "pred": "4", "equivalent": true}"#,
            Extract::None,
        )
        .expect("valid");
        assert!(!equal);
        assert!(line.contains(r#""equivalent":false"#), "{line}");
    }

    #[test]
    fn reports_what_is_wrong() {
        let mode = Extract::Answers;
        assert_eq!(mark_line("[1]", mode).unwrap_err(), "not a JSON object");
        assert_eq!(
            mark_line(r#"{"gold": "1"}"#, mode).unwrap_err(),
            "missing field `pred`"
        );
        assert!(
            mark_line("{nope", mode)
                .unwrap_err()
                .starts_with("not JSON")
        );
    }

    #[test]
    fn extracts_answers_from_whole_texts_by_default() {
        let line = r#"{"gold": "$1,\\!000$", "pred": "So the total is $\\boxed{1000}$."}"#;
        let (marked, equal) = mark_line(line, Extract::Answers).expect("valid");
        assert!(equal);
        let value: serde_json::Value = serde_json::from_str(&marked).expect("json");
        assert_eq!(value["gold_answer"], r"$1,\!000$");
        assert_eq!(value["pred_answer"], "1000");
        let (_, raw) = mark_line(line, Extract::None).expect("valid");
        assert!(!raw, "raw mode compares the whole sentence");
    }
}
