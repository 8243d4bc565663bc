//! Staged directories, manifests and sweeping, as a resume relies on them.

use std::fs;
use std::path::Path;

use rzero_fs::{FsError, StagedDir, remove_dir, sweep, verify_dir, write_atomic};

fn stage(target: &Path, files: &[(&str, &[u8])]) -> StagedDir {
    let staged = StagedDir::create(target).unwrap();
    for (name, bytes) in files {
        write_atomic(staged.path().join(name), bytes).unwrap();
    }
    staged
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn target_appears_only_at_commit_with_a_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("step_001");
    let staged = stage(&target, &[("b.bin", b"bb"), ("a.json", b"{}")]);
    assert!(
        !target.exists(),
        "nothing under the real name before commit"
    );
    staged.commit().unwrap();
    assert_eq!(names(&target), vec!["a.json", "b.bin", "manifest.json"]);
    let m = verify_dir(&target).unwrap();
    let listed: Vec<(&str, u64)> = m.files.iter().map(|f| (f.name.as_str(), f.size)).collect();
    assert_eq!(listed, vec![("a.json", 2), ("b.bin", 2)]);
    assert_eq!(names(tmp.path()), vec!["step_001"]);
}

#[test]
fn equal_contents_give_equal_manifest_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    stage(&a, &[("x", b"1"), ("y", b"22")]).commit().unwrap();
    stage(&b, &[("y", b"22"), ("x", b"1")]).commit().unwrap();
    assert_eq!(
        fs::read(a.join("manifest.json")).unwrap(),
        fs::read(b.join("manifest.json")).unwrap()
    );
}

#[test]
fn commit_replaces_an_older_directory_of_the_same_name() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("ckpt");
    stage(&target, &[("old.bin", b"old")]).commit().unwrap();
    stage(&target, &[("new.bin", b"new")]).commit().unwrap();
    assert_eq!(names(&target), vec!["manifest.json", "new.bin"]);
    assert_eq!(names(tmp.path()), vec!["ckpt"]);
}

#[test]
fn verify_names_a_truncated_changed_or_missing_file() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("ckpt");
    stage(&target, &[("w.bin", b"0123456789"), ("c.json", b"{}")])
        .commit()
        .unwrap();
    fs::write(target.join("w.bin"), b"01234").unwrap();
    let err = verify_dir(&target).unwrap_err();
    assert!(matches!(err, FsError::Damaged { .. }));
    let text = err.to_string();
    assert!(text.contains("w.bin") && text.contains("5 bytes"), "{text}");

    fs::write(target.join("w.bin"), b"0123456780").unwrap();
    let text = verify_dir(&target).unwrap_err().to_string();
    assert!(
        text.contains("w.bin") && text.contains("checksum"),
        "{text}"
    );

    fs::remove_file(target.join("c.json")).unwrap();
    let text = verify_dir(&target).unwrap_err().to_string();
    assert!(
        text.contains("c.json") && text.contains("missing"),
        "{text}"
    );
}

#[test]
fn a_directory_without_manifest_is_reported_incomplete() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("model.bin"), b"x").unwrap();
    let text = verify_dir(tmp.path()).unwrap_err().to_string();
    assert!(
        text.contains("manifest.json") && text.contains("never completed"),
        "{text}"
    );
}

#[test]
fn an_abandoned_stage_is_swept_and_never_seen_as_the_target() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("run/iter_001/step_002");
    let staged = stage(&target, &[("half.bin", b"12")]);
    std::mem::forget(staged); // as if killed before commit
    write_atomic(tmp.path().join("run/keep.json"), b"{}").unwrap();
    assert!(!target.exists());
    assert_eq!(sweep(&tmp.path().join("run")).unwrap(), 1);
    assert_eq!(
        names(&tmp.path().join("run/iter_001")),
        Vec::<String>::new()
    );
    assert_eq!(
        names(&tmp.path().join("run")),
        vec!["iter_001", "keep.json"]
    );
}

#[test]
fn remove_dir_leaves_nothing_under_either_name() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("step_000");
    stage(&target, &[("a", b"a")]).commit().unwrap();
    remove_dir(&target).unwrap();
    remove_dir(&target).unwrap(); // already gone: fine
    assert_eq!(names(tmp.path()), Vec::<String>::new());
}
