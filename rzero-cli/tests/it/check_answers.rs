//! `rzero check-answers` end to end on the built binary.

use crate::common::rzero;

const INPUT: &str = concat!(
    r#"{"id": 1, "gold": "\\frac{1}{2}", "pred": "0.5"}"#,
    "\n",
    r#"{"id": 2, "gold": "x=3", "pred": "4"}"#,
    "\n",
    "not json\n",
    "\n",
    r#"{"id": 4, "gold": "1{,}000", "pred": "1000"}"#,
    "\n",
);

#[test]
fn marks_lines_and_skips_a_malformed_one_with_its_number() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("cases.jsonl");
    let output = dir.path().join("out.jsonl");
    std::fs::write(&input, INPUT).expect("write input");
    let run = rzero()
        .arg("check-answers")
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .output()
        .expect("run rzero");
    assert!(run.status.success(), "{run:?}");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("cases.jsonl:3"),
        "the bad line is named: {stderr}"
    );
    assert!(stderr.contains("1 malformed lines skipped"), "{stderr}");
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(&output)
        .expect("output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let verdicts: Vec<(i64, bool)> = rows
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap_or(-1),
                r["equivalent"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(verdicts, [(1, true), (2, false), (4, true)]);
}

#[test]
fn fail_mode_stops_at_the_bad_line_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("cases.jsonl");
    let output = dir.path().join("out.jsonl");
    std::fs::write(&input, INPUT).expect("write input");
    let run = rzero()
        .args(["check-answers", "--on-bad-line", "fail", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .output()
        .expect("run rzero");
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("cases.jsonl:3: not JSON"));
    assert!(!output.exists(), "no partial output");
}

#[test]
fn writes_to_stdout_without_output_flag() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("one.jsonl");
    std::fs::write(&input, "{\"gold\": \"2\", \"pred\": \"\\\\sqrt{4}\"}\n").expect("write input");
    let run = rzero()
        .arg("check-answers")
        .arg("--input")
        .arg(&input)
        .output()
        .expect("run rzero");
    assert!(run.status.success());
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        r#"{"gold": "2", "pred": "\\sqrt{4}","gold_answer":"2","pred_answer":"\\sqrt{4}","equivalent":true}"#
    );
}

#[test]
fn extracts_answers_from_solutions_unless_told_not_to() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("texts.jsonl");
    let lines = concat!(
        r#"{"gold": "$\\frac{14}{3}$", "pred": "so the sum is $2+\\frac{5}{3}+1=\\boxed{\\frac{14}{3}}$."}"#,
        "\n",
        r#"{"gold": "1000", "pred": "The total is $1,\\!000$ dollars."}"#,
        "\n",
        r#"{"gold": "B", "pred": "The answer is (C)."}"#,
        "\n",
    );
    std::fs::write(&input, lines).expect("write input");
    let run_with = |extra: &[&str]| {
        let run = rzero()
            .arg("check-answers")
            .arg("--input")
            .arg(&input)
            .args(extra)
            .output()
            .expect("run rzero");
        assert!(run.status.success(), "{run:?}");
        String::from_utf8_lossy(&run.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
            .collect::<Vec<_>>()
    };
    let rows = run_with(&[]);
    let verdicts: Vec<bool> = rows.iter().map(|r| r["equivalent"] == true).collect();
    assert_eq!(verdicts, [true, true, false]);
    assert_eq!(rows[0]["pred_answer"], r"\frac{14}{3}");
    assert_eq!(rows[1]["pred_answer"], r"1,\!000");
    assert_eq!(rows[2]["pred_answer"], "C");
    let raw = run_with(&["--extract", "none"]);
    assert!(
        raw.iter()
            .all(|r| r["equivalent"] == false && r.get("pred_answer").is_none())
    );
}
