//! ARCHITECTURE.md's invariants, checked against `cargo metadata`.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

use crate::common::assert_success;

/// Normal (non-dev, non-build) dependency names of each workspace member,
/// and the transitive normal closure from the resolve graph.
struct Graph {
    direct: BTreeMap<String, BTreeSet<String>>,
    closure: BTreeMap<String, BTreeSet<String>>,
}

fn name_of(id: &str, packages: &[Value]) -> String {
    packages
        .iter()
        .find(|p| p["id"] == id)
        .and_then(|p| p["name"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn load_graph() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert_success(&out);
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let packages = meta["packages"].as_array().expect("packages").clone();
    let members: Vec<String> = meta["workspace_members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|id| name_of(id.as_str().unwrap_or_default(), &packages))
        .collect();
    let nodes = meta["resolve"]["nodes"].as_array().expect("resolve");
    // id -> names of normal dependencies
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for node in nodes {
        let from = name_of(node["id"].as_str().unwrap_or_default(), &packages);
        let normal = node["deps"].as_array().into_iter().flatten().filter(|d| {
            d["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null())
        });
        let names = normal.map(|d| name_of(d["pkg"].as_str().unwrap_or_default(), &packages));
        edges.entry(from).or_default().extend(names);
    }
    let mut direct = BTreeMap::new();
    let mut closure = BTreeMap::new();
    for m in &members {
        direct.insert(m.clone(), edges.get(m).cloned().unwrap_or_default());
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = edges.get(m).into_iter().flatten().cloned().collect();
        while let Some(n) = stack.pop() {
            if seen.insert(n.clone()) {
                stack.extend(edges.get(&n).into_iter().flatten().cloned());
            }
        }
        closure.insert(m.clone(), seen);
    }
    Graph { direct, closure }
}

fn rzero_deps(set: &BTreeSet<String>) -> BTreeSet<&str> {
    set.iter()
        .filter(|n| n.starts_with("rzero-"))
        .map(String::as_str)
        .collect()
}

#[test]
fn crate_graph_points_one_way() {
    let g = load_graph();
    let allowed: [(&str, &[&str]); 9] = [
        ("rzero-fs", &[]),
        ("rzero-reward", &[]),
        ("rzero-data", &["rzero-reward", "rzero-fs"]),
        ("rzero-model", &["rzero-fs"]),
        ("rzero-grpo", &["rzero-fs"]),
        ("rzero-serve", &["rzero-model"]),
        (
            "rzero-core",
            &[
                "rzero-fs",
                "rzero-model",
                "rzero-grpo",
                "rzero-reward",
                "rzero-data",
                "rzero-serve",
            ],
        ),
        (
            "rzero-pretrain",
            &[
                "rzero-model",
                "rzero-grpo",
                "rzero-reward",
                "rzero-data",
                "rzero-fs",
            ],
        ),
        (
            "rzero-cli",
            &[
                "rzero-core",
                "rzero-pretrain",
                "rzero-model",
                "rzero-reward",
                "rzero-data",
                "rzero-serve",
            ],
        ),
    ];
    for (krate, ok) in allowed {
        let deps = rzero_deps(&g.direct[krate]);
        let extra: Vec<_> = deps.iter().filter(|d| !ok.contains(d)).collect();
        assert!(extra.is_empty(), "{krate} must not depend on {extra:?}");
    }
    assert!(g.direct["rzero-cli"].contains("rzero-core"));
    assert!(g.direct["rzero-cli"].contains("rzero-pretrain"));
}

#[test]
fn the_loop_and_pretraining_stay_apart() {
    let g = load_graph();
    assert!(!g.closure["rzero-core"].contains("rzero-pretrain"));
    assert!(!g.closure["rzero-pretrain"].contains("rzero-core"));
    // Tokenizer training lives in pretrain; core only loads tokenizers
    // through rzero-model.
    assert!(!g.direct["rzero-core"].contains("tokenizers"));
}

#[test]
fn model_and_grpo_never_meet() {
    let g = load_graph();
    assert!(!g.closure["rzero-model"].contains("rzero-grpo"));
    assert!(!g.closure["rzero-grpo"].contains("rzero-model"));
}

#[test]
fn serve_is_a_sampler_seam_not_a_trainer() {
    let g = load_graph();
    for banned in ["rzero-core", "rzero-grpo", "rzero-cli"] {
        assert!(
            !g.closure["rzero-serve"].contains(banned),
            "rzero-serve must not depend on {banned}"
        );
    }
}

#[test]
fn reward_and_data_are_free_of_burn() {
    let g = load_graph();
    for krate in ["rzero-reward", "rzero-data"] {
        let burn: Vec<_> = g.closure[krate]
            .iter()
            .filter(|n| n.starts_with("burn"))
            .collect();
        assert!(burn.is_empty(), "{krate} pulls in {burn:?}");
    }
}

#[test]
fn only_the_cli_prints_or_draws() {
    let g = load_graph();
    for (krate, deps) in &g.direct {
        if krate == "rzero-cli" || krate == "rzero-benches" {
            continue;
        }
        for banned in ["indicatif", "tracing-subscriber", "anyhow"] {
            assert!(!deps.contains(banned), "{krate} depends on {banned}");
        }
    }
}

#[test]
fn libraries_deny_printing() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
    let text = std::fs::read_to_string(root).expect("root Cargo.toml");
    for lint in ["print_stdout", "print_stderr", "todo", "dbg_macro"] {
        assert!(
            text.contains(&format!("{lint} = \"deny\"")),
            "workspace lints must deny {lint}"
        );
    }
}
