//! The weights hook: a user command that hands a new checkpoint to the
//! inference servers of a role (restart vLLM, call SGLang's reload, …).
//!
//! It runs with these environment variables:
//! - `RZERO_PHASE`: the phase that wrote the checkpoint (`base`,
//!   `challenger`, `solver`);
//! - `RZERO_ITERATION`, `RZERO_STEP`: where in the run it was written;
//! - `RZERO_ROLE`: `challenger` or `solver`, whose weights these are;
//! - `RZERO_CHECKPOINT`: the HF model directory;
//! - `RZERO_ENDPOINTS`: the role's endpoints, space-separated;
//! - `RZERO_RUN_DIR`: the run directory.
//!
//! A non-zero exit (or a hook that outlives its timeout) is an error; the
//! run state is untouched, so `rzero run --resume` retries the hand-over.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{CoreError, Result};
use crate::rundir::Role;

/// One checkpoint hand-over.
#[derive(Debug, Clone)]
pub struct Handoff<'a> {
    /// Phase that wrote the checkpoint.
    pub phase: &'a str,
    /// Iteration it belongs to (0 = the base model).
    pub iteration: usize,
    /// Rollout step that wrote it (0 when not a step checkpoint).
    pub step: usize,
    /// Whose weights.
    pub role: Role,
    /// The HF directory.
    pub checkpoint: &'a Path,
    /// The servers to hand it to.
    pub endpoints: &'a [String],
    /// The run directory.
    pub run_dir: &'a Path,
}

/// Runs `command` for `handoff`; waits at most `timeout`.
pub fn run_hook(command: &[String], handoff: &Handoff<'_>, timeout: Duration) -> Result<()> {
    let fail = |message: String| CoreError::Hook {
        command: command.join(" "),
        role: handoff.role.name(),
        checkpoint: handoff.checkpoint.to_path_buf(),
        message,
    };
    let (program, args) = command
        .split_first()
        .ok_or_else(|| fail("empty command".into()))?;
    let mut child = Command::new(program)
        .args(args)
        .env("RZERO_PHASE", handoff.phase)
        .env("RZERO_ITERATION", handoff.iteration.to_string())
        .env("RZERO_STEP", handoff.step.to_string())
        .env("RZERO_ROLE", handoff.role.name())
        .env("RZERO_CHECKPOINT", handoff.checkpoint)
        .env("RZERO_ENDPOINTS", handoff.endpoints.join(" "))
        .env("RZERO_RUN_DIR", handoff.run_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot start: {e}")))?;
    // Drain stderr on a thread so a chatty hook cannot block on a full pipe.
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_string(&mut text);
        }
        text
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!("still running after {timeout:?}; killed")));
            }
            Err(e) => return Err(fail(format!("waiting for it: {e}"))),
        }
    };
    let stderr = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(fail(format!("{status}; stderr: {}", tail(&stderr))));
    }
    tracing::info!(command = %command.join(" "), role = handoff.role.name(), checkpoint = %handoff.checkpoint.display(), "weights hook done");
    Ok(())
}

fn tail(text: &str) -> String {
    const MAX: usize = 800;
    let text = text.trim();
    let start = text.len().saturating_sub(MAX);
    let start = (start..=text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    text[start..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handoff<'a>(dir: &'a Path, endpoints: &'a [String]) -> Handoff<'a> {
        Handoff {
            phase: "solver",
            iteration: 2,
            step: 0,
            role: Role::Solver,
            checkpoint: dir,
            endpoints,
            run_dir: dir,
        }
    }

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn the_hook_sees_phase_role_and_checkpoint() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("seen");
        let script = format!(
            "echo \"$RZERO_PHASE $RZERO_ITERATION $RZERO_ROLE $RZERO_CHECKPOINT $RZERO_ENDPOINTS\" > {}",
            out.display()
        );
        let endpoints = ["http://a:1".to_string(), "http://b:2".to_string()];
        run_hook(
            &sh(&script),
            &handoff(tmp.path(), &endpoints),
            Duration::from_secs(10),
        )
        .unwrap();
        let seen = std::fs::read_to_string(out).unwrap();
        let want = format!(
            "solver 2 solver {} http://a:1 http://b:2\n",
            tmp.path().display()
        );
        assert_eq!(seen, want);
    }

    #[test]
    fn a_failing_or_hanging_hook_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        let h = handoff(tmp.path(), &[]);
        let err = run_hook(
            &sh("echo no server >&2; exit 3"),
            &h,
            Duration::from_secs(10),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("exit status: 3") && text.contains("no server"),
            "{text}"
        );
        assert!(text.contains("--resume"), "{text}");
        let err = run_hook(&sh("sleep 5"), &h, Duration::from_millis(200)).unwrap_err();
        assert!(err.to_string().contains("killed"), "{err}");
        let err = run_hook(&["/nonexistent/hook".into()], &h, Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("cannot start"), "{err}");
    }
}
