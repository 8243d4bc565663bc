//! Layered configs: a preset, then a partial TOML file, then `--set`
//! overrides, merged key by key before the result is deserialized.
//!
//! Tables merge recursively; every other value (arrays included) is
//! replaced. A table whose keys are all new replaces a one-key table holding
//! a table (that is an enum switching variant, `band = { centered = { delta =
//! 0.2 } }`; a one-key table holding a value is a struct half written, as
//! `--set grpo.lora.rank=4 --set grpo.lora.alpha=8` builds it, and merges),
//! and a table whose `kind` changes replaces the old one (`schedule`).

use serde::de::DeserializeOwned;
use toml::{Table, Value};

use crate::config::RunConfig;

/// One `--set key.path=value` override, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// Dotted key path, split.
    pub path: Vec<String>,
    /// The value: TOML when it parses as one, else the text as a string.
    pub value: Value,
}

impl std::str::FromStr for Override {
    type Err = String;

    /// Parses `a.b.c=value`; the value is read as TOML (`1e-4`, `true`,
    /// `[1, 2]`, `"text"`), and anything that is not TOML is a string.
    fn from_str(s: &str) -> Result<Self, String> {
        let (key, raw) = s.split_once('=').ok_or_else(|| {
            format!("`{s}`: expected KEY=VALUE (for example grpo.optimizer.lr=1e-4)")
        })?;
        let path: Vec<String> = key
            .trim()
            .split('.')
            .map(|p| p.trim().to_string())
            .collect();
        if path.iter().any(String::is_empty) {
            return Err(format!("`{s}`: the key `{key}` has an empty part"));
        }
        Ok(Self {
            path,
            value: parse_value(raw.trim()),
        })
    }
}

/// `raw` as a TOML value, or as a string when it is not one.
fn parse_value(raw: &str) -> Value {
    let parsed = toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .filter(|t| t.len() == 1);
    match parsed.and_then(|mut t| t.remove("v")) {
        Some(v) => v,
        None => Value::String(raw.to_string()),
    }
}

impl Override {
    /// The override as a nested table (`{a = {b = value}}`).
    fn to_table(&self) -> Table {
        let mut value = self.value.clone();
        for key in self.path.iter().skip(1).rev() {
            value = Value::Table(Table::from_iter([(key.clone(), value)]));
        }
        Table::from_iter([(self.path[0].clone(), value)])
    }
}

/// Merges `overlay` into `base`: tables recursively, other values replaced.
pub fn merge(base: &mut Table, overlay: Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(old)), Value::Table(new)) if !replaces(old, &new) => {
                merge(old, new);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Whether `new` switches an enum's variant, so it replaces `old` whole.
fn replaces(old: &Table, new: &Table) -> bool {
    let kind_changes = matches!((old.get("kind"), new.get("kind")), (Some(a), Some(b)) if a != b);
    let variant = old.len() == 1 && old.values().all(Value::is_table);
    let new_variant = variant && !new.is_empty() && new.keys().all(|k| !old.contains_key(k));
    kind_changes || new_variant
}

/// The preset `base` with `file` (a partial config) and then `sets` applied.
///
/// Errors start with the key path; an unknown key names the nearest valid one.
pub fn layered(
    base: &RunConfig,
    file: Option<Table>,
    sets: &[Override],
) -> Result<RunConfig, String> {
    let mut overlay = file.unwrap_or_default();
    for set in sets {
        merge(&mut overlay, set.to_table());
    }
    let template = Table::try_from(base).map_err(|e| e.to_string())?;
    let mut merged = template.clone();
    merge(&mut merged, overlay.clone());
    let config: RunConfig = deserialize(merged, &template)?;
    if config.preset != base.preset {
        return Err(format!(
            "`preset` cannot be changed to {:?} here: start from it with --preset",
            config.preset
        ));
    }
    // Keys that a lenient struct ignored must not pass silently either.
    let result = Table::try_from(&config).map_err(|e| e.to_string())?;
    check_kept(&overlay, &result, &mut Vec::new())?;
    config.validate()?;
    Ok(config)
}

/// Deserializes `merged`; errors name the key path and, for unknown keys
/// or enum values, the nearest valid one.
fn deserialize<T: DeserializeOwned>(merged: Table, template: &Table) -> Result<T, String> {
    serde_path_to_error::deserialize(Value::Table(merged)).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let inner = e.into_inner().to_string();
        let inner = inner.trim();
        let quoted = quoted(inner);
        let expected = quoted_after_expected(inner);
        match quoted.first() {
            Some(name) if inner.starts_with("unknown field") => {
                // The path may or may not end with the unknown key itself.
                let parent = match path.rsplit_once('.') {
                    Some((p, last)) if last == name => p.to_string(),
                    _ if path == *name => String::new(),
                    _ => path.clone(),
                };
                let full = if parent.is_empty() {
                    name.clone()
                } else {
                    format!("{parent}.{name}")
                };
                let mut candidates = expected;
                candidates.extend(keys_at(template, &parent));
                unknown(&full, name, &parent, &candidates)
            }
            Some(value) if inner.starts_with("unknown variant") => {
                match nearest(value, &expected) {
                    Some(best) => {
                        format!("`{path}`: unknown value {value:?} (did you mean {best:?}?)")
                    }
                    None => format!("`{path}`: {inner}"),
                }
            }
            _ if path.is_empty() => inner.to_string(),
            _ => format!("`{path}`: {inner}"),
        }
    })
}

