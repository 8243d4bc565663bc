//! Property tests of the answer checker.

use proptest::prelude::*;
use rzero_reward::{equivalent, verify};

/// Cases of the random-input fuzz tests (`--features long-fuzz` for 100 000;
/// `PROPTEST_CASES=1000000` for any other count).
fn fuzz_cases() -> u32 {
    let default = if cfg!(feature = "long-fuzz") {
        100_000
    } else {
        2_000
    };
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small expression rendered twice: LaTeX style and plain style.
#[derive(Debug, Clone)]
struct Twin {
    latex: String,
    plain: String,
}

fn leaf() -> impl Strategy<Value = Twin> {
    prop_oneof![
        (0u32..50).prop_map(|n| Twin {
            latex: n.to_string(),
            plain: n.to_string()
        }),
        prop::sample::select(vec!["x", "y", "a"]).prop_map(|v| Twin {
            latex: v.into(),
            plain: v.into()
        }),
        Just(Twin {
            latex: "\\pi".into(),
            plain: "pi".into()
        }),
    ]
}

fn twin() -> impl Strategy<Value = Twin> {
    leaf().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Twin {
                latex: format!("{} + {}", a.latex, b.latex),
                plain: format!("{}+{}", a.plain, b.plain)
            }),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Twin {
                latex: format!(
                    "\\left({}\\right) \\cdot \\left({}\\right)",
                    a.latex, b.latex
                ),
                plain: format!("({})*({})", a.plain, b.plain)
            }),
            (inner.clone(), 1u32..9).prop_map(|(a, d)| Twin {
                latex: format!("\\frac{{{}}}{{{d}}}", a.latex),
                plain: format!("({})/{d}", a.plain)
            }),
            (inner.clone(), 0u32..4).prop_map(|(a, k)| Twin {
                latex: format!("\\left({}\\right)^{{{k}}}", a.latex),
                plain: format!("({})^{k}", a.plain)
            }),
            inner.prop_map(|a| Twin {
                latex: format!("\\sqrt{{({})^2}}", a.latex),
                plain: format!("sqrt(({})^2)", a.plain)
            }),
        ]
    })
}

/// Tokens that random LaTeX-ish strings are made of, hostile ones included.
const TOKENS: [&str; 44] = [
    "\\frac",
    "\\dfrac",
    "{",
    "}",
    "^",
    "_",
    "1",
    "2",
    "0",
    "99999",
    ".",
    "5e3",
    "x",
    "e",
    "i",
    "\\sqrt",
    "(",
    ")",
    "[",
    "]",
    ",",
    "=",
    "<",
    "\\le",
    "\\pm",
    "\\text{",
    "cm",
    "\\begin{pmatrix}",
    "\\end{pmatrix}",
    "&",
    "\\\\",
    "!",
    "\\%",
    "\\left(",
    "\\right)",
    "\\infty",
    "\\{",
    "\\}",
    "|",
    "-",
    "+",
    "\\cdot",
    " ",
    "π",
];

