//! Helpers shared by the binary's tests.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// The `rzero` binary under test.
pub fn rzero() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rzero"))
}

/// Fails with the command's stderr unless it exited 0.
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `metrics.jsonl` without the wall-clock values (timings and rates), which
/// differ between otherwise identical runs.
pub fn deterministic_metrics(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    text.lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            if let Some(values) = v["values"].as_object_mut() {
                values.retain(|k, _| !k.contains("per_second") && !k.contains("seconds"));
            }
            v
        })
        .collect()
}
