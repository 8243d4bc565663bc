//! Streaming JSON Lines: a reader that yields one typed record per line and
//! names file and line on a malformed one, and an atomic writer.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{DataError, Result};
use rzero_fs::AtomicFile;

/// What a reader does with a line that does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnMalformed {
    /// Yield [`DataError::BadJsonl`] (with path and 1-based line) and stop.
    #[default]
    Error,
    /// Log a warning, count the line ([`JsonlReader::skipped`]) and go on.
    Skip,
}

/// Iterator over the records of a JSONL file. Blank lines are ignored.
#[derive(Debug)]
pub struct JsonlReader<T> {
    path: PathBuf,
    reader: BufReader<File>,
    line: usize,
    on_malformed: OnMalformed,
    skipped: usize,
    done: bool,
    buf: Vec<u8>,
    record: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> JsonlReader<T> {
    /// Opens `path`; malformed lines are errors until
    /// [`JsonlReader::on_malformed`] says otherwise.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|e| DataError::io(&path, e))?;
        Ok(Self {
            path,
            reader: BufReader::new(file),
            line: 0,
            on_malformed: OnMalformed::Error,
            skipped: 0,
            done: false,
            buf: Vec::new(),
            record: PhantomData,
        })
    }

    /// Sets the policy for malformed lines.
    #[must_use]
    pub fn on_malformed(mut self, policy: OnMalformed) -> Self {
        self.on_malformed = policy;
        self
    }

    /// How many malformed lines were skipped so far.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl<T: DeserializeOwned> Iterator for JsonlReader<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => self.done = true,
                Ok(_) => {
                    self.line += 1;
                    if self.buf.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match serde_json::from_slice::<T>(&self.buf) {
                        Ok(record) => return Some(Ok(record)),
                        Err(source) if self.on_malformed == OnMalformed::Skip => {
                            tracing::warn!(path = %self.path.display(), line = self.line,
                                error = %source, "skipping malformed jsonl line");
                            self.skipped += 1;
                        }
                        Err(source) => {
                            self.done = true;
                            return Some(Err(DataError::BadJsonl {
                                path: self.path.clone(),
                                line: self.line,
                                source,
                            }));
                        }
                    }
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(DataError::io(&self.path, e)));
                }
            }
        }
        None
    }
}

/// Reads every record of `path`; the first malformed line is an error.
pub fn read_jsonl<T: DeserializeOwned>(path: impl AsRef<Path>) -> Result<Vec<T>> {
    JsonlReader::open(path)?.collect()
}

/// Reads every well-formed record of `path` and returns how many malformed
/// lines were skipped.
pub fn read_jsonl_skipping<T: DeserializeOwned>(path: impl AsRef<Path>) -> Result<(Vec<T>, usize)> {
    let mut reader = JsonlReader::open(path)?.on_malformed(OnMalformed::Skip);
    let records = reader.by_ref().collect::<Result<Vec<T>>>()?;
    Ok((records, reader.skipped()))
}

/// Reads one JSON document (a state or metadata file) from `path`.
pub fn read_json<T: DeserializeOwned>(path: impl AsRef<Path>) -> Result<T> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|source| DataError::BadJson {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `value` as pretty JSON (with a final newline) to `path`,
/// atomically.
pub fn write_json<T: Serialize + ?Sized>(path: impl AsRef<Path>, value: &T) -> Result<()> {
    Ok(rzero_fs::write_json(path, value)?)
}

/// Writes records as JSONL to a temp file and renames it over the target on
/// [`AtomicJsonlWriter::finish`]. Dropped unfinished, it leaves the target as
/// it was.
#[derive(Debug)]
pub struct AtomicJsonlWriter<T> {
    file: AtomicFile,
    count: usize,
    record: PhantomData<fn(&T)>,
}

impl<T: Serialize> AtomicJsonlWriter<T> {
    /// Starts writing `path`.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        Ok(Self {
            file: AtomicFile::create(path)?,
            count: 0,
            record: PhantomData,
        })
    }

    /// Appends one record as one line.
    pub fn write(&mut self, record: &T) -> Result<()> {
        let mut line = serde_json::to_vec(record).map_err(|source| DataError::Serialize {
            path: self.file.target().to_path_buf(),
            source,
        })?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .map_err(|e| DataError::io(self.file.target(), e))?;
        self.count += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Commits the file; returns the number of records.
    pub fn finish(self) -> Result<usize> {
        let count = self.count;
        self.file.commit()?;
        Ok(count)
    }
}

/// Writes all `records` to `path` atomically; returns how many.
pub fn write_jsonl<'a, T, I>(path: impl AsRef<Path>, records: I) -> Result<usize>
where
    T: Serialize + 'a,
    I: IntoIterator<Item = &'a T>,
{
    let mut writer = AtomicJsonlWriter::create(path)?;
    for record in records {
        writer.write(record)?;
    }
    writer.finish()
}