fn latexish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS.to_vec()), 0..60)
        .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn latex_and_plain_renderings_are_equivalent(t in twin()) {
        prop_assert!(equivalent(&t.latex, &t.plain), "{} vs {}", t.latex, t.plain);
        prop_assert!(equivalent(&t.latex, &t.latex));
    }

    #[test]
    fn fraction_and_decimal_forms_are_equivalent(p in -5000i64..5000, two in 0u32..5, five in 0u32..4) {
        let q = 2i64.pow(two) * 5i64.pow(five);
        let decimal = terminating_decimal(p, q);
        let frac = format!("\\frac{{{p}}}{{{q}}}");
        prop_assert!(equivalent(&frac, &decimal), "{frac} vs {decimal}");
        prop_assert!(equivalent(&decimal, &frac), "{decimal} vs {frac}");
        let slash = format!("{p}/{q}");
        prop_assert!(equivalent(&slash, &decimal), "{} vs {}", slash, decimal);
    }

    #[test]
    fn any_fraction_matches_its_decimal_to_twelve_places(p in -999i64..999, q in 1i64..999) {
        let frac = format!("\\frac{{{p}}}{{{q}}}");
        let rounded = decimal_places(p, q, 12);
        prop_assert!(equivalent(&frac, &rounded), "{} vs {}", frac, rounded);
    }

    #[test]
    fn short_decimals_follow_the_six_decimal_rule(p in -999i64..999, q in 1i64..999, places in 1u32..9) {
        // Oracle: equal iff both values round to the same multiple of 1e-6.
        let frac = format!("\\frac{{{p}}}{{{q}}}");
        let short = decimal_places(p, q, places);
        let exact_units = round_half_away(i128::from(p) * 1_000_000, i128::from(q));
        let short_units = round_half_away(units_of(&short, places) * 1_000_000, 10i128.pow(places));
        prop_assert_eq!(equivalent(&frac, &short), exact_units == short_units, "{} vs {}", frac, short);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_latexish_strings_never_panic(a in prop_oneof![3 => latexish(), 1 => any::<String>()], b in latexish()) {
        let forward = verify(&a, &b);
        let backward = verify(&b, &a);
        prop_assert!(!forward.equal || forward.method != rzero_reward::Method::Different);
        prop_assert!(!backward.equal || backward.method != rzero_reward::Method::Different);
        let blank = rzero_reward::math::normalize::normalize(&a).is_empty();
        prop_assert!(verify(&a, &a).equal || blank, "{:?} is not equal to itself", a);
    }
}

/// Pieces of model outputs: prose, anchors, math delimiters, boxes, numbers.
const TEXT_TOKENS: [&str; 34] = [
    "The answer is ",
    "final answer is ",
    "Answer: ",
    "**",
    "####",
    " so ",
    ". ",
    "\n",
    " and ",
    ", ",
    "$",
    "$$",
    "\\[",
    "\\]",
    "\\(",
    "\\)",
    "\\boxed{",
    "\\fbox{",
    "{",
    "}",
    "\\\\",
    "12",
    "-3",
    "1,000",
    "3,5",
    "0.25",
    "50%",
    "\\%",
    "\\frac{1}{2}",
    "x = ",
    "\\pm",
    "\\left(",
    "\\right)",
    " [1, 2] ",
];

fn texty() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TEXT_TOKENS.to_vec()), 0..80)
        .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_texts_never_panic_or_hang(
        gold in prop_oneof![1 => texty(), 1 => latexish()],
        pred in prop_oneof![4 => texty(), 1 => any::<String>()],
    ) {
        let started = std::time::Instant::now();
        let out = rzero_reward::verify_texts(&gold, &pred);
        prop_assert!(started.elapsed().as_secs_f64() < 1.0, "slow: {gold:?} {pred:?}");
        prop_assert!(out.gold_answer.len() <= gold.len() + 16);
        prop_assert!(out.pred_answer.len() <= pred.len() + 16);
        let same = rzero_reward::verify_texts(&pred, &pred);
        let blank = rzero_reward::math::normalize::normalize(&same.pred_answer).is_empty();
        prop_assert!(same.verdict.equal || blank, "{pred:?} -> {:?}", same.pred_answer);
    }
}

fn terminating_decimal(p: i64, q: i64) -> String {
    decimal_places(p, q, 8)
}

fn round_half_away(num: i128, den: i128) -> i128 {
    let (num, den) = if den < 0 { (-num, -den) } else { (num, den) };
    let half_up = (2 * num.abs() + den) / (2 * den);
    if num < 0 { -half_up } else { half_up }
}

/// A written decimal with `places` decimals as an integer count of `10^-places`.
fn units_of(decimal: &str, places: u32) -> i128 {
    let digits: String = decimal.chars().filter(|c| c.is_ascii_digit()).collect();
    let value: i128 = digits.parse().unwrap_or(0);
    let _ = places;
    if decimal.starts_with('-') {
        -value
    } else {
        value
    }
}

/// `p/q` rounded half away from zero to `places` decimals, written out.
fn decimal_places(p: i64, q: i64, places: u32) -> String {
    let scale = 10i128.pow(places);
    let num = i128::from(p) * scale;
    let den = i128::from(q);
    let units = round_half_away(num, den);
    let sign = if units < 0 { "-" } else { "" };
    let units = units.abs();
    format!(
        "{sign}{}.{:0width$}",
        units / scale,
        units % scale,
        width = places as usize
    )
}
