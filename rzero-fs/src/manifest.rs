//! `manifest.json`: what a sealed directory holds, so a resume can check it
//! before trusting it.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{FsError, Result};

/// File name of the manifest inside a sealed directory.
pub const MANIFEST: &str = "manifest.json";

const FORMAT: &str = "rzero-manifest-v1";

/// One file of a sealed directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Path relative to the directory, `/`-separated.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// CRC-32 (IEEE) of the contents, 8 hex digits.
    pub crc32: String,
}

/// The files of a sealed directory, sorted by name (so equal contents give
/// equal manifest bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format tag.
    pub format: String,
    /// Every file but the manifest itself.
    pub files: Vec<ManifestEntry>,
}

/// Size and CRC-32 of a file, reading it once.
fn checksum(path: &Path) -> Result<(u64, String)> {
    let mut file = std::fs::File::open(path).map_err(FsError::io("reading", path))?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(FsError::io("reading", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, format!("{:08x}", hasher.finalize())))
}

/// Relative paths of the files under `dir` (recursively), skipping the
/// manifest and temporary entries.
fn files(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(FsError::io("listing", dir))? {
        let entry = entry.map_err(FsError::io("listing", dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(crate::TEMP_PREFIX) || (prefix.is_empty() && name == MANIFEST) {
            continue;
        }
        let path = entry.path();
        let rel = format!("{prefix}{name}");
        if path.is_dir() {
            files(&path, &format!("{rel}/"), out)?;
        } else {
            out.push((rel, path));
        }
    }
    Ok(())
}

impl Manifest {
    /// Describes the files now in `dir`, fsyncing each (they are about to be
    /// sealed).
    pub fn build(dir: &Path) -> Result<Self> {
        let mut found = Vec::new();
        files(dir, "", &mut found)?;
        found.sort();
        let mut entries = Vec::with_capacity(found.len());
        for (name, path) in found {
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(FsError::io("syncing", &path))?;
            let (size, crc32) = checksum(&path)?;
            entries.push(ManifestEntry { name, size, crc32 });
        }
        Ok(Self {
            format: FORMAT.into(),
            files: entries,
        })
    }

    /// Reads `dir/manifest.json`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FsError::damaged(
                    path,
                    "missing: the directory was never completed",
                ));
            }
            Err(e) => return Err(FsError::io("reading", path)(e)),
        };
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| FsError::damaged(&path, format!("unreadable manifest: {e}")))?;
        if manifest.format != FORMAT {
            return Err(FsError::damaged(
                path,
                format!("format {:?}, expected {FORMAT:?}", manifest.format),
            ));
        }
        Ok(manifest)
    }
}

/// Checks every file listed in `dir/manifest.json`: present, of the listed
/// size and checksum. The error names the first file that is not.
pub fn verify_dir(dir: &Path) -> Result<Manifest> {
    let manifest = Manifest::read(dir)?;
    for entry in &manifest.files {
        let path = dir.join(&entry.name);
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FsError::damaged(path, "missing"));
            }
            Err(e) => return Err(FsError::io("reading", path)(e)),
        };
        if meta.len() != entry.size {
            return Err(FsError::damaged(
                path,
                format!("{} bytes, the manifest says {}", meta.len(), entry.size),
            ));
        }
        let (_, crc32) = checksum(&path)?;
        if crc32 != entry.crc32 {
            return Err(FsError::damaged(
                path,
                format!("checksum {crc32}, the manifest says {}", entry.crc32),
            ));
        }
    }
    Ok(manifest)
}
