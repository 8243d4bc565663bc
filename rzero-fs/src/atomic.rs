//! Atomic file writes: a temp file beside the target (`tempfile`), fsync,
//! rename over the target, fsync of the directory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{FsError, Result};
use crate::fault::{self, Fault};

/// A file being written atomically. Write to it, then [`AtomicFile::commit`];
/// dropping it uncommitted deletes the temp file and leaves the target as it was.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    writer: BufWriter<NamedTempFile>,
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl AtomicFile {
    /// Opens a temp file `.rzero-tmp.*` beside `target`, creating missing
    /// parent directories.
    pub fn create(target: impl AsRef<Path>) -> Result<Self> {
        let target = target.as_ref().to_path_buf();
        if target.file_name().is_none() {
            return Err(FsError::Io {
                action: "writing",
                path: target,
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "path has no file name",
                ),
            });
        }
        let dir = parent(&target);
        std::fs::create_dir_all(dir).map_err(FsError::io("creating directory", dir))?;
        let temp = tempfile::Builder::new()
            .prefix(&format!("{}tmp.", crate::TEMP_PREFIX))
            .tempfile_in(dir)
            .map_err(FsError::io("creating a temp file in", dir))?;
        Ok(Self {
            target,
            writer: BufWriter::new(temp),
        })
    }

    /// The path the file will have once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes, fsyncs, renames over the target and fsyncs the directory.
    pub fn commit(self) -> Result<()> {
        let fault = fault::check(&self.target);
        self.commit_with(fault)
    }

    fn commit_with(self, planned: Fault) -> Result<()> {
        let target = self.target;
        let temp = self
            .writer
            .into_inner()
            .map_err(|e| FsError::io("writing", &target)(e.into_error()))?;
        match planned {
            Fault::Fail => return Err(FsError::io("writing", &target)(fault::injected())),
            Fault::Abort => std::process::abort(),
            Fault::None => {}
        }
        temp.as_file()
            .sync_all()
            .map_err(FsError::io("syncing", &target))?;
        temp.persist(&target)
            .map_err(|e| FsError::io("renaming into", &target)(e.error))?;
        sync_dir(parent(&target))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

/// Fsyncs a directory so renames inside it survive a power cut (no-op where
/// directories cannot be opened).
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(FsError::io("syncing directory", dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes `path` atomically with whatever `write` puts into the writer. If
/// `write` fails, its error is returned and the old file stays as it was.
pub fn write_atomic_with<E, F>(path: impl AsRef<Path>, write: F) -> std::result::Result<(), E>
where
    E: From<FsError>,
    F: FnOnce(&mut AtomicFile) -> std::result::Result<(), E>,
{
    let mut file = AtomicFile::create(path)?;
    write(&mut file)?;
    Ok(file.commit()?)
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let path = path.as_ref();
    let fault = fault::check(path);
    let mut file = AtomicFile::create(path)?;
    if fault == Fault::Abort {
        // Half the bytes reach the temp file, then the process dies.
        let _ = file.write_all(&bytes[..bytes.len() / 2]);
        let _ = file.flush();
        std::process::abort();
    }
    file.write_all(bytes)
        .map_err(FsError::io("writing", path))?;
    file.commit_with(fault)
}

/// Writes `value` as pretty JSON (struct field order, then a newline) atomically.
pub fn write_json<T: serde::Serialize + ?Sized>(path: impl AsRef<Path>, value: &T) -> Result<()> {
    let path = path.as_ref();
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| FsError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn failed_write_keeps_old_file_and_removes_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write_atomic(&path, b"old").unwrap();
        let result = write_atomic_with(&path, |f: &mut AtomicFile| {
            f.write_all(b"half of the new").unwrap();
            Err(FsError::damaged(&path, "writer failed mid-way"))
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(entries(dir.path()), vec!["state.json"]);
    }

    #[test]
    fn commit_replaces_and_drop_discards() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"one").unwrap();
        {
            let mut f = AtomicFile::create(&path).unwrap();
            f.write_all(b"two").unwrap();
            f.flush().unwrap();
            assert_eq!(
                std::fs::read(&path).unwrap(),
                b"one",
                "visible before commit"
            );
        }
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"three").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"three");
        assert_eq!(entries(dir.path()), vec!["a.txt"]);
    }

    #[test]
    fn missing_parent_directories_are_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/x.json");
        write_json(&path, &[1, 2]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[\n  1,\n  2\n]\n");
    }

    #[test]
    fn a_parent_that_is_a_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nope"), b"file").unwrap();
        let err = write_atomic(dir.path().join("nope/x.json"), b"x").unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
