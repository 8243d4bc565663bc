//! Solver sampling served by two `rzero serve` processes: same results as
//! local sampling with the same seeds; a server killed mid-phase is
//! survived; with every server down the run stops with a clear error, its
//! state intact, and `--resume` finishes once servers are back.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{assert_success, deterministic_metrics, rzero};

/// A running `rzero serve`; its stderr lines arrive on `log`.
struct Served {
    child: Child,
    url: String,
    log: Receiver<String>,
}

impl Served {
    fn start(port: u16) -> Self {
        let mut child = rzero()
            .args(["serve", "--port", &port.to_string()])
            .env("RUST_LOG", "rzero_serve=debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{first}"))
            .to_string();
        let (send, log) = channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        Self { child, url, log }
    }

    fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// Waits until the server has started generating a batch.
    fn wait_for_a_batch(&self) {
        let deadline = Instant::now() + Duration::from_secs(600);
        while Instant::now() < deadline {
            if let Ok(line) = self.log.recv_timeout(Duration::from_secs(1))
                && line.contains("generating a batch")
            {
                return;
            }
        }
        panic!("{} never generated", self.url);
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL, mid-request
        self.child.wait().unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Smoke preset, one iteration; the Solver roles on `endpoints` (none = local).
fn config(dir: &Path, endpoints: &[String]) -> PathBuf {
    config_with(dir, endpoints, &[])
}

fn toml_list(endpoints: &[String]) -> String {
    let list: Vec<String> = endpoints.iter().map(|e| format!("\"{e}\"")).collect();
    format!("[{}]", list.join(", "))
}

/// [`config`], with the Challenger's rollouts on `challenger` as well.
fn config_with(dir: &Path, endpoints: &[String], challenger: &[String]) -> PathBuf {
    let out = rzero()
        .args(["run", "--preset", "smoke", "--print-config"])
        .output()
        .unwrap();
    assert_success(&out);
    let mut text = String::from_utf8(out.stdout)
        .unwrap()
        .replace("iterations = 2", "iterations = 1");
    let mut roles: Vec<(&str, &[String])> = vec![("challenger_rollouts", challenger)];
    for role in ["solver_reward", "labelling", "eval"] {
        roles.push((role, endpoints));
    }
    roles.retain(|(_, e)| !e.is_empty());
    if !roles.is_empty() {
        text = text
            .replace("reload_endpoints = false", "reload_endpoints = true")
            .replace("timeout_secs = 600.0", "timeout_secs = 300.0")
            .replace("backoff_ms = 500", "backoff_ms = 50");
        for (role, list) in &roles {
            let table = format!("[inference.{role}]\nendpoints = []");
            assert!(text.contains(&table), "no {table} in:\n{text}");
            let with = format!("[inference.{role}]\nendpoints = {}", toml_list(list));
            text = text.replace(&table, &with);
        }
    }
    let path = dir.join(if roles.is_empty() {
        "local.toml"
    } else {
        "remote.toml"
    });
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the local (no servers) smoke configuration into `dir/local`.
fn run_locally(dir: &Path) -> PathBuf {
    let local = dir.join("local");
    assert_success(&run(&config(dir, &[]), &local));
    local
}

fn run(config: &Path, out: &Path) -> std::process::Output {
    rzero()
        .args(["run", "--config"])
        .arg(config)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn two_servers_give_local_results_and_survive_one_being_killed_mid_phase() {
    let tmp = tempfile::tempdir().unwrap();
    let local = run_locally(tmp.path());

    let (a, b) = (Served::start(0), Served::start(0));
    let remote = tmp.path().join("remote");
    let cfg = config(tmp.path(), &[a.url.clone(), b.url.clone()]);
    let child = rzero()
        .args(["run", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&remote)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    a.wait_for_a_batch();
    a.kill();
    let out = child.wait_with_output().unwrap();
    assert_success(&out);

    assert_eq!(
        deterministic_metrics(&remote),
        deterministic_metrics(&local)
    );
    for file in [
        "iter_000/eval.json",
        "iter_001/questions_all.jsonl",
        "iter_001/eval.json",
    ] {
        let (l, r) = (local.join(file), remote.join(file));
        assert_eq!(
            std::fs::read(&r).unwrap(),
            std::fs::read(&l).unwrap(),
            "{file}"
        );
    }
    drop(b);
}

#[test]
fn all_servers_down_stops_with_state_intact_then_resume_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let ports = [free_port(), free_port()];
    let endpoints: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let dir = tmp.path().join("run");
    let out = run(&config(tmp.path(), &endpoints), &dir);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("all inference endpoints are down"), "{err}");
    for e in &endpoints {
        assert!(err.contains(e.as_str()), "{e} not named: {err}");
    }
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("state.json")).unwrap()).unwrap();
    // Stopped before the first unit (iteration 0's evaluation) did anything.
    assert_eq!(
        (state["iteration"].clone(), state["next"]["phase"].clone()),
        (0.into(), "eval".into()),
        "{state}"
    );

    let servers: Vec<Served> = ports.iter().map(|&p| Served::start(p)).collect();
    assert_eq!(servers[0].port(), ports[0]);
    let out = rzero()
        .args(["run", "--resume"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_success(&out);
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["next"]["phase"], "done", "{state}");
}

#[test]
fn remote_challenger_rollouts_follow_each_new_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let local = run_locally(tmp.path());

    // The Challenger's own server, reloaded after every GRPO step; the
    // Solver roles on another one.
    let (challenger, solver) = (Served::start(0), Served::start(0));
    let remote = tmp.path().join("remote");
    let cfg = config_with(
        tmp.path(),
        std::slice::from_ref(&solver.url),
        std::slice::from_ref(&challenger.url),
    );
    let out = run(&cfg, &remote);
    assert_success(&out);
    let log: Vec<String> = challenger.log.try_iter().collect();
    let count = |what: &str| log.iter().filter(|l| l.contains(what)).count();
    assert!(
        count("generating a batch") > 0,
        "the Challenger sampled locally"
    );
    assert!(
        count("weights reloaded") > 0,
        "the Challenger's server kept its weights"
    );
    assert_eq!(
        deterministic_metrics(&remote),
        deterministic_metrics(&local)
    );
    let file = "iter_001/questions_all.jsonl";
    assert_eq!(
        std::fs::read(remote.join(file)).unwrap(),
        std::fs::read(local.join(file)).unwrap(),
        "{file}"
    );
}
