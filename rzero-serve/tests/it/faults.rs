//! Servers that are down, die mid-request or answer 503: requests move to
//! another endpoint, none is lost or answered twice, and when every server
//! is down the error lists each one with its last error.

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rzero_serve::ServeError;
use rzero_serve::protocol::{CompletionRequest, Prompt};

use crate::common::{pool, start_server};

/// A port with nothing listening.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// A server that reads each request and hangs up without answering, as a
/// server killed mid-request does; counts the requests it swallowed.
fn hang_up_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(200) {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (url, hits)
}

fn request(seed: u64) -> CompletionRequest {
    CompletionRequest {
        prompt: Some(Prompt::TokenIds(vec![5, 6, 7])),
        n: Some(2),
        max_tokens: Some(6),
        seed: Some(seed),
        ..CompletionRequest::default()
    }
}

#[test]
fn all_servers_down_is_an_error_naming_each() {
    let (a, b) = (closed_port(), closed_port());
    let err = pool(vec![a.clone(), b.clone()])
        .complete(&request(1))
        .unwrap_err();
    let ServeError::AllDown { attempts, failures } = &err else {
        panic!("{err}")
    };
    assert_eq!(*attempts, 3);
    let named: Vec<&str> = failures.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(named, [a.as_str(), b.as_str()]);
    assert!(failures.iter().all(|(_, why)| !why.is_empty()), "{err}");
    assert!(
        err.to_string().contains("all inference endpoints are down"),
        "{err}"
    );
}

#[test]
fn requests_to_a_dying_server_are_retried_on_the_other_once_each() {
    let server = start_server();
    let (dying, hits) = hang_up_server();
    let requests: Vec<_> = (0..8).map(request).collect();
    let answers = pool(vec![dying, server.url()])
        .complete_all(&requests)
        .unwrap();
    assert!(
        hits.load(Ordering::SeqCst) > 0,
        "the dying server was never tried"
    );
    // Each answer is the good server's answer to that very request.
    let alone = pool(vec![server.url()]);
    assert_eq!(answers.len(), requests.len());
    for (r, a) in requests.iter().zip(&answers) {
        let want = alone.complete(r).unwrap();
        let ids = |x: &rzero_serve::protocol::CompletionResponse| {
            x.choices
                .iter()
                .map(|c| c.token_ids.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(a), ids(&want), "seed {:?}", r.seed);
    }
    server.shutdown();
}
