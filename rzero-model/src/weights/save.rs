//! Saving in the HF layout that transformers' `from_pretrained` reads.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, bridge};
use safetensors::Dtype;
use safetensors::tensor::TensorView;

use super::{INDEX_FILE, SINGLE_FILE, hf_name};
use crate::error::{ModelError, Result};
use crate::hf_config::HfQwen3Config;
use crate::model::Qwen3;
use rzero_fs::write_atomic;

/// How [`save_pretrained`] writes weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveOptions {
    /// Above this many bytes of weights, the checkpoint is split into
    /// `model-0000i-of-0000n.safetensors` shards plus
    /// `model.safetensors.index.json` (transformers' default is 5 GB).
    pub max_shard_bytes: usize,
    /// Element type of the saved weights.
    pub dtype: SaveDtype,
}

impl Default for SaveOptions {
    fn default() -> Self {
        Self {
            max_shard_bytes: 5_000_000_000,
            dtype: SaveDtype::F32,
        }
    }
}

/// Element type of saved weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveDtype {
    /// Exact: a reload gives the same model bit for bit.
    F32,
    /// Half the size; each value rounded to nearest-even as torch does.
    BF16,
}

impl SaveDtype {
    pub(crate) fn safetensors(self) -> Dtype {
        match self {
            SaveDtype::F32 => Dtype::F32,
            SaveDtype::BF16 => Dtype::BF16,
        }
    }

    pub(crate) fn torch_name(self) -> &'static str {
        match self {
            SaveDtype::F32 => "float32",
            SaveDtype::BF16 => "bfloat16",
        }
    }

    fn encode(self, values: &[f32]) -> Vec<u8> {
        match self {
            SaveDtype::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            SaveDtype::BF16 => values
                .iter()
                .flat_map(|v| f32_to_bf16(*v).to_le_bytes())
                .collect(),
        }
    }
}

/// Round-to-nearest-even truncation of an f32 to its top 16 bits (NaN kept
/// a quiet NaN), the rounding of torch's `.to(torch.bfloat16)`.
pub(crate) fn f32_to_bf16(v: f32) -> u16 {
    let bits = v.to_bits();
    if v.is_nan() {
        return ((bits >> 16) | 0x0040) as u16;
    }
    let round = 0x7fff + ((bits >> 16) & 1);
    (bits.wrapping_add(round) >> 16) as u16
}

struct Entry {
    name: String,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

/// Writes `model` as an HF checkpoint into `dir` (created if needed):
/// `config.json` (from `hf`, with `torch_dtype` set to `options.dtype`) and
/// safetensors of that dtype (names and header order sorted, so the same
/// weights always give the same bytes),
/// sharded above [`SaveOptions::max_shard_bytes`]. Every file is written
/// atomically; weight files of an earlier save that this one does not
/// replace are removed so a reader never mixes two checkpoints.
pub fn save_pretrained(
    model: &Qwen3,
    hf: &HfQwen3Config,
    dir: &Path,
    options: &SaveOptions,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| ModelError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let entries = collect(model, dir, options.dtype)?;
    let shards = split(entries, options.max_shard_bytes);
    let n = shards.len();
    let mut weight_map = BTreeMap::new();
    let mut written = Vec::new();
    let mut total = 0usize;
    for (i, shard) in shards.iter().enumerate() {
        let file = if n == 1 {
            SINGLE_FILE.to_string()
        } else {
            format!("model-{:05}-of-{:05}.safetensors", i + 1, n)
        };
        let path = dir.join(&file);
        let bytes = serialize(shard, options.dtype, &path)?;
        write_atomic(&path, &bytes)?;
        for e in shard {
            total += e.bytes.len();
            weight_map.insert(e.name.clone(), file.clone());
        }
        written.push(file);
    }
    if n > 1 {
        let index = serde_json::json!({
            "metadata": { "total_size": total },
            "weight_map": weight_map,
        });
        write_json(&dir.join(INDEX_FILE), &index)?;
        written.push(INDEX_FILE.to_string());
    }
    remove_stale(dir, &written)?;
    let mut hf = hf.clone();
    let dtype_name = options.dtype.torch_name().to_string();
    if hf.dtype.is_some() {
        hf.dtype = Some(dtype_name.clone());
    }
    if hf.torch_dtype.is_some() || hf.dtype.is_none() {
        hf.torch_dtype = Some(dtype_name);
    }
    write_json(&dir.join("config.json"), &hf)
}

/// Every parameter in HF layout and naming, as little-endian `dtype` bytes.
fn collect(model: &Qwen3, dir: &Path, dtype: SaveDtype) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for tensor in model.collect(None, Some(Box::new(BurnToPyTorchAdapter)), false) {
        let name = hf_name(&tensor.name);
        let fail = |reason: String| ModelError::TensorData {
            name: name.clone(),
            file: dir.to_path_buf(),
            reason,
        };
        let data = bridge::into_data(tensor).map_err(|e| fail(e.to_string()))?;
        let data = data.convert::<f32>();
        let shape = data.shape().to_vec();
        let values = data.as_slice::<f32>().map_err(|e| fail(format!("{e:?}")))?;
        let bytes = dtype.encode(values);
        entries.push(Entry { name, shape, bytes });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// Greedy split in name order; a tensor larger than the limit gets its own shard.
fn split(entries: Vec<Entry>, max_bytes: usize) -> Vec<Vec<Entry>> {
    let mut shards: Vec<Vec<Entry>> = vec![Vec::new()];
    let mut size = 0;
    for e in entries {
        let last_nonempty = shards.last().is_some_and(|s| !s.is_empty());
        if last_nonempty && size + e.bytes.len() > max_bytes {
            shards.push(Vec::new());
            size = 0;
        }
        size += e.bytes.len();
        if let Some(shard) = shards.last_mut() {
            shard.push(e);
        }
    }
    shards
}

fn serialize(shard: &[Entry], dtype: SaveDtype, path: &Path) -> Result<Vec<u8>> {
    let err = |source| ModelError::Safetensors {
        path: path.to_path_buf(),
        source,
    };
    let mut views = Vec::with_capacity(shard.len());
    for e in shard {
        let view = TensorView::new(dtype.safetensors(), e.shape.clone(), &e.bytes).map_err(err)?;
        views.push((e.name.as_str(), view));
    }
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize(views, Some(metadata)).map_err(err)
}

pub(crate) fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(|source| ModelError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    text.push('\n');
    Ok(write_atomic(path, text.as_bytes())?)
}

/// Removes `model*.safetensors` / the index left by an earlier save.
pub(crate) fn remove_stale(dir: &Path, written: &[String]) -> Result<()> {
    let io = |source| ModelError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let name = entry
            .map_err(io)?
            .file_name()
            .to_string_lossy()
            .into_owned();
        let weights =
            name.starts_with("model") && (name.ends_with(".safetensors") || name == INDEX_FILE);
        if weights && !written.contains(&name) {
            std::fs::remove_file(dir.join(&name)).map_err(io)?;
        }
    }
    Ok(())
}
