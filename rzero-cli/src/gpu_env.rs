//! What the wgpu backend needs from the environment, set up before it starts.
//!
//! Vulkan drivers (mesa's included) print `error: XDG_RUNTIME_DIR is invalid
//! or not set` on every device creation when that variable is missing, as in
//! containers and ssh sessions without a login manager. rzero then points it
//! at a private per-user directory (0700) under the temp dir.

use std::fs::{self, DirBuilder};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::PathBuf;

/// A private runtime directory to use when `XDG_RUNTIME_DIR` is unset, or
/// `Ok(None)` when it is already set. Never reuses a directory that another
/// user owns or that others can read.
pub fn runtime_dir() -> Result<Option<PathBuf>, String> {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|v| !v.is_empty()) {
        return Ok(None);
    }
    // /proc/self belongs to the process's effective user.
    let uid = fs::metadata("/proc/self").map_or(0, |m| m.uid());
    let dir = std::env::temp_dir().join(format!("rzero-runtime-{uid}"));
    match DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("creating {}: {e}", dir.display())),
    }
    let meta = fs::symlink_metadata(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !meta.is_dir() || meta.uid() != uid || meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "{} is not a private directory of this user",
            dir.display()
        ));
    }
    Ok(Some(dir))
}
