//! Random checkpoints with the exact shapes of published Qwen3 models, for
//! tests and benchmarks at real scale without a model hub.
//!
//! [`write`] produces a complete Hugging Face model directory:
//! `config.json` (transformers 4.x layout, `torch_dtype` set),
//! `model.safetensors` (or shards plus the index above
//! [`RandomCheckpoint::max_shard_bytes`]), `generation_config.json`, and the
//! tokenizer of rzero's built-in tiny model (`tokenizer.json`,
//! `tokenizer_config.json`, copied from `rzero-core/models/tiny`). That
//! tokenizer knows 758 tokens, fewer than the 151 936 embedding rows, as
//! real Qwen3's 151 669 tokens are; rows past it are never produced by
//! encoding, and decoding skips them.
//!
//! Weights follow transformers' init: `N(0, initializer_range)` for the
//! embedding and every projection, ones for the norm weights. Element `i`
//! of tensor `name` depends only on `(seed, name, i)`
//! ([`RandomCheckpoint::value`]), so the same spec always gives the same
//! bytes. Tensors are generated a chunk at a time while the file is
//! written: memory stays at a few MB for any size.
//!
//! ```
//! use rzero_model::random_checkpoint::{Preset, RandomCheckpoint, write_config};
//!
//! let dir = tempfile::tempdir()?;
//! let spec = RandomCheckpoint::preset(Preset::Qwen3_8B);
//! write_config(dir.path(), &spec)?; // config only: no weights
//! let hf = rzero_model::HfQwen3Config::from_file(&dir.path().join("config.json"))?;
//! assert_eq!((hf.num_hidden_layers, hf.tie_word_embeddings), (36, Some(false)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod preset;
mod values;
mod writer;

use std::path::{Path, PathBuf};

pub use preset::{Preset, UnknownPreset};

use crate::config::Qwen3Config;
use crate::error::{ModelError, Result};
use crate::generation_config::GenerationConfig;
use crate::hf_config::{HfQwen3Config, TokenIds};
use crate::weights::{SaveDtype, remove_stale, write_json};
use values::NormalStream;

/// `tokenizer.json` of the built-in tiny model.
const TOKENIZER_JSON: &[u8] = include_bytes!("tokenizer/tokenizer.json");
/// `tokenizer_config.json` of the built-in tiny model (chat template included).
const TOKENIZER_CONFIG_JSON: &[u8] = include_bytes!("tokenizer/tokenizer_config.json");
/// `<|endoftext|>` in that tokenizer (Qwen3's 151643): BOS and pad.
const ENDOFTEXT_ID: u32 = 0;
/// `<|im_end|>` in that tokenizer (Qwen3's 151645): the chat EOS.
const IM_END_ID: u32 = 2;

/// What [`write`] produces: a shape, a seed and a dtype.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomCheckpoint {
    /// The model's shape.
    pub config: Qwen3Config,
    /// Seed of every tensor's values.
    pub seed: u64,
    /// Element type of the weights (HF ships Qwen3 in BF16).
    pub dtype: SaveDtype,
    /// Above this many bytes of weights the file is split into shards
    /// (transformers' default, 5 GB: the 0.6B shape stays one file).
    pub max_shard_bytes: usize,
}

/// How a tensor is initialised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// `N(0, std)` values.
    Normal {
        /// Standard deviation.
        std: f64,
    },
    /// All ones (RMSNorm weights).
    Ones,
}

/// One tensor of the checkpoint, in HF naming and layout.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorSpec {
    /// HF tensor name (`model.layers.0.self_attn.q_proj.weight`).
    pub name: String,
    /// Shape in the HF (PyTorch) layout: linear weights are `[out, in]`.
    pub shape: Vec<usize>,
    /// How its values are drawn.
    pub init: Init,
}

impl TensorSpec {
    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// What [`write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Weight files (and the index when sharded), in `dir`.
    pub weight_files: Vec<PathBuf>,
    /// Number of tensors.
    pub tensors: usize,
    /// Number of parameters.
    pub parameters: usize,
}

impl RandomCheckpoint {
    /// A BF16 checkpoint of `config`, seed 0, one file up to 5 GB.
    pub fn new(config: Qwen3Config) -> Self {
        Self {
            config,
            seed: 0,
            dtype: SaveDtype::BF16,
            max_shard_bytes: 5_000_000_000,
        }
    }

    /// A BF16 checkpoint of a published shape.
    pub fn preset(preset: Preset) -> Self {
        Self::new(preset.config())
    }

    /// The same shape cut to its first `layers` decoder blocks.
    pub fn with_layers(mut self, layers: usize) -> Self {
        self.config.num_hidden_layers = layers;
        self
    }

    /// Another seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Another element type.
    pub fn with_dtype(mut self, dtype: SaveDtype) -> Self {
        self.dtype = dtype;
        self
    }

    /// The `config.json` contents, with the bundled tokenizer's special ids.
    pub fn hf_config(&self) -> HfQwen3Config {
        let mut hf = HfQwen3Config::from_config(&self.config);
        hf.torch_dtype = Some(self.dtype.torch_name().to_string());
        hf.bos_token_id = Some(TokenIds::One(ENDOFTEXT_ID));
        hf.eos_token_id = Some(TokenIds::One(IM_END_ID));
        hf
    }