/// Every key of `overlay` must still be in `result`, the config read back.
fn check_kept(overlay: &Table, result: &Table, at: &mut Vec<String>) -> Result<(), String> {
    for (key, value) in overlay {
        at.push(key.clone());
        match result.get(key) {
            None => {
                let parent = at[..at.len() - 1].join(".");
                let candidates: Vec<String> = result.keys().cloned().collect();
                return Err(unknown(&at.join("."), key, &parent, &candidates));
            }
            Some(Value::Table(kept)) => {
                if let Value::Table(set) = value {
                    check_kept(set, kept, at)?;
                }
            }
            Some(_) => {}
        }
        at.pop();
    }
    Ok(())
}

/// The candidate closest to `name` by edit distance.
fn nearest<'a>(name: &str, candidates: &'a [String]) -> Option<&'a String> {
    candidates
        .iter()
        .filter(|c| c.as_str() != name)
        .min_by_key(|c| strsim::levenshtein(name, c))
}

fn unknown(path: &str, name: &str, parent: &str, candidates: &[String]) -> String {
    match nearest(name, candidates) {
        Some(best) if parent.is_empty() => format!("unknown key {path} (did you mean {best}?)"),
        Some(best) => format!("unknown key {path} (did you mean {parent}.{best}?)"),
        None => format!("unknown key {path}"),
    }
}

