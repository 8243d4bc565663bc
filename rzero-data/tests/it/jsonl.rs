//! Streaming JSONL: line numbers on errors, skip-and-count, atomic writes.

use std::fs;

use rzero_data::jsonl::{
    AtomicJsonlWriter, JsonlReader, OnMalformed, read_jsonl, read_jsonl_skipping, write_jsonl,
};
use rzero_data::{DataError, EvalItem};

fn item(id: &str) -> EvalItem {
    EvalItem {
        id: id.into(),
        question: format!("q {id}"),
        answer: "1".into(),
        choices: None,
    }
}

#[test]
fn round_trip_and_blank_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.jsonl");
    let items = vec![item("a"), item("b")];
    assert_eq!(write_jsonl(&path, &items).unwrap(), 2);
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("\n   \n");
    fs::write(&path, text).unwrap();
    let back: Vec<EvalItem> = read_jsonl(&path).unwrap();
    assert_eq!(back, items);
}

#[test]
fn malformed_line_error_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    let good = serde_json::to_string(&item("a")).unwrap();
    fs::write(&path, format!("{good}\n\n{good}\n{{\"id\": 3\n{good}\n")).unwrap();
    let err = read_jsonl::<EvalItem>(&path).unwrap_err();
    match &err {
        DataError::BadJsonl { path: p, line, .. } => {
            assert_eq!(p, &path);
            assert_eq!(*line, 4, "blank lines count in the numbering");
        }
        other => panic!("wrong error {other:?}"),
    }
    assert!(err.to_string().contains("bad.jsonl:4"), "{err}");
}

#[test]
fn skip_mode_counts_malformed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.jsonl");
    let good = serde_json::to_string(&item("a")).unwrap();
    // A wrong type and invalid UTF-8 are both malformed lines.
    let mut bytes =
        format!("{good}\n{{\"id\": 1, \"question\": \"q\", \"answer\": \"x\"}}\n").into_bytes();
    bytes.extend_from_slice(b"\xff\xfe\n");
    bytes.extend_from_slice(format!("{good}\n").as_bytes());
    fs::write(&path, bytes).unwrap();
    let (items, skipped) = read_jsonl_skipping::<EvalItem>(&path).unwrap();
    assert_eq!((items.len(), skipped), (2, 2));
    let mut reader = JsonlReader::<EvalItem>::open(&path)
        .unwrap()
        .on_malformed(OnMalformed::Skip);
    assert_eq!(reader.by_ref().count(), 2);
    assert_eq!(reader.skipped(), 2);
}

#[test]
fn missing_file_is_an_io_error_with_path() {
    let err = JsonlReader::<EvalItem>::open("/nonexistent/x.jsonl").unwrap_err();
    assert!(matches!(err, DataError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/x.jsonl"));
}

#[test]
fn unfinished_writer_leaves_old_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("set.jsonl");
    write_jsonl(&path, &[item("old")]).unwrap();
    let before = fs::read(&path).unwrap();
    {
        let mut writer = AtomicJsonlWriter::create(&path).unwrap();
        writer.write(&item("new1")).unwrap();
        writer.write(&item("new2")).unwrap();
        assert_eq!(writer.count(), 2);
        // Dropped here: the run was interrupted mid-way.
    }
    assert_eq!(fs::read(&path).unwrap(), before);
    let leftovers = fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 1, "temp file removed");
    let mut writer = AtomicJsonlWriter::create(&path).unwrap();
    writer.write(&item("new")).unwrap();
    assert_eq!(writer.finish().unwrap(), 1);
    assert_eq!(read_jsonl::<EvalItem>(&path).unwrap(), vec![item("new")]);
}

#[test]
fn json_documents_round_trip_and_name_the_file_on_error() {
    use rzero_data::{read_json, write_json};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    write_json(&path, &item("s")).unwrap();
    assert!(fs::read_to_string(&path).unwrap().ends_with("}\n"));
    assert_eq!(read_json::<EvalItem>(&path).unwrap(), item("s"));
    fs::write(&path, "{\"id\": ").unwrap();
    let err = read_json::<EvalItem>(&path).unwrap_err();
    assert!(matches!(err, DataError::BadJson { .. }));
    assert!(err.to_string().contains("state.json"), "{err}");
}
