//! Crash safety as a user meets it: a run SIGKILLed at random moments (and
//! inside checkpoint writes), failed writes, and Ctrl-C; after each,
//! `--resume` continues, and the run ends with every file equal, byte for
//! byte, to an uninterrupted run's (metrics aside from wall-clock values).

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::common::{assert_success, deterministic_metrics, rzero};

/// Smoke preset with two rollout steps in every phase and two iterations.
fn multi_step_config(dir: &Path) -> PathBuf {
    let out = rzero()
        .args(["run", "--preset", "smoke", "--print-config"])
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("rollout_steps = 1\n").count(), 2, "{text}");
    assert!(text.contains("iterations = 2\n"), "{text}");
    let path = dir.join("multi.toml");
    std::fs::write(
        &path,
        text.replace("rollout_steps = 1\n", "rollout_steps = 2\n"),
    )
    .unwrap();
    path
}

fn start(config: &Path, out: &Path) -> Command {
    let mut c = rzero();
    c.args(["run", "--config"])
        .arg(config)
        .arg("--out")
        .arg(out);
    c
}

fn resume(out: &Path) -> Command {
    let mut c = rzero();
    c.args(["run", "--resume"]).arg(out);
    c
}

/// One uninterrupted run of the multi-step config, shared by the tests:
/// (config path, run directory, wall time).
fn reference_run() -> &'static (tempfile::TempDir, PathBuf, PathBuf, Duration) {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf, PathBuf, Duration)> = OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let config = multi_step_config(tmp.path());
        let out = tmp.path().join("whole");
        let started = Instant::now();
        let result = start(&config, &out).output().unwrap();
        assert_success(&result);
        (tmp, config, out, started.elapsed())
    })
}

/// Every file under `dir` by relative path, but those in `skip`.
fn files(dir: &Path, skip: &[&str]) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, skip: &[&str], out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, skip, out);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                let rel = rel.to_string_lossy().into_owned();
                if !skip.contains(&rel.as_str()) {
                    out.insert(rel, std::fs::read(&path).unwrap());
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, skip, &mut out);
    out
}

/// Fails naming every file that is missing, extra or different.
fn assert_same_files(whole: &Path, other: &Path, skip: &[&str]) {
    let (a, b) = (files(whole, skip), files(other, skip));
    let names: Vec<&String> = a.keys().chain(b.keys()).collect();
    let differing: Vec<&&String> = names.iter().filter(|n| a.get(**n) != b.get(**n)).collect();
    assert!(differing.is_empty(), "files differ: {differing:?}");
    assert!(a.keys().any(|n| n.ends_with("optimizer.safetensors")));
    assert!(a.keys().any(|n| n.ends_with("manifest.json")));
}

/// Every file of two runs equal (metrics.jsonl without its timing values).
fn assert_same_run(whole: &Path, other: &Path) {
    assert_same_files(whole, other, &["metrics.jsonl"]);
    assert_eq!(deterministic_metrics(whole), deterministic_metrics(other));
}

/// A small seeded generator (the test needs no RNG crate).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Waits up to `delay` for `child`; kills it with SIGKILL if still running.
/// Returns the exit status if it finished on its own.
fn kill_after(mut child: Child, delay: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + delay;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    None
}

/// Sends SIGINT (Ctrl-C) to `child` and waits: true when it stopped at a
/// safe point (exit code 130). It may also have finished first (exit 0) or
/// died before its handler was installed (killed by SIGINT).
fn ctrl_c(child: Child) -> bool {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait_with_output().unwrap().status;
    if sent.success() && status.code() == Some(130) {
        return true;
    }
    assert!(
        status.success() || status.signal() == Some(2),
        "neither finished nor stopped: {status}"
    );
    false
}

fn is_done(out: &Path) -> bool {
    std::fs::read_to_string(out.join("state.json")).is_ok_and(|s| s.contains("\"done\""))
}

/// Kills inside each kind of write: the process aborts half-way through
/// it (`RZERO_FAULT_ABORT`), as a `kill -9` landing there would.
#[test]
fn killed_inside_each_kind_of_write_resumes_to_identical_files() {
    let (_, config, whole, _) = reference_run();
    let tmp = tempfile::tempdir().unwrap();
    let killed = tmp.path().join("killed");
    // In the order a run first meets them.
    let aborts = [
        "state.json@1",
        "eval.json@1",
        "challenger/.rzero-partial.step_000/model.safetensors@1",
        "optimizer.safetensors@1",
        "tokenizer.json@1",
        "trainer.json@1",
        "manifest.json@1",
        "challenger/step_001@1",
        "challenger_samples@1",
        "metrics.jsonl@1",
        "questions_all.jsonl@1",
        "filter_report.json@1",
        "solver/.rzero-partial.step_001/optimizer.safetensors@1",
        "solver_samples@1",
        "solver/step_001@1",
    ];
    for (i, abort) in aborts.into_iter().enumerate() {
        let mut command = if i == 0 {
            start(config, &killed)
        } else {
            resume(&killed)
        };
        let out = command.env("RZERO_FAULT_ABORT", abort).output().unwrap();
        assert!(!out.status.success(), "{abort} was never written");
        assert!(!is_done(&killed));
    }
    assert_success(&resume(&killed).output().unwrap());
    assert_same_run(whole, &killed);
}

