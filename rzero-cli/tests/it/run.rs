//! `rzero run` as a user runs it: killed with SIGKILL mid-run and resumed,
//! it ends with the same metrics as an uninterrupted run.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{assert_success, deterministic_metrics, rzero};

fn smoke_config(dir: &Path) -> std::path::PathBuf {
    // One iteration keeps the three runs of this test inside CI's budget.
    let path = dir.join("smoke.toml");
    let out = rzero()
        .args(["run", "--preset", "smoke", "--print-config"])
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace("iterations = 2", "iterations = 1");
    std::fs::write(&path, text).unwrap();
    path
}

fn state(dir: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join("state.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// Waits until `state.json` says `phase` is next, then kills the process.
fn kill_when(mut child: Child, dir: &Path, phase: &str) {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let next = state(dir).and_then(|s| s["next"]["phase"].as_str().map(String::from));
        if next.as_deref() == Some(phase) {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("run ended ({status}) before reaching {phase}");
        }
        assert!(Instant::now() < deadline, "timed out waiting for {phase}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigkill_at_two_points_then_resume_matches_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let config = smoke_config(tmp.path());
    let config = config.to_str().unwrap();
    let whole = tmp.path().join("whole");
    let status = rzero()
        .args(["run", "--config", config, "--out"])
        .arg(&whole)
        .status()
        .unwrap();
    assert!(status.success());

    let killed = tmp.path().join("killed");
    let child = rzero()
        .args(["run", "--config", config, "--out"])
        .arg(&killed)
        .spawn()
        .unwrap();
    kill_when(child, &killed, "question_set");
    let child = rzero()
        .args(["run", "--resume"])
        .arg(&killed)
        .spawn()
        .unwrap();
    kill_when(child, &killed, "eval");
    let status = rzero()
        .args(["run", "--resume"])
        .arg(&killed)
        .status()
        .unwrap();
    assert!(status.success());

    assert_eq!(
        deterministic_metrics(&killed),
        deterministic_metrics(&whole)
    );
    let a = std::fs::read(whole.join("iter_001/questions_all.jsonl")).unwrap();
    let b = std::fs::read(killed.join("iter_001/questions_all.jsonl")).unwrap();
    assert_eq!(a, b, "the question set is reproduced exactly");
}

#[test]
fn corrupt_checkpoint_is_reported_with_its_path() {
    let tmp = tempfile::tempdir().unwrap();
    let config = smoke_config(tmp.path());
    let dir = tmp.path().join("run");
    let child = rzero()
        .args(["run", "--config", config.to_str().unwrap(), "--out"])
        .arg(&dir)
        .spawn()
        .unwrap();
    kill_when(child, &dir, "question_set");
    let weights = dir.join("iter_001/challenger/step_000/model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let out = rzero()
        .args(["run", "--resume"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("model.safetensors"), "{err}");
}

#[test]
fn missing_model_dir_fails_with_exit_code_1() {
    let tmp = tempfile::tempdir().unwrap();
    let out = rzero()
        .args([
            "run",
            "--preset",
            "smoke",
            "--model",
            "/nonexistent/model",
            "--out",
        ])
        .arg(tmp.path().join("r"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/model"));
}
