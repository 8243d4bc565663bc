//! Streaming safetensors writer: the header is computed from names and
//! shapes alone, then each tensor's bytes are generated a chunk at a time
//! (in parallel) and appended, so memory stays at a few MB whatever the
//! model's size.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::values::NormalStream;
use super::{Init, TensorSpec};
use crate::error::{ModelError, Result};
use crate::weights::{INDEX_FILE, SINGLE_FILE, SaveDtype, f32_to_bf16, write_json};

/// Elements one thread generates per round.
const CHUNK: usize = 1 << 20;

/// Writes `tensors` as safetensors files in `dir`: `model.safetensors`, or
/// shards of at most `max_shard_bytes` of data plus the index. Returns the
/// file names written.
pub(super) fn write_weights(
    dir: &Path,
    tensors: &[TensorSpec],
    dtype: SaveDtype,
    seed: u64,
    max_shard_bytes: usize,
) -> Result<Vec<String>> {
    let shards = split(tensors, dtype, max_shard_bytes);
    let n = shards.len();
    let mut files = Vec::with_capacity(n + 1);
    let mut weight_map = Map::new();
    for (i, shard) in shards.iter().enumerate() {
        let file = if n == 1 {
            SINGLE_FILE.to_string()
        } else {
            format!("model-{:05}-of-{:05}.safetensors", i + 1, n)
        };
        write_file(&dir.join(&file), shard, dtype, seed)?;
        for t in shard.iter() {
            weight_map.insert(t.name.clone(), Value::from(file.clone()));
        }
        files.push(file);
    }
    if n > 1 {
        let total: usize = tensors.iter().map(|t| t.numel() * width(dtype)).sum();
        let index = json!({ "metadata": { "total_size": total }, "weight_map": weight_map });
        write_json(&dir.join(INDEX_FILE), &index)?;
        files.push(INDEX_FILE.to_string());
    }
    Ok(files)
}

/// Bytes per element.
fn width(dtype: SaveDtype) -> usize {
    match dtype {
        SaveDtype::F32 => 4,
        SaveDtype::BF16 => 2,
    }
}

/// Greedy split in name order; a tensor larger than the limit gets its own shard.
fn split(tensors: &[TensorSpec], dtype: SaveDtype, max_bytes: usize) -> Vec<&[TensorSpec]> {
    let mut shards = Vec::new();
    let (mut begin, mut size) = (0, 0);
    for (i, t) in tensors.iter().enumerate() {
        let bytes = t.numel() * width(dtype);
        if i > begin && size + bytes > max_bytes {
            shards.push(&tensors[begin..i]);
            (begin, size) = (i, 0);
        }
        size += bytes;
    }
    shards.push(&tensors[begin..]);
    shards
}

/// The 8-byte header length and the JSON header (keys sorted, tensors laid
/// out in the given order, padded with spaces to a multiple of 8 bytes).
pub(super) fn header(tensors: &[TensorSpec], dtype: SaveDtype) -> Vec<u8> {
    let name = match dtype {
        SaveDtype::F32 => "F32",
        SaveDtype::BF16 => "BF16",
    };
    let mut map = Map::new();
    map.insert("__metadata__".into(), json!({ "format": "pt" }));
    let mut offset = 0;
    for t in tensors {
        let end = offset + t.numel() * width(dtype);
        let entry = json!({ "dtype": name, "shape": t.shape, "data_offsets": [offset, end] });
        map.insert(t.name.clone(), entry);
        offset = end;
    }
    let mut text = Value::Object(map).to_string().into_bytes();
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    out
}

/// One safetensors file, written atomically.
fn write_file(path: &Path, tensors: &[TensorSpec], dtype: SaveDtype, seed: u64) -> Result<()> {
    let started = std::time::Instant::now();
    let io = |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    };
    rzero_fs::write_atomic_with(path, |file| -> Result<()> {
        file.write_all(&header(tensors, dtype)).map_err(io)?;
        for t in tensors {
            write_tensor(file, t, dtype, seed).map_err(io)?;
            tracing::debug!(tensor = %t.name, shape = ?t.shape, "random tensor written");
        }
        Ok(())
    })?;
    tracing::info!(file = %path.display(), tensors = tensors.len(),
        seconds = started.elapsed().as_secs_f64(), "random weights written");
    Ok(())
}

/// Appends one tensor's bytes, `threads × CHUNK` elements per round.
fn write_tensor(
    out: &mut impl Write,
    t: &TensorSpec,
    dtype: SaveDtype,
    seed: u64,
) -> std::io::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = t.numel();
    let round = CHUNK * threads;
    let mut buf = vec![0u8; round.min(n) * width(dtype)];
    let stream = match t.init {
        Init::Normal { std } => Some(NormalStream::new(seed, &t.name, std)),
        Init::Ones => None,
    };
    let mut start = 0;
    while start < n {
        let len = (n - start).min(round);
        let bytes = &mut buf[..len * width(dtype)];
        std::thread::scope(|s| {
            for (j, part) in bytes.chunks_mut(CHUNK * width(dtype)).enumerate() {
                let first = (start + j * CHUNK) as u64;
                s.spawn(move || encode(stream.as_ref(), first, part, dtype));
            }
        });
        out.write_all(bytes)?;
        start += len;
    }
    Ok(())
}

/// Fills `out` with the encoded elements from `first` on (ones without a stream).
fn encode(stream: Option<&NormalStream>, first: u64, out: &mut [u8], dtype: SaveDtype) {
    let w = width(dtype);
    let mut values = vec![1.0f32; 4096.min(out.len() / w)];
    let mut at = first;
    for bytes in out.chunks_mut(values.len().max(1) * w) {
        let values = &mut values[..bytes.len() / w];
        if let Some(stream) = stream {
            stream.fill(at, values);
        }
        for (v, b) in values.iter().zip(bytes.chunks_exact_mut(w)) {
            match dtype {
                SaveDtype::F32 => b.copy_from_slice(&v.to_le_bytes()),
                SaveDtype::BF16 => b.copy_from_slice(&f32_to_bf16(*v).to_le_bytes()),
            }
        }
        at += values.len() as u64;
    }
}

/// The paths of `files` in `dir`.
pub(super) fn paths(dir: &Path, files: &[String]) -> Vec<PathBuf> {
    files.iter().map(|f| dir.join(f)).collect()
}
