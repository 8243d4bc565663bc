//! Routing and JSON bodies of the server's HTTP requests.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Sender, channel};

use serde::Serialize;
use tiny_http::{Header, Method, Request, Response};

use super::engine::{GenerateJob, Job};
use super::respond::{BadRequest, options, prompt_ids, prompt_seeds, response};
use super::{Shared, read};
use crate::protocol::{
    CompletionRequest, ErrorBody, ErrorDetail, ModelCard, ModelList, UpdateWeightsRequest,
    UpdateWeightsResponse,
};

/// Largest request body accepted.
const MAX_BODY: u64 = 64 << 20;

/// Request ids, and seeds for requests that bring none.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Answers one HTTP request; a client that hung up is only logged.
pub(super) fn handle(mut request: Request, shared: &Shared, jobs: &Sender<Job>) {
    let route = (request.method().clone(), request.url().to_string());
    let (status, body) = match (&route.0, route.1.as_str()) {
        (Method::Get, "/health") => (200, String::new()),
        (Method::Get, "/v1/models") => (200, json(&models(shared))),
        (Method::Post, "/v1/completions") => match read_body(&mut request) {
            Ok(body) => completions(&body, shared, jobs),
            Err(e) => error(400, &e),
        },
        (Method::Post, "/update_weights_from_disk") => match read_body(&mut request) {
            Ok(body) => reload(&body, jobs),
            Err(e) => error(400, &e),
        },
        (_, path) => error(404, &format!("no route {} {path}", route.0)),
    };
    let mut response = Response::from_string(body).with_status_code(status);
    if let Ok(h) = Header::from_bytes("Content-Type", "application/json") {
        response.add_header(h);
    }
    if let Err(e) = request.respond(response) {
        tracing::debug!(error = %e, "client went away before the response");
    }
}

fn read_body(request: &mut Request) -> Result<String, String> {
    let mut body = String::new();
    request
        .as_reader()
        .take(MAX_BODY)
        .read_to_string(&mut body)
        .map_err(|e| format!("reading the request body: {e}"))?;
    Ok(body)
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

fn error(code: u16, message: &str) -> (u16, String) {
    let kind = if code >= 500 {
        "server_error"
    } else {
        "invalid_request_error"
    };
    let body = ErrorBody {
        error: ErrorDetail {
            message: message.to_string(),
            kind: kind.into(),
            code,
        },
    };
    (code, json(&body))
}

fn models(shared: &Shared) -> ModelList {
    ModelList {
        object: "list".into(),
        data: vec![ModelCard {
            id: shared.name.clone(),
            object: "model".into(),
            created: shared.created,
            owned_by: "rzero".into(),
            root: Some(read(&shared.root).display().to_string()),
        }],
    }
}

fn completions(body: &str, shared: &Shared, jobs: &Sender<Job>) -> (u16, String) {
    let request: CompletionRequest = match serde_json::from_str(body) {
        Ok(r) => r,
        Err(e) => return error(400, &format!("bad completions request: {e}")),
    };
    if let Some(model) = request.model.as_deref().filter(|m| *m != shared.name) {
        return error(
            404,
            &format!(
                "the model `{model}` does not exist (serving `{}`)",
                shared.name
            ),
        );
    }
    let tokenizer = std::sync::Arc::clone(&read(&shared.tokenizer));
    let prepared = prompt_ids(request.prompt.as_ref(), &tokenizer)
        .and_then(|p| options(&request, &tokenizer).map(|o| (p, o)));
    let (prompts, options) = match prepared {
        Ok(x) => x,
        Err(BadRequest(reason)) => return error(400, &reason),
    };
    let count = COUNTER.fetch_add(1, Ordering::SeqCst);
    let seed = request
        .seed
        .unwrap_or_else(|| super::unix_now() ^ count.rotate_left(32));
    let prompt_tokens = prompts.iter().map(Vec::len).sum();
    let (reply, answer) = channel();
    let job = GenerateJob {
        seeds: prompt_seeds(seed, prompts.len()),
        prompts,
        options,
        reply,
    };
    if jobs.send(Job::Generate(job)).is_err() {
        return error(503, "the engine has stopped");
    }
    match answer.recv() {
        Ok(Ok(done)) => {
            let id = format!("cmpl-rzero-{count}");
            let body = response(
                &request,
                &done,
                prompt_tokens,
                &shared.name,
                &tokenizer,
                id,
                super::unix_now(),
            );
            (200, json(&body))
        }
        Ok(Err(e)) => error(400, &e.to_string()),
        Err(_) => error(503, "the engine stopped while generating"),
    }
}

fn reload(body: &str, jobs: &Sender<Job>) -> (u16, String) {
    let request: UpdateWeightsRequest = match serde_json::from_str(body) {
        Ok(r) => r,
        Err(e) => return error(400, &format!("expected {{\"model_path\": DIR}}: {e}")),
    };
    let (reply, answer) = channel();
    let dir = PathBuf::from(&request.model_path);
    if jobs.send(Job::Reload { dir, reply }).is_err() {
        return error(503, "the engine has stopped");
    }
    let (status, success, message) = match answer.recv() {
        Ok(Ok(())) => (200, true, format!("loaded {}", request.model_path)),
        Ok(Err(e)) => (400, false, e.to_string()),
        Err(_) => (503, false, "the engine stopped while loading".to_string()),
    };
    if success {
        tracing::info!(model = %request.model_path, "weights reloaded");
    }
    (status, json(&UpdateWeightsResponse { success, message }))
}
