//! Crash-safe files for long training runs.
//!
//! Every file rzero writes goes through this crate, so one set of rules holds
//! everywhere:
//! - [`write_atomic`] / [`AtomicFile`]: temp file beside the target, fsync,
//!   rename, fsync of the directory. A crash leaves the old file or the new
//!   one, never a torn one.
//! - [`StagedDir`]: a directory of files (a checkpoint) written under a
//!   hidden sibling name, sealed with a [`Manifest`] (names, sizes, CRC-32),
//!   fsynced and renamed into place. Until the rename, the target keeps its
//!   old contents (or does not exist); after it, the whole directory is there.
//! - [`verify_dir`]: checks a directory against its manifest, naming the
//!   first file that is missing, short, long or changed.
//! - [`sweep`]: removes what a killed writer left behind.
//! - [`sorted_safetensors_header`]: safetensors bytes with the header in
//!   sorted key order, so equal tensors give equal files.
//! - [`fault`]: a test hook that fails or kills the n-th write to a path.
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let staged = rzero_fs::StagedDir::create(dir.path().join("step_001"))?;
//! rzero_fs::write_atomic(staged.path().join("weights.bin"), b"0123")?;
//! let done = staged.commit()?;
//! let manifest = rzero_fs::verify_dir(&done)?;
//! assert_eq!(manifest.files[0].size, 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod atomic;
mod error;
pub mod fault;
mod manifest;
mod safetensors_header;
mod staged;

pub use atomic::{AtomicFile, sync_dir, write_atomic, write_atomic_with, write_json};
pub use error::{FsError, Result};
pub use manifest::{MANIFEST, Manifest, ManifestEntry, verify_dir};
pub use safetensors_header::sorted_safetensors_header;
pub use staged::{StagedDir, remove_dir, sweep};

/// Prefix of every temporary entry this crate creates; [`sweep`] removes them.
pub const TEMP_PREFIX: &str = ".rzero-";
