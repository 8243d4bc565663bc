//! `rzero pretrain` as a user runs it, on the seconds-long smoke recipe:
//! stopped and resumed it writes the same model as one uninterrupted run,
//! the model it writes loads in `rzero generate`, and a bad config is a
//! clear error naming the file.

use std::path::Path;
use std::process::{Command, Output};

use rzero_pretrain::PretrainConfig;

fn rzero(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rzero"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "failed: {stderr}");
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn smoke_config(dir: &Path) -> String {
    let path = dir.join("smoke.json");
    let json = serde_json::to_string(&PretrainConfig::smoke()).unwrap();
    std::fs::write(&path, json).unwrap();
    path.to_str().unwrap().to_string()
}

fn pretrain(config: &str, out: &Path, extra: &[&str]) -> String {
    let out = out.to_str().unwrap();
    let mut args = vec!["pretrain", "--config", config, "--out", out, "--no-eval"];
    args.extend_from_slice(extra);
    ok(&rzero(&args))
}

#[test]
fn stopped_and_resumed_pretraining_writes_the_same_model() {
    let tmp = tempfile::tempdir().unwrap();
    let config = smoke_config(tmp.path());
    let (whole, split) = (tmp.path().join("whole"), tmp.path().join("split"));
    assert!(pretrain(&config, &whole, &[]).contains("model written to"));
    let first = pretrain(&config, &split, &["--stop-after", "5"]);
    assert!(first.contains("continue with --resume"), "{first}");
    assert!(!split.join("model.safetensors").exists());
    pretrain(&config, &split, &["--resume"]);
    let weights = |dir: &Path| std::fs::read(dir.join("model.safetensors")).unwrap();
    assert_eq!(weights(&whole), weights(&split));
    let card = std::fs::read_to_string(whole.join("README.md")).unwrap();
    assert!(card.contains("rzero pretrain --config"), "{card}");

    // The written directory is a model `rzero generate` can sample from.
    let text = ok(&rzero(&[
        "generate",
        "--model",
        whole.to_str().unwrap(),
        "--chat-user",
        "What is 2 + 3?",
        "--greedy",
        "--max-new-tokens",
        "8",
        "--json",
    ]));
    let sample: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let ids = sample["token_ids"].as_array().unwrap();
    assert!(!ids.is_empty() && ids.len() <= 8, "{sample}");
}

#[test]
fn malformed_config_names_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bad.json");
    std::fs::write(&path, "{\"seed\": 1, \"steps\": ").unwrap();
    let out = tmp.path().join("out");
    let result = rzero(&[
        "pretrain",
        "--config",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("bad.json"), "{stderr}");
    assert!(!out.join("model.safetensors").exists());
}
