//! The built-in tiny base model (`rzero-core/models/tiny/`, trained by
//! `rzero pretrain`), embedded in the binary so `rzero run` works with no
//! arguments, no network and no checkout — also after `cargo install`.
//! The files live inside this crate so that its published package is
//! self-contained (`include_bytes!` may not reach outside the package).
//!
//! [`builtin_model_dir`] writes the embedded files once into
//! `$XDG_CACHE_HOME/rzero/tiny-<content hash>/` (or `~/.cache/...`): the
//! directory is filled under a temporary name and renamed into place, so a
//! reader sees all files or none, and a new binary with other weights gets
//! another directory.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{CoreError, Result};

/// The embedded files: (name, bytes).
pub const FILES: [(&str, &[u8]); 6] = [
    ("config.json", include_bytes!("../models/tiny/config.json")),
    (
        "model.safetensors",
        include_bytes!("../models/tiny/model.safetensors"),
    ),
    (
        "tokenizer.json",
        include_bytes!("../models/tiny/tokenizer.json"),
    ),
    (
        "tokenizer_config.json",
        include_bytes!("../models/tiny/tokenizer_config.json"),
    ),
    (
        "generation_config.json",
        include_bytes!("../models/tiny/generation_config.json"),
    ),
    ("README.md", include_bytes!("../models/tiny/README.md")),
];

/// 64-bit FNV-1a over every file name and content: names the cache
/// directory (a change of any byte gives a new directory).
pub fn content_hash() -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, bytes) in FILES {
        for b in name
            .as_bytes()
            .iter()
            .chain(&(bytes.len() as u64).to_le_bytes())
            .chain(bytes)
        {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CoreError + '_ {
    move |source| CoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The user's cache root: `$XDG_CACHE_HOME`, else `$HOME/.cache`, else the
/// system temp dir.
pub fn cache_root() -> PathBuf {
    match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".cache"),
            None => std::env::temp_dir(),
        },
    }
}

/// The built-in model as an HF directory under [`cache_root`], written on
/// first use.
pub fn builtin_model_dir() -> Result<PathBuf> {
    builtin_model_dir_in(&cache_root())
}

/// The built-in model as an HF directory under `cache_root/rzero/`.
pub fn builtin_model_dir_in(cache_root: &Path) -> Result<PathBuf> {
    let parent = cache_root.join("rzero");
    let target = parent.join(format!("tiny-{:016x}", content_hash()));
    if is_complete(&target) {
        return Ok(target);
    }
    fs::create_dir_all(&parent).map_err(io(&parent))?;
    // A unique staging directory: threads and processes unpack side by side.
    let staging = tempfile::Builder::new()
        .prefix(".rzero-tmp.tiny-")
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    let temp = staging.path().to_path_buf();
    for (name, bytes) in FILES {
        rzero_fs::write_atomic(temp.join(name), bytes)?;
    }
    if target.exists() {
        // A damaged copy (a file edited or truncated by hand): replace it.
        fs::remove_dir_all(&target).map_err(io(&target))?;
    }
    if let Err(source) = fs::rename(&temp, &target) {
        // Another process may have won the race; its copy is as good
        // (dropping `staging` removes ours).
        if !is_complete(&target) {
            return Err(CoreError::Io {
                path: target,
                source,
            });
        }
    }
    tracing::debug!(dir = %target.display(), "built-in model ready");
    Ok(target)
}

fn is_complete(dir: &Path) -> bool {
    FILES.iter().all(|(name, bytes)| {
        fs::metadata(dir.join(name)).is_ok_and(|m| m.len() == bytes.len() as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn materializes_once_with_identical_bytes() {
        let cache = tempfile::tempdir().unwrap();
        let dir = builtin_model_dir_in(cache.path()).unwrap();
        for (name, bytes) in FILES {
            assert_eq!(fs::read(dir.join(name)).unwrap(), bytes, "{name}");
        }
        // A second call reuses the directory and leaves no temporaries.
        assert_eq!(builtin_model_dir_in(cache.path()).unwrap(), dir);
        let entries = fs::read_dir(cache.path().join("rzero")).unwrap().count();
        assert_eq!(entries, 1);
    }

    #[test]
    fn a_truncated_file_is_rewritten() {
        let cache = tempfile::tempdir().unwrap();
        let dir = builtin_model_dir_in(cache.path()).unwrap();
        fs::write(dir.join("config.json"), b"{").unwrap();
        let again = builtin_model_dir_in(cache.path()).unwrap();
        assert_eq!(again, dir);
        assert_eq!(fs::read(again.join("config.json")).unwrap(), FILES[0].1);
    }
}
