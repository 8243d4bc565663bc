//! Solver format reward against Python's `re`, on a committed fixture.

use rzero_reward::format::{solver_format_ok, tighten_tags};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    output: String,
    tightened: String,
    format_ok: bool,
}

#[test]
fn format_gate_matches_python_re_on_fixture() {
    let text = include_str!("../fixtures/format/cases.json");
    let cases: Vec<Case> =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("bad format fixture: {e}"));
    assert!(cases.iter().filter(|c| c.format_ok).count() >= 50);
    for case in &cases {
        assert_eq!(
            tighten_tags(&case.output),
            case.tightened,
            "{:?}",
            case.output
        );
        assert_eq!(
            solver_format_ok(&case.output),
            case.format_ok,
            "{:?}",
            case.output
        );
    }
}