    /// The `generation_config.json` contents: Qwen3's, with the bundled
    /// tokenizer's ids (EOS `<|im_end|>` then `<|endoftext|>`).
    pub fn generation_config(&self) -> GenerationConfig {
        GenerationConfig {
            bos_token_id: Some(ENDOFTEXT_ID),
            eos_token_id: vec![IM_END_ID, ENDOFTEXT_ID],
            pad_token_id: Some(ENDOFTEXT_ID),
            do_sample: Some(true),
            temperature: Some(0.6),
            top_p: Some(0.95),
            top_k: Some(20),
            other: serde_json::Map::new(),
        }
    }

    /// Every tensor, sorted by name (the order of the file).
    pub fn tensors(&self) -> Vec<TensorSpec> {
        let c = &self.config;
        let (d, hd, ffn) = (c.hidden_size, c.head_dim, c.intermediate_size);
        let (q, kv) = (c.num_attention_heads * hd, c.num_key_value_heads * hd);
        let normal = Init::Normal {
            std: c.initializer_range,
        };
        let spec = |name: String, shape: Vec<usize>, init| TensorSpec { name, shape, init };
        let mut out = vec![
            spec(
                "model.embed_tokens.weight".into(),
                vec![c.vocab_size, d],
                normal,
            ),
            spec("model.norm.weight".into(), vec![d], Init::Ones),
        ];
        if !c.tie_word_embeddings {
            out.push(spec("lm_head.weight".into(), vec![c.vocab_size, d], normal));
        }
        for i in 0..c.num_hidden_layers {
            let layer = [
                ("self_attn.q_proj", vec![q, d], normal),
                ("self_attn.k_proj", vec![kv, d], normal),
                ("self_attn.v_proj", vec![kv, d], normal),
                ("self_attn.o_proj", vec![d, q], normal),
                ("self_attn.q_norm", vec![hd], Init::Ones),
                ("self_attn.k_norm", vec![hd], Init::Ones),
                ("mlp.gate_proj", vec![ffn, d], normal),
                ("mlp.up_proj", vec![ffn, d], normal),
                ("mlp.down_proj", vec![d, ffn], normal),
                ("input_layernorm", vec![d], Init::Ones),
                ("post_attention_layernorm", vec![d], Init::Ones),
            ];
            for (name, shape, init) in layer {
                out.push(spec(format!("model.layers.{i}.{name}.weight"), shape, init));
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Element `index` (row-major, HF layout) of tensor `name` as an f32,
    /// before rounding to [`RandomCheckpoint::dtype`]; `None` for a name
    /// the checkpoint lacks or an index past its end.
    pub fn value(&self, name: &str, index: usize) -> Option<f32> {
        let t = self.tensors().into_iter().find(|t| t.name == name)?;
        if index >= t.numel() {
            return None;
        }
        Some(match t.init {
            Init::Normal { std } => NormalStream::new(self.seed, name, std).value(index as u64),
            Init::Ones => 1.0,
        })
    }

    /// The config rzero would load, or the error loading would give.
    fn validate(&self, dir: &Path) -> Result<Qwen3Config> {
        self.hf_config().to_config(&dir.join("config.json"))
    }
}

/// Writes the whole model directory `dir` (created if needed): weights
/// first, then `config.json`, `generation_config.json` and the tokenizer
/// files, each atomically. Weight files of an earlier checkpoint there that
/// this one does not replace are removed.
pub fn write(dir: &Path, spec: &RandomCheckpoint) -> Result<Written> {
    let config = spec.validate(dir)?;
    create_dir(dir)?;
    let tensors = spec.tensors();
    tracing::info!(dir = %dir.display(), parameters = config.num_params(),
        dtype = spec.dtype.torch_name(), "writing a random checkpoint");
    let files = writer::write_weights(dir, &tensors, spec.dtype, spec.seed, spec.max_shard_bytes)?;
    remove_stale(dir, &files)?;
    write_side_files(dir, spec)?;
    Ok(Written {
        weight_files: writer::paths(dir, &files),
        tensors: tensors.len(),
        parameters: tensors.iter().map(TensorSpec::numel).sum(),
    })
}

/// Writes the directory without weights (for planners that read only the
/// config): `config.json`, `generation_config.json` and the tokenizer files.
/// Weight files already there are removed, since they would not match.
pub fn write_config(dir: &Path, spec: &RandomCheckpoint) -> Result<()> {
    spec.validate(dir)?;
    create_dir(dir)?;
    remove_stale(dir, &[])?;
    write_side_files(dir, spec)
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| ModelError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn write_side_files(dir: &Path, spec: &RandomCheckpoint) -> Result<()> {
    rzero_fs::write_atomic(dir.join("tokenizer.json"), TOKENIZER_JSON)?;
    rzero_fs::write_atomic(dir.join("tokenizer_config.json"), TOKENIZER_CONFIG_JSON)?;
    write_json(
        &dir.join("generation_config.json"),
        &spec.generation_config(),
    )?;
    write_json(&dir.join("config.json"), &spec.hf_config())
}

#[cfg(test)]
mod tests;
