//! Test hook: make the n-th write to a matching path fail, or kill the
//! process half-way through it, to prove that every write site leaves a
//! resumable state.
//!
//! Set in the environment of the process under test (so it reaches a child
//! `rzero` process too):
//! - `RZERO_FAULT_WRITE=PATTERN@N`: the N-th write (1-based) whose target
//!   path contains `PATTERN` fails with an I/O error;
//! - `RZERO_FAULT_ABORT=PATTERN@N`: that write aborts the process after half
//!   of its bytes reached the temp file, as a `kill -9` inside a write would.
//!
//! Unset (the normal case) it costs one environment lookup per file written.

use std::path::Path;
use std::sync::Mutex;

/// Writes seen so far per variable: (spec, count of matching writes).
static SEEN: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::new());

/// What the hook asks of one write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    Fail,
    Abort,
}

fn parse(spec: &str) -> Option<(&str, usize)> {
    let (pattern, n) = spec.rsplit_once('@')?;
    Some((pattern, n.parse().ok()?))
}

/// Counts this write against `var`'s spec; true when it is the chosen one.
fn hits(var: &str, target: &Path) -> bool {
    let Ok(spec) = std::env::var(var) else {
        return false;
    };
    let Some((pattern, n)) = parse(&spec) else {
        return false;
    };
    if !target.to_string_lossy().contains(pattern) {
        return false;
    }
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    let key = format!("{var}={spec}");
    let count = match seen.iter_mut().find(|(k, _)| *k == key) {
        Some((_, c)) => {
            *c += 1;
            *c
        }
        None => {
            seen.push((key, 1));
            1
        }
    };
    count == n
}

/// The fault (if any) the environment asks for on this write to `target`.
pub(crate) fn check(target: &Path) -> Fault {
    if hits("RZERO_FAULT_ABORT", target) {
        Fault::Abort
    } else if hits("RZERO_FAULT_WRITE", target) {
        Fault::Fail
    } else {
        Fault::None
    }
}

/// The error an injected write failure returns (like a full disk).
pub(crate) fn injected() -> std::io::Error {
    std::io::Error::other("injected write fault (RZERO_FAULT_WRITE)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parses_pattern_and_count() {
        assert_eq!(parse("model.safetensors@3"), Some(("model.safetensors", 3)));
        assert_eq!(parse("a@b@2"), Some(("a@b", 2)));
        assert_eq!(parse("nothing"), None);
        assert_eq!(parse("x@two"), None);
    }
}
