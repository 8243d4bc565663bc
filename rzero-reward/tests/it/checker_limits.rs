//! Hostile inputs: each returns a verdict within the fixed budget, never a
//! crash. (Time is measured by the `reward_check` bench, not asserted here.)

use rzero_reward::verify;

fn long_sum(terms: usize) -> String {
    vec!["1"; terms].join("+")
}

#[test]
fn towers_and_huge_factorials_are_not_equal_to_small_numbers() {
    for (gold, pred) in [
        ("10^{10^{10}}", "1"),
        ("9^{9^{9^9}}", "0"),
        ("1000000!", "1"),
        ("2^{-10000}", "0"),
        ("\\binom{100000}{50000}", "7"),
    ] {
        let verdict = verify(gold, pred);
        assert!(!verdict.equal, "{gold} vs {pred}: {verdict:?}");
        assert!(
            verdict.budget_hit,
            "{gold} should report its budget: {verdict:?}"
        );
    }
}

#[test]
fn the_same_huge_number_written_twice_is_equal() {
    assert!(verify("10^{10^{10}}", "10^{10000000000}").equal);
    assert!(verify("9^{9^{9^9}}", "9^{9^{9^9}}").equal);
    assert!(verify("1000000!", "1000000 !").equal);
}

#[test]
fn ten_thousand_term_sum_is_cut_off_by_length() {
    let sum = long_sum(10_000);
    let verdict = verify(&sum, "10000");
    assert!(!verdict.equal && verdict.budget_hit, "{verdict:?}");
    assert!(verify(&sum, &sum).equal, "identical strings still match");
    assert!(
        verify(&long_sum(600), "600").equal,
        "a sum under the length limit is evaluated"
    );
}

#[test]
fn malformed_and_empty_inputs_give_false() {
    for (gold, pred) in [
        ("", ""),
        ("", "1"),
        ("1", ""),
        ("\\frac{{{{", "1"),
        ("}}}}", "1"),
        ("\\sqrt", "2"),
        ("(((", ")))"),
        ("\\begin{pmatrix}", "1"),
        ("^^^", "^^"),
        ("1/0", "2"),
    ] {
        let verdict = verify(gold, pred);
        assert!(!verdict.equal, "{gold:?} vs {pred:?}: {verdict:?}");
    }
}

#[test]
fn deep_nesting_stops_at_the_depth_limit() {
    let deep = format!("{}1{}", "(".repeat(1000), ")".repeat(1000));
    assert!(
        !verify(&deep, "1").equal,
        "past the depth limit nothing is parsed"
    );
    let ok = format!("{}1{}", "(".repeat(20), ")".repeat(20));
    assert!(verify(&ok, "1").equal);
    let minus = format!("{}5", "-".repeat(1500));
    assert!(verify(&minus, "5").equal, "an even number of minus signs");
    let roots = format!("{}2{}", "\\sqrt{".repeat(500), "}".repeat(500));
    assert!(!verify(&roots, "7").equal);
}

#[test]
fn long_digit_strings_stay_exact() {
    let big = "9".repeat(1500);
    let bigger = format!("{}8", "9".repeat(1499));
    assert!(verify(&big, &big.clone()).equal);
    assert!(!verify(&big, &bigger).equal);
    assert!(!verify("1e999999", "0").equal);
}

#[test]
fn long_postfix_chains_stop_at_the_depth_limit() {
    let bangs = format!("3{}", "!".repeat(1500));
    assert!(!verify(&bangs, "6").equal);
    let towers = format!("2{}", "^2".repeat(900));
    assert!(!verify(&towers, "4").equal);
    let percents = format!("5{}", "\\%".repeat(600));
    assert!(!verify(&percents, "0").equal);
    assert!(verify("3!!", "720").equal, "short chains still parse");
}
