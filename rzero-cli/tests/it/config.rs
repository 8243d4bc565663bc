//! `rzero run --config/--set/--print-config`: layered configs as a user
//! types them, and each error cause printed once.

use std::path::Path;
use std::process::Output;

use crate::common::{assert_success, rzero};

fn print_config(args: &[&str]) -> Output {
    rzero()
        .args(["run", "--print-config"])
        .args(args)
        .output()
        .unwrap()
}

fn printed(args: &[&str]) -> toml::Table {
    let out = print_config(args);
    assert_success(&out);
    toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap()
}

fn get<'a>(t: &'a toml::Table, path: &str) -> &'a toml::Value {
    let mut parts = path.split('.');
    let mut v = &t[parts.next().unwrap()];
    for p in parts {
        v = &v[p];
    }
    v
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_partial_config_and_sets_override_the_preset_key_by_key() {
    let tmp = tempfile::tempdir().unwrap();
    let partial = write(
        tmp.path(),
        "partial.toml",
        "[challenger]\nrollout_steps = 8\n",
    );
    let smoke = printed(&["--preset", "smoke"]);
    let merged = printed(&[
        "--preset",
        "smoke",
        "--config",
        &partial,
        "--set",
        "grpo.optimizer.lr=1e-4",
        "--set",
        "eval.benches=[\"gsm8k\"]",
    ]);
    assert_eq!(
        get(&merged, "challenger.rollout_steps").as_integer(),
        Some(8)
    );
    assert_eq!(get(&merged, "grpo.optimizer.lr").as_float(), Some(1e-4));
    assert_eq!(get(&merged, "eval.benches").as_array().unwrap().len(), 1);
    // Everything else is the preset's.
    let mut expected = smoke.clone();
    expected["challenger"]["rollout_steps"] = toml::Value::Integer(8);
    expected["grpo"]["optimizer"]["lr"] = toml::Value::Float(1e-4);
    expected["eval"]["benches"] = toml::Value::Array(vec!["gsm8k".into()]);
    assert_eq!(merged, expected);
}

#[test]
fn the_printed_config_reads_back_as_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let out = print_config(&["--preset", "smoke", "--set", "seed=7"]);
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let file = write(tmp.path(), "full.toml", &text);
    // The file names its preset (smoke), which becomes the base.
    let again = print_config(&["--config", &file]);
    assert_success(&again);
    assert_eq!(String::from_utf8(again.stdout).unwrap(), text);
    let clash = print_config(&["--config", &file, "--preset", "paper"]);
    assert_eq!(clash.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&clash.stderr).contains("\"smoke\""));
}

#[test]
fn unknown_keys_name_the_nearest_valid_one() {
    let tmp = tempfile::tempdir().unwrap();
    let typo = write(tmp.path(), "typo.toml", "[challenger]\nrolout_steps = 8\n");
    let out = print_config(&["--config", &typo]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "unknown key challenger.rolout_steps (did you mean challenger.rollout_steps?)"
        ),
        "{err}"
    );
    assert!(err.contains("typo.toml"), "{err}");
    let out = print_config(&["--set", "grpo.optimizer.lrr=1e-4"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean grpo.optimizer.lr?"), "{err}");
    let out = print_config(&["--set", "no-equals-sign"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a malformed --set is a usage error"
    );
}

#[test]
fn resume_keeps_the_runs_own_config() {
    let tmp = tempfile::tempdir().unwrap();
    let out = print_config(&["--preset", "smoke", "--set", "seed=99"]);
    assert_success(&out);
    let stored = String::from_utf8(out.stdout).unwrap();
    let dir = tmp.path().join("run");
    std::fs::create_dir(&dir).unwrap();
    write(&dir, "config.toml", &stored);
    let dir = dir.to_str().unwrap();
    let shown = print_config(&["--resume", dir]);
    assert_success(&shown);
    assert_eq!(String::from_utf8(shown.stdout).unwrap(), stored);
    for other in [["--set", "seed=1"], ["--preset", "tiny"]] {
        let out = print_config(&["--resume", dir, other[0], other[1]]);
        assert_eq!(out.status.code(), Some(2), "{other:?} with --resume");
    }
}

#[test]
fn each_error_cause_is_printed_once() {
    let out = print_config(&["--config", "/nonexistent/run.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/run.toml"), "{err}");
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
}