/// SIGKILL at seeded random moments, resuming after each.
#[test]
fn killed_at_random_moments_resumes_to_identical_files() {
    let (_, config, whole, span) = reference_run();
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = SplitMix(0x5eed_2026);
    // Each start lives 2-12 % of an uninterrupted run's time: kills land in
    // every phase as the run advances.
    let killed = interrupted_chain(tmp.path(), *span, 20, |killed, span| {
        let mut kills = 0;
        let mut first = true;
        while kills < 30 && !is_done(killed) {
            let delay = Duration::from_millis(span / 50 + rng.below(span / 10));
            let mut command = if std::mem::take(&mut first) {
                start(config, killed)
            } else {
                resume(killed)
            };
            match kill_after(command.spawn().unwrap(), delay) {
                None => kills += 1,
                Some(status) => assert!(status.success(), "a resume failed: {status}"),
            }
        }
        kills
    });
    assert_success(&resume(&killed).output().unwrap());
    assert!(is_done(&killed));
    assert_same_run(whole, &killed);
}

/// A failing write at each kind of write site stops the run with exit code 1
/// and an error naming the file; the next `--resume` continues as if nothing
/// had happened.
#[test]
fn a_failed_write_anywhere_stops_cleanly_and_resumes_to_identical_files() {
    let (_, config, whole, _) = reference_run();
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("faulty");
    // (pattern, how the next process starts): a run whose config or first
    // state never reached the disk is started again, not resumed.
    let faults = [
        ("config.toml", true),
        ("state.json", true),
        ("eval.json", false),
        ("model.safetensors", false),
        ("optimizer.safetensors", false),
        ("trainer.json", false),
        ("tokenizer_config.json", false),
        ("manifest.json", false),
        ("challenger/step_000", false),
        ("challenger_samples", false),
        ("metrics.jsonl", false),
        ("state.json", false),
        ("questions_all.jsonl", false),
        ("questions.jsonl", false),
        ("filter_report.json", false),
        ("solver/step_001", false),
        ("solver_samples", false),
    ];
    for (pattern, fresh) in faults {
        let mut command = if fresh {
            start(config, &run)
        } else {
            resume(&run)
        };
        let out = command
            .env("RZERO_FAULT_WRITE", format!("{pattern}@1"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{pattern}: {stderr}");
        assert!(stderr.contains(pattern), "{pattern}: {stderr}");
        assert!(
            stderr.contains("injected write fault"),
            "{pattern}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{pattern}: {stderr}");
    }
    let out = resume(&run).output().unwrap();
    assert_success(&out);
    assert_same_run(whole, &run);
}

/// Ctrl-C at random moments: exit code 130 at a safe point, then resume.
#[test]
fn ctrl_c_at_random_moments_exits_130_and_resumes_to_identical_files() {
    let (_, config, whole, span) = reference_run();
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = SplitMix(130);
    let run = interrupted_chain(tmp.path(), *span, 3, |run, span| {
        let mut interrupts = 0;
        let mut first = true;
        while !is_done(run) {
            let mut command = if std::mem::take(&mut first) {
                start(config, run)
            } else {
                resume(run)
            };
            let child = command.spawn().unwrap();
            std::thread::sleep(Duration::from_millis(200 + rng.below(span / 4)));
            interrupts += usize::from(ctrl_c(child));
            assert!(interrupts < 100, "the run makes no progress");
        }
        interrupts
    });
    assert_same_run(whole, &run);
}

// `rzero pretrain` on the seconds-long smoke recipe (12 steps, a checkpoint
// every 4): the same promises.

/// Files that record the wall time or the command line, not the training.
const PRETRAIN_RECORDS: [&str; 3] = ["pretrain.json", "README.md", "checkpoints/timings.json"];

fn pretrain(config: &Path, out: &Path, resume: bool) -> Command {
    let mut c = rzero();
    c.args(["pretrain", "--no-eval", "--config"])
        .arg(config)
        .arg("--out")
        .arg(out);
    if resume {
        c.arg("--resume");
    }
    c
}

/// The smoke recipe's config file and one uninterrupted pretraining.
fn reference_pretrain() -> &'static (tempfile::TempDir, PathBuf, PathBuf, Duration) {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf, PathBuf, Duration)> = OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("smoke.json");
        // Twice the smoke recipe's steps, so random kills have time to land.
        let mut recipe = rzero_pretrain::PretrainConfig::smoke();
        recipe.steps = 24;
        let json = serde_json::to_string(&recipe).unwrap();
        std::fs::write(&config, json).unwrap();
        let out = tmp.path().join("whole");
        let started = Instant::now();
        assert_success(&pretrain(&config, &out, false).output().unwrap());
        (tmp, config, out, started.elapsed())
    })
}

