//! Request and response shapes against vLLM's: a real vLLM response body
//! (tests/fixtures/vllm, see its README) parses, and `rzero serve` answers
//! with the same field names.

use rzero_serve::protocol::{CompletionRequest, CompletionResponse, Prompt, parse_token_id};
use serde_json::Value;

use crate::common::{pool, start_server};

const VLLM_BODY: &str = include_str!("../fixtures/vllm/completion_logprobs.json");

#[test]
fn a_real_vllm_response_with_logprobs_parses() {
    let r: CompletionResponse = serde_json::from_str(VLLM_BODY).unwrap();
    assert_eq!(r.object, "text_completion");
    assert_eq!(r.choices.len(), 1);
    let c = &r.choices[0];
    assert_eq!((c.index, c.text.as_str()), (0, "7"));
    assert_eq!(c.finish_reason.as_deref(), Some("length"));
    let lp = c.logprobs.as_ref().unwrap();
    assert_eq!(lp.tokens, ["7"]);
    assert_eq!(lp.text_offset, [46]);
    assert!((lp.token_logprobs[0].unwrap() + 0.000_024_2).abs() < 1e-7);
    assert_eq!(lp.top_logprobs[0].as_ref().unwrap().len(), 5);
    assert!(r.usage.is_none() && c.token_ids.is_none());
}

#[test]
fn token_id_tokens_from_vllm_give_the_ids() {
    // vLLM with `return_tokens_as_token_ids` writes tokens as `token_id:N`.
    let body = VLLM_BODY.replace("\"tokens\":[\"7\"]", "\"tokens\":[\"token_id:22\"]");
    let r: CompletionResponse = serde_json::from_str(&body).unwrap();
    let tokens = &r.choices[0].logprobs.as_ref().unwrap().tokens;
    assert_eq!(parse_token_id(&tokens[0]), Some(22));
}

/// Every key of `reference` (recursively, objects only) is in `value`.
fn keys_missing(reference: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    if let (Value::Object(r), Value::Object(v)) = (reference, value) {
        for (k, rv) in r {
            match v.get(k) {
                None => out.push(format!("{path}.{k}")),
                Some(vv) => keys_missing(rv, vv, &format!("{path}.{k}"), out),
            }
        }
    }
}

#[test]
fn rzero_serve_answers_with_vllms_field_names() {
    let server = start_server();
    let request = CompletionRequest {
        prompt: Some(Prompt::Text("Question: What is 2 + 3?".into())),
        max_tokens: Some(4),
        seed: Some(1),
        logprobs: Some(0),
        ..CompletionRequest::default()
    };
    let ours = pool(vec![server.url()]).complete(&request).unwrap();
    let ours = serde_json::to_value(&ours).unwrap();
    let vllm: Value = serde_json::from_str(VLLM_BODY).unwrap();
    let mut missing = Vec::new();
    keys_missing(
        &vllm["choices"][0],
        &ours["choices"][0],
        "choices[0]",
        &mut missing,
    );
    for k in ["id", "object", "created", "model", "choices"] {
        if ours.get(k).is_none() {
            missing.push(k.to_string());
        }
    }
    // Top alternatives are not computed (`logprobs` > 0 is rejected), and
    // vLLM's `prompt_token_ids` echo is not sent.
    missing.retain(|k| k != "choices[0].prompt_token_ids");
    assert!(missing.is_empty(), "missing: {missing:?}");
    let lp = &ours["choices"][0]["logprobs"];
    assert_eq!(
        lp["tokens"].as_array().unwrap().len(),
        lp["token_logprobs"].as_array().unwrap().len()
    );
    server.shutdown();
}
