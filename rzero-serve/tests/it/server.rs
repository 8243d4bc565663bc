//! `rzero serve` in-process: batching does not change a prompt's samples,
//! the endpoints answer like vLLM/SGLang, bad requests get clear errors.

use std::time::Duration;

use burn::prelude::*;
use rzero_model::tokenizer::Tokenizer;
use rzero_model::{GenerateOptions, generate_seeded, load_pretrained};
use rzero_serve::protocol::{CompletionRequest, Prompt};
use rzero_serve::{Pool, PoolConfig, ServeError};

use crate::common::{pool, start_server, tiny_model};

fn request(prompt: Vec<u32>, seed: u64) -> CompletionRequest {
    CompletionRequest {
        prompt: Some(Prompt::TokenIds(prompt)),
        n: Some(3),
        max_tokens: Some(12),
        temperature: Some(1.0),
        top_p: Some(0.95),
        top_k: Some(40),
        seed: Some(seed),
        logprobs: Some(0),
        return_tokens_as_token_ids: Some(true),
        ..CompletionRequest::default()
    }
}

fn prompts() -> Vec<Vec<u32>> {
    let tokenizer = Tokenizer::from_dir(&tiny_model()).unwrap();
    [
        "What is 2 + 2?",
        "Question: 17 * 3",
        "Compute 100 - 58, please.",
        "1+1",
        "Is 7 prime?",
    ]
    .iter()
    .map(|t| tokenizer.encode(t).unwrap())
    .collect()
}

#[test]
fn concurrent_requests_draw_what_the_local_model_draws_alone() {
    let server = start_server();
    let mut config = PoolConfig::new(vec![server.url()]);
    config.max_in_flight = 5; // all five requests in flight, so they share batches
    let pool = Pool::new(config).unwrap();
    let prompts = prompts();
    let requests: Vec<_> = prompts
        .iter()
        .enumerate()
        .map(|(i, p)| request(p.clone(), 100 + i as u64))
        .collect();
    let remote = pool.complete_all(&requests).unwrap();

    let (model, _) = load_pretrained(&tiny_model(), &Device::flex()).unwrap();
    let tokenizer = Tokenizer::from_dir(&tiny_model()).unwrap();
    let options = GenerateOptions {
        max_new_tokens: 12,
        samples_per_prompt: 3,
        sampling: rzero_model::sampling::Sampling::from_vllm(1.0, 0.95, 40).unwrap(),
        eos_token_ids: tokenizer.eos_token_ids().to_vec(),
        ..GenerateOptions::default()
    };
    let mut max_gap = 0f32;
    for (i, p) in prompts.iter().enumerate() {
        let local = generate_seeded(
            &model,
            std::slice::from_ref(p),
            &[100 + i as u64],
            &options,
            None,
        )
        .unwrap();
        for (s, choice) in remote[i].choices.iter().enumerate() {
            assert_eq!(
                choice.token_ids.as_deref(),
                Some(&local[s].token_ids[..]),
                "prompt {i} sample {s}"
            );
            let lps = &choice.logprobs.as_ref().unwrap().token_logprobs;
            for (a, b) in lps.iter().zip(&local[s].logprobs) {
                max_gap = max_gap.max((a.unwrap() - b).abs());
            }
        }
    }
    // Same tokens; log-probs differ only by batch-shape float noise.
    assert!(max_gap < 1e-4, "max |Δ log-prob| {max_gap}");
    server.shutdown();
}

fn http(method: &str, url: &str, body: Option<&str>) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut response = match body {
        Some(b) => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(b)
            .unwrap(),
        None if method == "GET" => agent.get(url).call().unwrap(),
        None => agent.post(url).send_empty().unwrap(),
    };
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

#[test]
fn health_models_and_sglang_reload_endpoints() {
    let server = start_server();
    let url = server.url();
    assert_eq!(http("GET", &format!("{url}/health"), None).0, 200);
    let (status, body) = http("GET", &format!("{url}/v1/models"), None);
    assert_eq!(status, 200);
    let models: serde_json::Value = serde_json::from_str(&body).unwrap();
    let name = models["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(name, tiny_model().display().to_string());

    let missing = r#"{"model_path": "/nonexistent/model"}"#;
    let (status, body) = http(
        "POST",
        &format!("{url}/update_weights_from_disk"),
        Some(missing),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("\"success\":false") && body.contains("/nonexistent/model"),
        "{body}"
    );
    let tmp = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(tiny_model()).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, tmp.path().join(f.file_name().unwrap())).unwrap();
    }
    let good = format!(r#"{{"model_path": "{}"}}"#, tmp.path().display());
    let (status, body) = http(
        "POST",
        &format!("{url}/update_weights_from_disk"),
        Some(&good),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"success\":true"), "{body}");
    let (_, body) = http("GET", &format!("{url}/v1/models"), None);
    assert!(body.contains(&tmp.path().display().to_string()), "{body}");
    // Still serving after the swap.
    let r = pool(vec![url.clone()])
        .complete(&request(prompts()[0].clone(), 1))
        .unwrap();
    assert_eq!(r.choices.len(), 3);
    server.shutdown();
}

#[test]
fn bad_requests_get_openai_error_bodies() {
    let server = start_server();
    let url = format!("{}/v1/completions", server.url());
    let cases = [
        ("{not json", 400, "bad completions request"),
        (r#"{"prompt": [], "max_tokens": 2}"#, 400, "empty prompt"),
        (r#"{"prompt": [1], "logprobs": 5}"#, 400, "logprobs"),
        (r#"{"prompt": [1], "stream": true}"#, 400, "stream"),
        (r#"{"prompt": [1], "top_p": 0}"#, 400, "top_p"),
        (
            r#"{"prompt": [1], "model": "other"}"#,
            404,
            "does not exist",
        ),
        (r#"{"prompt": [99999], "max_tokens": 2}"#, 400, "99999"),
    ];
    for (body, status, needle) in cases {
        let (got, text) = http("POST", &url, Some(body));
        assert_eq!(got, status, "{body}: {text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: {message}");
    }
    assert_eq!(http("GET", &format!("{}/nope", server.url()), None).0, 404);
    // The pool reports a 4xx as final, naming the server.
    let bad = CompletionRequest {
        prompt: Some(Prompt::TokenIds(vec![1])),
        logprobs: Some(3),
        ..CompletionRequest::default()
    };
    let err = pool(vec![server.url()]).complete(&bad).unwrap_err();
    assert!(
        matches!(err, ServeError::Rejected { status: 400, .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&server.url()), "{err}");
    server.shutdown();
}