/// The backticked names in a serde message, in order.
fn quoted(message: &str) -> Vec<String> {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The backticked names after "expected" in a serde message
/// ("unknown field `x`, expected one of `a`, `b`").
fn quoted_after_expected(message: &str) -> Vec<String> {
    message
        .split_once("expected")
        .map(|(_, list)| quoted(list))
        .unwrap_or_default()
}

/// The keys of the table at dotted `path` in `root` (empty when none).
fn keys_at(root: &Table, path: &str) -> Vec<String> {
    let mut table = root;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        match table.get(part) {
            Some(Value::Table(t)) => table = t,
            _ => return Vec::new(),
        }
    }
    table.keys().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets::{smoke, tiny};

    fn table(text: &str) -> Table {
        toml::from_str(text).unwrap()
    }

    fn set(s: &str) -> Override {
        s.parse().unwrap()
    }

    #[test]
    fn a_partial_file_overrides_only_its_keys() {
        let base = tiny();
        let got = layered(&base, Some(table("[challenger]\nrollout_steps = 8\n")), &[]).unwrap();
        let mut want = base.clone();
        want.challenger.rollout_steps = 8;
        assert_eq!(got, want);
    }

    #[test]
    fn nested_tables_merge_and_arrays_are_replaced() {
        let mut base =
            table("a = 1\nlist = [1, 2, 3]\n[t]\nx = 1\ny = 2\n[t.inner]\nz = 3\nw = 4\n");
        merge(
            &mut base,
            table("list = [9]\n[t]\ny = 20\n[t.inner]\nw = 40\n"),
        );
        let want = table("a = 1\nlist = [9]\n[t]\nx = 1\ny = 20\n[t.inner]\nz = 3\nw = 40\n");
        assert_eq!(base, want);
    }

    #[test]
    fn eval_benches_array_is_replaced_not_appended() {
        let got = layered(&tiny(), Some(table("[eval]\nbenches = [\"gsm8k\"]\n")), &[]).unwrap();
        assert_eq!(got.eval.benches, vec!["gsm8k".to_string()]);
    }

    #[test]
    fn a_variant_switch_replaces_the_enum_table() {
        let file = table(
            "[grpo.schedule]\nkind = \"cosine\"\nwarmup_steps = 2\ntotal_steps = 10\nmin_lr_ratio = 0.1\n\
             [question_set.filter.band.centered]\ndelta = 0.2\n",
        );
        let got = layered(&tiny(), Some(file), &[]).unwrap();
        assert_eq!(
            got.grpo.schedule,
            rzero_grpo::LrSchedule::Cosine {
                warmup_steps: 2,
                total_steps: 10,
                min_lr_ratio: 0.1
            }
        );
        assert_eq!(
            got.question_set.filter.band,
            rzero_data::Band::Centered { delta: 0.2 }
        );
        // And back: the cosine fields do not linger.
        let back = layered(
            &got,
            Some(table("[grpo.schedule]\nkind = \"constant\"\n")),
            &[],
        )
        .unwrap();
        assert_eq!(back.grpo.schedule, rzero_grpo::LrSchedule::Constant);
    }

    #[test]
    fn sets_into_one_table_add_up() {
        // Each `--set` writes one key of a table the preset lacks ([grpo.lora])
        // or of an enum variant: none may drop an earlier one.
        let sets = [
            set("grpo.lora.rank=4"),
            set("grpo.lora.targets=[\"q_proj\", \"v_proj\"]"),
            set("grpo.lora.alpha=2.5"),
            set("question_set.filter.band.range.lo=0.2"),
            set("question_set.filter.band.range.hi=0.7"),
        ];
        let got = layered(&smoke(), None, &sets).unwrap();
        let lora = got.grpo.lora.expect("grpo.lora");
        assert_eq!((lora.rank, lora.alpha()), (4, 2.5));
        assert_eq!(
            lora.targets.names().collect::<Vec<_>>(),
            ["q_proj", "v_proj"]
        );
        assert_eq!(
            got.question_set.filter.band,
            rzero_data::Band::Range { lo: 0.2, hi: 0.7 }
        );
        assert!(tiny().grpo.lora.is_none(), "presets train every weight");
    }

    #[test]
    fn set_values_are_typed_toml_or_strings() {
        assert_eq!(set("grpo.optimizer.lr=1e-4").value, Value::Float(1e-4));
        assert_eq!(set("seed=7").value, Value::Integer(7));
        assert_eq!(set("a=true").value, Value::Boolean(true));
        assert_eq!(
            set("eval.benches=[\"gsm8k\", \"amc23\"]").value,
            Value::Array(vec!["gsm8k".into(), "amc23".into()])
        );
        assert_eq!(
            set("model=/tmp/my model").value,
            Value::String("/tmp/my model".into())
        );
        assert_eq!(set("x=\"quoted\"").value, Value::String("quoted".into()));
        // A newline cannot smuggle in a second key.
        assert_eq!(set("x=1\ny = 2").value, Value::String("1\ny = 2".into()));
        assert_eq!(
            set(" grpo . optimizer.lr = 2 ").path,
            ["grpo", "optimizer", "lr"]
        );
        assert!("novalue".parse::<Override>().is_err());
        assert!("a..b=1".parse::<Override>().is_err());
    }

    #[test]
    fn sets_apply_after_the_file() {
        let file = table("seed = 1\n[grpo.optimizer]\nlr = 1e-3\n");
        let sets = [set("grpo.optimizer.lr=1e-4"), set("model=/models/base")];
        let got = layered(&smoke(), Some(file), &sets).unwrap();
        assert_eq!(got.seed, 1);
        assert_eq!(got.grpo.optimizer.lr, 1e-4);
        assert_eq!(
            got.model.as_deref(),
            Some(std::path::Path::new("/models/base"))
        );
        assert_eq!(got.challenger, smoke().challenger);
    }

    #[test]
    fn unknown_keys_name_the_nearest_valid_key() {
        let err = layered(
            &tiny(),
            Some(table("[challenger]\nrolout_steps = 8\n")),
            &[],
        )
        .unwrap_err();
        assert_eq!(
            err,
            "unknown key challenger.rolout_steps (did you mean challenger.rollout_steps?)"
        );
        let err = layered(&tiny(), None, &[set("grpo.optimizer.lrr=1e-4")]).unwrap_err();
        assert_eq!(
            err,
            "unknown key grpo.optimizer.lrr (did you mean grpo.optimizer.lr?)"
        );
        let err = layered(&tiny(), None, &[set("iteration=4")]).unwrap_err();
        assert_eq!(err, "unknown key iteration (did you mean iterations?)");
        let err = layered(&tiny(), None, &[set("grpo.schedule.kind=cosin")]).unwrap_err();
        assert!(
            err.contains("(did you mean grpo.schedule.cosine?)") || err.contains("cosine"),
            "{err}"
        );
    }

    #[test]
    fn type_and_range_errors_name_the_key() {
        let err = layered(&tiny(), None, &[set("challenger.rollout_steps=many")]).unwrap_err();
        assert!(err.starts_with("`challenger.rollout_steps`:"), "{err}");
        let err = layered(&tiny(), None, &[set("challenger.rollout_steps=0")]).unwrap_err();
        assert!(err.contains("challenger.rollout_steps"), "{err}");
    }

    #[test]
    fn printed_config_reads_back_as_itself() {
        let mut config = tiny();
        config.seed = 5;
        config.question_set.filter.band = rzero_data::Band::Centered { delta: 0.1 };
        config.inference.weights_hook = Some(vec!["true".into()]);
        let text = config.to_toml().unwrap();
        let again = layered(&tiny(), Some(toml::from_str(&text).unwrap()), &[]).unwrap();
        assert_eq!(again, config);
        assert_eq!(again.to_toml().unwrap(), text);
        // The file cannot swap the preset under the values it did not set.
        let err = layered(&smoke(), Some(toml::from_str(&text).unwrap()), &[]).unwrap_err();
        assert!(err.contains("--preset"), "{err}");
    }
}