#[test]
fn pretraining_killed_inside_each_kind_of_write_resumes_to_identical_files() {
    let (_, config, whole, _) = reference_pretrain();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("killed");
    let aborts = [
        "tokenizer.json@1",
        ".rzero-partial.step_000004/model.safetensors@1",
        "optimizer.safetensors@1",
        "timings.json@1",
        "manifest.json@1",
        "checkpoints/step_000004@1",
        "checkpoints/step_000008@1",
        "pretrain.json@1",
    ];
    for (i, abort) in aborts.into_iter().enumerate() {
        let result = pretrain(config, &out, i > 0)
            .env("RZERO_FAULT_ABORT", abort)
            .output()
            .unwrap();
        assert!(!result.status.success(), "{abort} was never written");
    }
    assert_success(&pretrain(config, &out, true).output().unwrap());
    assert_same_files(whole, &out, &PRETRAIN_RECORDS);
}

#[test]
fn pretraining_killed_at_random_moments_resumes_to_identical_files() {
    let (_, config, whole, span) = reference_pretrain();
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = SplitMix(4);
    let out = interrupted_chain(tmp.path(), *span, 4, |out, span| {
        let mut kills = 0;
        let mut first = true;
        while kills < 8 && !out.join("pretrain.json").exists() {
            let delay = Duration::from_millis(span / 20 + rng.below(span / 3));
            let resume = !std::mem::take(&mut first);
            match kill_after(pretrain(config, out, resume).spawn().unwrap(), delay) {
                None => kills += 1,
                Some(status) => assert!(status.success(), "a resume failed: {status}"),
            }
        }
        kills
    });
    assert_success(&pretrain(config, &out, true).output().unwrap());
    assert_same_files(whole, &out, &PRETRAIN_RECORDS);
}

/// Runs `chain(dir, span_ms)` (start, interrupt, resume… in `dir`; returns
/// how many interruptions landed) until at least `need` land, halving the
/// span each try: the reference run's time may have been measured under a
/// different load than the chain runs under. Returns the chain's directory.
fn interrupted_chain(
    tmp: &Path,
    span: Duration,
    need: usize,
    mut chain: impl FnMut(&Path, u64) -> usize,
) -> PathBuf {
    let span = span.as_millis() as u64;
    let mut landed = 0;
    for attempt in 0..4 {
        let out = tmp.join(format!("chain{attempt}"));
        landed = chain(&out, span >> attempt);
        if landed >= need {
            return out;
        }
    }
    panic!(
        "only {landed} interruptions landed, even with delays at 1/8 of the reference run's time"
    );
}

#[test]
fn pretraining_stopped_by_ctrl_c_exits_130_and_resumes_to_identical_files() {
    let (_, config, whole, span) = reference_pretrain();
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = SplitMix(7);
    let out = interrupted_chain(tmp.path(), *span, 2, |out, span| {
        let mut interrupts = 0;
        let mut first = true;
        while interrupts < 6 && !out.join("pretrain.json").exists() {
            let resume = !std::mem::take(&mut first);
            let child = pretrain(config, out, resume).spawn().unwrap();
            std::thread::sleep(Duration::from_millis(span / 20 + rng.below(span / 4)));
            interrupts += usize::from(ctrl_c(child));
        }
        interrupts
    });
    assert_success(&pretrain(config, &out, true).output().unwrap());
    assert_same_files(whole, &out, &PRETRAIN_RECORDS);
}

/// A damaged newest checkpoint (truncated, as by a full disk) is skipped for
/// the last good one; when none is good, the error names the damaged file.
#[test]
fn pretraining_resumes_from_the_last_good_checkpoint() {
    let (_, config, whole, _) = reference_pretrain();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("damaged");
    let stop = pretrain(config, &out, false)
        .args(["--stop-after", "10"])
        .output()
        .unwrap();
    assert_success(&stop);
    let newest = out.join("checkpoints/step_000010/model.safetensors");
    let bytes = std::fs::read(&newest).unwrap();
    std::fs::write(&newest, &bytes[..bytes.len() / 2]).unwrap();
    assert_success(&pretrain(config, &out, true).output().unwrap());
    assert_same_files(whole, &out, &PRETRAIN_RECORDS);

    // Every checkpoint damaged: a clear error, nothing silently restarted.
    for step in ["000020", "000024"] {
        let weights = out.join(format!("checkpoints/step_{step}/optimizer.safetensors"));
        std::fs::write(&weights, b"garbage").unwrap();
    }
    let result = pretrain(config, &out, true).output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("step_000024/optimizer.safetensors"),
        "{stderr}"
    );
    assert!(stderr.contains("7 bytes, the manifest says"), "{stderr}");
}
