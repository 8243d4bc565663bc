//! Atomic file writes: a temp file in the same directory, flushed, fsynced
//! and renamed over the target, so a reader (or a crash, or `kill -9`) sees
//! either the old file or the complete new one, never a torn one.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{DataError, Result};

/// Distinguishes temp files of concurrent writers in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A file being written atomically. Write to it, then [`AtomicFile::commit`];
/// dropping it without committing deletes the temp file and leaves any
/// existing file at the target path untouched.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Opens a temp file `.{name}.{pid}.{n}.tmp` next to `target` (creating
    /// the parent directory if needed).
    pub fn create(target: impl AsRef<Path>) -> Result<Self> {
        let target = target.as_ref().to_path_buf();
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                DataError::io(
                    &target,
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, "path has no file name"),
                )
            })?;
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = target.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()));
        // A missing parent is created, so callers can write into fresh run layouts.
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
        }
        let file = File::create(&temp).map_err(|e| DataError::io(&temp, e))?;
        Ok(Self {
            target,
            temp,
            writer: Some(BufWriter::new(file)),
        })
    }

    /// The path the file will have once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes, fsyncs, renames the temp file over the target and fsyncs the
    /// directory (on Unix) so the rename itself is durable.
    pub fn commit(mut self) -> Result<()> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let file = writer
            .into_inner()
            .map_err(|e| DataError::io(&self.temp, e.into_error()))?;
        file.sync_all().map_err(|e| DataError::io(&self.temp, e))?;
        drop(file);
        fs::rename(&self.temp, &self.target).map_err(|e| DataError::io(&self.target, e))?;
        sync_parent(&self.target)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.writer.as_mut() {
            Some(w) => w.write(buf),
            None => Err(std::io::Error::other("atomic file already committed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            // Not committed: the target keeps its old contents.
            if let Err(e) = fs::remove_file(&self.temp) {
                tracing::warn!(path = %self.temp.display(), error = %e, "cannot remove temp file");
            }
        }
    }
}

#[cfg(unix)]
fn sync_parent(target: &Path) -> Result<()> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| DataError::io(dir, e))
}

#[cfg(not(unix))]
fn sync_parent(_target: &Path) -> Result<()> {
    Ok(())
}

/// Writes `path` atomically with whatever `write` puts into the writer. If
/// `write` fails, the error is returned and the old file stays as it was.
pub fn atomic_write<F>(path: impl AsRef<Path>, write: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> Result<()>,
{
    let mut file = AtomicFile::create(path)?;
    write(&mut file)?;
    file.commit()
}

/// Writes `bytes` to `path` atomically.
pub fn atomic_write_bytes(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let path = path.as_ref();
    atomic_write(path, |w| {
        w.write_all(bytes).map_err(|e| DataError::io(path, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_files(dir: &Path) -> usize {
        fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                    .count()
            })
            .unwrap_or(0)
    }

    #[test]
    fn failed_write_keeps_old_file_and_removes_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        atomic_write_bytes(&path, b"old").unwrap();
        let result = atomic_write(&path, |w| {
            w.write_all(b"half of the new").unwrap();
            Err(DataError::InvalidConfig {
                key: "test",
                reason: "writer failed mid-way".into(),
            })
        });
        assert!(result.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(temp_files(dir.path()), 0);
    }

    #[test]
    fn commit_replaces_and_drop_discards() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        atomic_write_bytes(&path, b"one").unwrap();
        {
            let mut f = AtomicFile::create(&path).unwrap();
            f.write_all(b"two").unwrap();
            assert_eq!(fs::read(&path).unwrap(), b"one", "visible before commit");
        }
        assert_eq!(fs::read(&path).unwrap(), b"one");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"three").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"three");
        assert_eq!(temp_files(dir.path()), 0);
    }

    #[test]
    fn missing_parent_directories_are_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/x.json");
        atomic_write_bytes(&path, b"x").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"x");
    }

    #[test]
    fn a_parent_that_is_a_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("nope"), b"file").unwrap();
        let err = atomic_write_bytes(dir.path().join("nope/x.json"), b"x").unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
