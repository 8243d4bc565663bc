//! No unused dependencies: every crate named in a workspace member's
//! Cargo.toml is used by that member's code (a cheap `cargo machete`).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::assert_success;

/// All `.rs` text under `dirs` of the crate at `root`.
fn sources(root: &Path, dirs: &[&str]) -> String {
    let mut text = String::new();
    let mut stack: Vec<_> = dirs.iter().map(|d| root.join(d)).collect();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("readable dir") {
                stack.push(entry.expect("dir entry").path());
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            text.push_str(&std::fs::read_to_string(&path).expect("readable source"));
            text.push('\n');
        }
    }
    text
}

/// Whether `text` uses crate `name` as a path (`name::`), a `use`, or a macro.
fn mentions(text: &str, name: &str) -> bool {
    let uses = [
        format!("{name}::"),
        format!("use {name}"),
        format!("{name}!"),
    ];
    uses.iter().any(|needle| {
        text.match_indices(needle.as_str()).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

#[test]
fn mentions_needs_a_whole_crate_name() {
    assert!(mentions("use serde::Deserialize;", "serde"));
    assert!(mentions("x = serde_json::to_string(&v)", "serde_json"));
    assert!(mentions("tracing::warn!(x)", "tracing"));
    assert!(!mentions("serde_json::to_string(&v)", "serde"));
    assert!(!mentions("my_serde::x()", "serde"));
    assert!(!mentions("// burn is not used", "burn"));
}

#[test]
fn every_dependency_is_used() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert_success(&out);
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let mut unused = Vec::new();
    let packages = meta["packages"].as_array().expect("packages");
    assert!(packages.len() >= 7, "every workspace member is listed");
    for package in packages {
        let manifest = Path::new(package["manifest_path"].as_str().expect("manifest"));
        let root = manifest.parent().expect("crate dir");
        // Normal dependencies serve the library and the bench targets (the
        // benches crate is all benches); dev-dependencies any target.
        let normal = sources(root, &["src", "benches"]);
        let all = sources(root, &["src", "benches", "tests", "examples"]);
        for dep in package["dependencies"].as_array().expect("dependencies") {
            let name = dep["rename"]
                .as_str()
                .or_else(|| dep["name"].as_str())
                .expect("dependency name")
                .replace('-', "_");
            let (kind, text) = match dep["kind"].as_str() {
                None => ("dependencies", &normal),
                Some("dev") => ("dev-dependencies", &all),
                Some(_) => continue, // build scripts: none today
            };
            if !mentions(text, &name) {
                unused.push(format!("{} [{kind}] {name}", package["name"]));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "unused dependencies (remove them from Cargo.toml):\n{}",
        unused.join("\n")
    );
}
