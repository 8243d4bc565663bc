//! Logits and greedy continuations against transformers (fixtures built by
//! `tests/fixtures/make_fixtures.py`).

use rzero_model::sampling::Sampling;
use rzero_model::{GenerateOptions, generate};

use crate::common::{FIXTURES, device, expected, load, max_abs_diff, single, to_vec};

/// Max |Δlogit| allowed against transformers (F32 on both sides).
const LOGIT_TOLERANCE: f32 = 1e-4;

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn logits_match_transformers() {
    for name in FIXTURES {
        let (model, _) = load(name);
        let mut worst = 0.0f32;
        for case in expected(name).cases {
            let (tokens, positions) = single(&case.input_ids, &device());
            let got = to_vec(model.forward(tokens, positions, None));
            let want: Vec<f32> = case.logits.concat();
            worst = worst.max(max_abs_diff(&got, &want));
        }
        eprintln!("{name}: max |logit - transformers| = {worst:.3e}");
        assert!(worst < LOGIT_TOLERANCE, "{name}: {worst}");
    }
}

#[test]
fn greedy_tokens_match_transformers_for_40_steps() {
    for name in FIXTURES {
        let (model, _) = load(name);
        let want = expected(name).greedy;
        assert!(want.tokens.len() >= 32);
        let options = GenerateOptions {
            max_new_tokens: want.tokens.len(),
            sampling: Sampling::Greedy,
            ..GenerateOptions::default()
        };
        let out = generate(&model, std::slice::from_ref(&want.prompt), &options, None).unwrap();
        assert_eq!(out[0].token_ids, want.tokens, "{name}");
        let diff = max_abs_diff(&out[0].logprobs, &want.logprobs);
        assert!(diff < LOGIT_TOLERANCE, "{name}: logprob diff {diff}");
    }
}
