//! Directories that appear whole or not at all.

use std::path::{Path, PathBuf};

use crate::atomic::{sync_dir, write_json};
use crate::error::{FsError, Result};
use crate::fault::{self, Fault};
use crate::manifest::{MANIFEST, Manifest};

/// A directory being written under a hidden sibling name
/// (`.rzero-partial.NAME`). [`StagedDir::commit`] seals it with a manifest
/// and renames it to its real name; until then the target is untouched.
#[derive(Debug)]
pub struct StagedDir {
    target: PathBuf,
    temp: PathBuf,
}

fn sibling(target: &Path, kind: &str) -> Result<PathBuf> {
    let name = target
        .file_name()
        .ok_or_else(|| FsError::damaged(target, "a staged directory needs a name"))?;
    let name = format!("{}{kind}.{}", crate::TEMP_PREFIX, name.to_string_lossy());
    Ok(target.with_file_name(name))
}

impl StagedDir {
    /// Starts a fresh staging directory for `target` (removing one a crash
    /// left behind).
    pub fn create(target: impl Into<PathBuf>) -> Result<Self> {
        let target = target.into();
        let temp = sibling(&target, "partial")?;
        if temp.exists() {
            std::fs::remove_dir_all(&temp).map_err(FsError::io("removing", &temp))?;
        }
        std::fs::create_dir_all(&temp).map_err(FsError::io("creating directory", &temp))?;
        Ok(Self { target, temp })
    }

    /// Where to write the files.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// The directory's final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes the manifest, fsyncs, and renames the directory into place
    /// (replacing an older one of the same name). Returns the final path.
    pub fn commit(self) -> Result<PathBuf> {
        let manifest = Manifest::build(&self.temp)?;
        write_json(self.temp.join(MANIFEST), &manifest)?;
        sync_dir(&self.temp)?;
        match fault::check(&self.target) {
            Fault::Fail => {
                return Err(FsError::io("renaming into", &self.target)(fault::injected()));
            }
            Fault::Abort => std::process::abort(),
            Fault::None => {}
        }
        if self.target.exists() {
            remove_dir(&self.target)?;
        }
        std::fs::rename(&self.temp, &self.target)
            .map_err(FsError::io("renaming into", &self.target))?;
        if let Some(parent) = self.target.parent() {
            sync_dir(parent)?;
        }
        Ok(self.target)
    }
}

/// Removes a directory so that a crash half-way never leaves a partial
/// directory under its real name: it is renamed to `.rzero-old.NAME` first.
pub fn remove_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let old = sibling(dir, "old")?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(FsError::io("removing", &old))?;
    }
    std::fs::rename(dir, &old).map_err(FsError::io("renaming", dir))?;
    std::fs::remove_dir_all(&old).map_err(FsError::io("removing", &old))
}

/// Removes every temporary entry (`.rzero-*`) a killed writer left under
/// `root`, recursively; returns how many were removed.
pub fn sweep(root: &Path) -> Result<usize> {
    let mut removed = 0;
    let Ok(entries) = std::fs::read_dir(root) else {
        return Ok(0);
    };
    for entry in entries {
        let entry = entry.map_err(FsError::io("listing", root))?;
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(crate::TEMP_PREFIX)
        {
            let result = if is_dir {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            result.map_err(FsError::io("removing", &path))?;
            tracing::debug!(path = %path.display(), "removed a leftover temp entry");
            removed += 1;
        } else if is_dir {
            removed += sweep(&path)?;
        }
    }
    Ok(removed)
}
