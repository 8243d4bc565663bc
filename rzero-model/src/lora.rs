//! LoRA: low-rank adapters on the attention and MLP projections, PEFT-compatible files.
//!
//! Built on burn's reparameterization (`burn::module::LoraAdapter`): an adapted
//! `Linear` keeps its frozen base weight `W` (`[in, out]` in burn) and computes
//! with `W + (alpha / r) · A · B`, `A: [in, r]`, `B: [r, out]`; the factors are
//! ordinary parameters, so autodiff, [`burn::optim`] and records see them and
//! nothing else.
//!
//! - [`apply_lora`]: adapters on the [`LoraConfig::targets`] of every layer,
//!   every other parameter (norms, embeddings, LM head, untargeted weights)
//!   frozen. `B = 0`, so the model computes exactly what it did before;
//!   `A ~ U(−1/√in, 1/√in)`, PEFT's default (Kaiming-uniform, `a = √5`),
//!   drawn on the host from a seed, so equal seeds give equal adapters on
//!   every device.
//! - [`trainable_params`]: what an optimizer updates, `Σ r·(in + out)` over
//!   the adapted weights.
//! - [`save_peft_adapter`] / [`load_peft_adapter`]: `adapter_config.json` +
//!   `adapter_model.safetensors` as PEFT writes and reads them
//!   (`base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight`,
//!   `lora_A: [r, in]`, `lora_B: [out, r]`, PyTorch layout).
//! - [`merge_lora`]: the plain model with `W + scale·A·B` as its weights, for
//!   [`crate::save_pretrained`] (a full HF checkpoint for transformers, vLLM,
//!   SGLang or the next training phase) and for fast sampling (an adapted
//!   model recomposes every adapted weight at each forward).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use burn::module::{LoraAdapter, Param, Reparameterizer};
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::DType;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ModelError, Result};
use crate::model::{DecoderLayer, Qwen3};

/// PEFT's adapter config file name.
pub const ADAPTER_CONFIG_FILE: &str = "adapter_config.json";
/// PEFT's adapter weights file name.
pub const ADAPTER_WEIGHTS_FILE: &str = "adapter_model.safetensors";
/// Prefix PEFT puts before a causal LM's module names
/// (`PeftModelForCausalLM.base_model` → `LoraModel.model` → `Qwen3ForCausalLM.model`).
const PEFT_PREFIX: &str = "base_model.model.model.";

/// A weight matrix LoRA can adapt, named as in Hugging Face Qwen3 (and PEFT's
/// `target_modules`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoraTarget {
    /// `self_attn.q_proj`.
    QProj,
    /// `self_attn.k_proj`.
    KProj,
    /// `self_attn.v_proj`.
    VProj,
    /// `self_attn.o_proj`.
    OProj,
    /// `mlp.gate_proj`.
    GateProj,
    /// `mlp.up_proj`.
    UpProj,
    /// `mlp.down_proj`.
    DownProj,
}

impl LoraTarget {
    /// Every target, in HF module order.
    pub const ALL: [LoraTarget; 7] = [
        Self::QProj,
        Self::KProj,
        Self::VProj,
        Self::OProj,
        Self::GateProj,
        Self::UpProj,
        Self::DownProj,
    ];

    /// The HF module name (`q_proj`, ..., `down_proj`).
    pub fn name(self) -> &'static str {
        match self {
            Self::QProj => "q_proj",
            Self::KProj => "k_proj",
            Self::VProj => "v_proj",
            Self::OProj => "o_proj",
            Self::GateProj => "gate_proj",
            Self::UpProj => "up_proj",
            Self::DownProj => "down_proj",
        }
    }

    /// The block sub-module holding it (`self_attn` or `mlp`).
    pub fn parent(self) -> &'static str {
        match self {
            Self::QProj | Self::KProj | Self::VProj | Self::OProj => "self_attn",
            Self::GateProj | Self::UpProj | Self::DownProj => "mlp",
        }
    }

    /// The target's `Linear` in a decoder layer.
    pub fn linear(self, layer: &DecoderLayer) -> &Linear {
        match self {
            Self::QProj => &layer.self_attn.q_proj,
            Self::KProj => &layer.self_attn.k_proj,
            Self::VProj => &layer.self_attn.v_proj,
            Self::OProj => &layer.self_attn.o_proj,
            Self::GateProj => &layer.mlp.gate_proj,
            Self::UpProj => &layer.mlp.up_proj,
            Self::DownProj => &layer.mlp.down_proj,
        }
    }

    /// burn module path of the weight in layer `layer` (`layers.0.self_attn.q_proj.weight`).
    fn weight_path(self, layer: usize) -> String {
        format!("layers.{layer}.{}.{}.weight", self.parent(), self.name())
    }

    /// PEFT tensor name of factor `A` or `B` in layer `layer`.
    fn peft_key(self, layer: usize, factor: char) -> String {
        format!(
            "{PEFT_PREFIX}layers.{layer}.{}.{}.lora_{factor}.weight",
            self.parent(),
            self.name()
        )
    }
}

impl fmt::Display for LoraTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LoraTarget {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| ModelError::Lora {
                reason: format!(
                    "unknown target `{s}` (expected one of {})",
                    Self::ALL.map(Self::name).join(", ")
                ),
            })
    }
}

/// Which weights get adapters, and their rank and scaling (`alpha / rank`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoraConfig {
    /// Rank `r` of each adapter (≥ 1).
    pub rank: usize,
    /// Scaling numerator: the update is `(alpha / rank) · A · B` (PEFT's `lora_alpha`).
    pub alpha: f64,
    /// Adapted weights, in every layer.
    pub targets: Vec<LoraTarget>,
}

impl LoraConfig {
    /// A config; check it with [`LoraConfig::validate`] (the functions of
    /// this module do).
    pub fn new(rank: usize, alpha: f64, targets: Vec<LoraTarget>) -> Self {
        Self {
            rank,
            alpha,
            targets,
        }
    }

    /// Adapters on all seven projections (q, k, v, o, gate, up, down).
    pub fn all_targets(rank: usize, alpha: f64) -> Self {
        Self::new(rank, alpha, LoraTarget::ALL.to_vec())
    }

    /// `alpha / rank`.
    pub fn scale(&self) -> f64 {
        self.alpha / self.rank as f64
    }

    /// Rank ≥ 1, alpha finite and > 0, at least one target, none twice.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| Err(ModelError::Lora { reason });
        if self.rank == 0 {
            return bad("rank must be at least 1".into());
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return bad(format!("alpha must be finite and > 0, got {}", self.alpha));
        }
        if self.targets.is_empty() {
            return bad("no targets".into());
        }
        let mut seen = BTreeSet::new();
        for t in &self.targets {
            if !seen.insert(*t) {
                return bad(format!("target `{t}` listed twice"));
            }
        }
        Ok(())
    }

    /// Targets in HF module order (the order files list them in).
    fn sorted_targets(&self) -> Vec<LoraTarget> {
        let set: BTreeSet<LoraTarget> = self.targets.iter().copied().collect();
        set.into_iter().collect()
    }
}

/// Attaches adapters to the target weights of `model` and freezes every
/// other parameter (and the bases). The adapted model computes exactly what
/// `model` did (`B = 0`) until its factors train; each `A` is drawn from
/// `U(−1/√in, 1/√in)` (PEFT's default) with a ChaCha8 stream of `seed` and
/// the weight's path, so it does not depend on the device or on other weights.
///
/// Fails when the config is invalid or `model` already has adapters
/// ([`merge_lora`] them first).
pub fn apply_lora(model: Qwen3, config: &LoraConfig, seed: u64) -> Result<Qwen3> {
    config.validate()?;
    attach(
        model,
        config,
        Init::Random(seed),
        Path::new(ADAPTER_WEIGHTS_FILE),
    )
}

/// Whether any weight of `model` carries a LoRA adapter.
pub fn has_lora(model: &Qwen3) -> bool {
    model.layers.iter().any(|layer| {
        LoraTarget::ALL
            .iter()
            .any(|t| t.linear(layer).weight.adapter().is_some())
    })
}

/// Parameters an optimizer updates: the elements of the adapter factors
/// (`Σ r·(in + out)` over the adapted weights) when `model` has adapters,
/// every parameter otherwise (full fine-tuning).
pub fn trainable_params(model: &Qwen3) -> usize {
    if !has_lora(model) {
        return model.num_params();
    }
    model
        .layers
        .iter()
        .flat_map(|layer| LoraTarget::ALL.map(|t| t.linear(layer).weight.adapter()))
        .flatten()
        .map(|a| a.a.lazy_shape().num_elements() + a.b.lazy_shape().num_elements())
        .sum()
}

/// The plain model whose weights are the adapted ones, `W + (alpha/r)·A·B`:
/// no adapters left, every parameter trainable again (as after
/// [`crate::Qwen3Config::init`]). A model without adapters comes back as it
/// was. Save it with [`crate::save_pretrained`] for a full HF checkpoint;
/// sample from it (on the inference device: `merge_lora(model.valid())`)
/// rather than from the adapted model, which recomposes every adapted
/// weight at each forward.
pub fn merge_lora(model: Qwen3) -> Qwen3 {
    if !has_lora(&model) {
        return model;
    }
    model.materialize().unfreeze()
}

/// The fields of PEFT's `adapter_config.json` that rzero writes (PEFT 0.21
/// names); loading checks the ones that change the computation.
#[derive(Debug, Serialize)]
struct PeftConfigOut<'a> {
    alpha_pattern: BTreeMap<String, Value>,
    base_model_name_or_path: &'a str,
    bias: &'static str,
    exclude_modules: Option<Value>,
    fan_in_fan_out: bool,
    inference_mode: bool,
    init_lora_weights: bool,
    layers_pattern: Option<Value>,
    layers_to_transform: Option<Value>,
    lora_alpha: Value,
    lora_bias: bool,
    lora_dropout: f64,
    modules_to_save: Option<Value>,
    peft_type: &'static str,
    r: usize,
    rank_pattern: BTreeMap<String, Value>,
    revision: Option<Value>,
    target_modules: Vec<&'static str>,
    task_type: &'static str,
    use_dora: bool,
    use_rslora: bool,
}

/// Writes the adapters of `model` as a PEFT LoRA adapter into `dir`
/// (created if needed): `adapter_model.safetensors` (F32, PEFT names and
/// `[r, in]` / `[out, r]` layout, sorted) and `adapter_config.json`
/// (`peft_type: "LORA"`, `r`, `lora_alpha`, `target_modules`,
/// `base_model_name_or_path: base_model`, `task_type: "CAUSAL_LM"`, ...),
/// each written atomically, weights first. `peft.PeftModel.from_pretrained`
/// loads it onto the base model.
///
/// Keep it out of a directory that holds a full checkpoint of the merged
/// model: transformers (with peft installed) reads `config.json` beside
/// `adapter_config.json` as a base plus an adapter to apply on top, which
/// would add the update twice. A subdirectory is safe.
///
/// `config` must describe the adapters `model` carries (the one given to
/// [`apply_lora`] or returned by [`load_peft_adapter`]): same rank, scale and
/// targets, else an error.
pub fn save_peft_adapter(
    model: &Qwen3,
    config: &LoraConfig,
    base_model: &str,
    dir: &Path,
) -> Result<()> {
    config.validate()?;
    let wanted: BTreeSet<LoraTarget> = config.targets.iter().copied().collect();
    let weights_path = dir.join(ADAPTER_WEIGHTS_FILE);
    let mut entries: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (i, layer) in model.layers.iter().enumerate() {
        for t in LoraTarget::ALL {
            let adapter = t.linear(layer).weight.adapter();
            let at = || format!("layer {i} `{t}`");
            let adapter = match (adapter, wanted.contains(&t)) {
                (Some(a), true) => a,
                (None, false) => continue,
                (None, true) => {
                    return Err(ModelError::Lora {
                        reason: format!("{} has no adapter but the config targets it", at()),
                    });
                }
                (Some(_), false) => {
                    return Err(ModelError::Lora {
                        reason: format!("{} has an adapter the config does not target", at()),
                    });
                }
            };
            let [_, rank] = adapter.a.lazy_shape().dims::<2>();
            let scale_off = (adapter.scale - config.scale()).abs() > 1e-12 * config.scale();
            if rank != config.rank || scale_off {
                return Err(ModelError::Lora {
                    reason: format!(
                        "{} has rank {rank} and scale {}, the config says rank {} and scale {}",
                        at(),
                        adapter.scale,
                        config.rank,
                        config.scale()
                    ),
                });
            }
            for (factor, value) in [('A', adapter.a.val()), ('B', adapter.b.val())] {
                let name = t.peft_key(i, factor);
                // burn [in, r] / [r, out] → PEFT [r, in] / [out, r].
                let data = value.transpose().into_data().convert::<f32>();
                let shape = data.shape().to_vec();
                let values = data.as_slice::<f32>().map_err(|e| ModelError::TensorData {
                    name: name.clone(),
                    file: weights_path.clone(),
                    reason: format!("{e:?}"),
                })?;
                let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                entries.push((name, shape, bytes));
            }
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let st_err = |source| ModelError::Safetensors {
        path: weights_path.clone(),
        source,
    };
    let mut views = Vec::with_capacity(entries.len());
    for (name, shape, bytes) in &entries {
        let view = TensorView::new(Dtype::F32, shape.clone(), bytes).map_err(st_err)?;
        views.push((name.as_str(), view));
    }
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    let bytes = safetensors::serialize(views, Some(metadata)).map_err(st_err)?;

    std::fs::create_dir_all(dir).map_err(|source| ModelError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    rzero_fs::write_atomic(&weights_path, &bytes)?;
    let alpha = if config.alpha.fract() == 0.0 && config.alpha.abs() < 1e15 {
        Value::from(config.alpha as i64)
    } else {
        Value::from(config.alpha)
    };
    let peft = PeftConfigOut {
        alpha_pattern: BTreeMap::new(),
        base_model_name_or_path: base_model,
        bias: "none",
        exclude_modules: None,
        fan_in_fan_out: false,
        inference_mode: true,
        init_lora_weights: true,
        layers_pattern: None,
        layers_to_transform: None,
        lora_alpha: alpha,
        lora_bias: false,
        lora_dropout: 0.0,
        modules_to_save: None,
        peft_type: "LORA",
        r: config.rank,
        rank_pattern: BTreeMap::new(),
        revision: None,
        target_modules: config
            .sorted_targets()
            .into_iter()
            .map(|t| t.name())
            .collect(),
        task_type: "CAUSAL_LM",
        use_dora: false,
        use_rslora: false,
    };
    Ok(rzero_fs::write_json(dir.join(ADAPTER_CONFIG_FILE), &peft)?)
}

/// Keys of `adapter_config.json` that change the computation in ways rzero
/// does not implement; each must be absent, null, false, `{}` or `[]`.
const UNSUPPORTED_PEFT_KEYS: [&str; 13] = [
    "fan_in_fan_out",
    "use_dora",
    "use_rslora",
    "lora_bias",
    "layers_to_transform",
    "modules_to_save",
    "rank_pattern",
    "alpha_pattern",
    "exclude_modules",
    "target_parameters",
    "trainable_token_indices",
    "layer_replication",
    "use_qalora",
];

/// Reads a PEFT LoRA adapter (`adapter_config.json` +
/// `adapter_model.safetensors`, F32/BF16/F16) from `dir` and attaches it to
/// `model` (which must have no adapters): the result computes what
/// `PeftModel.from_pretrained(base, dir)` does, with the factors trainable
/// and everything else frozen, as after [`apply_lora`]. Returns the config
/// the file describes.
///
/// Strict: an option rzero does not implement (`use_dora`, `use_rslora`,
/// `fan_in_fan_out`, `rank_pattern`, a regex `target_modules`, a bias other
/// than `"none"`, ...), a target this model lacks, a missing or unused
/// tensor, or a wrong shape is an error naming the file and field or tensor.
pub fn load_peft_adapter(model: Qwen3, dir: &Path) -> Result<(Qwen3, LoraConfig)> {
    let config_path = dir.join(ADAPTER_CONFIG_FILE);
    let config = read_peft_config(&config_path)?;
    let weights_path = dir.join(ADAPTER_WEIGHTS_FILE);
    let factors = read_factors(&weights_path, &config)?;
    let model = attach(model, &config, Init::Given(factors), &weights_path)?;
    Ok((model, config))
}

fn read_peft_config(path: &Path) -> Result<LoraConfig> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let json: serde_json::Map<String, Value> =
        serde_json::from_str(&text).map_err(|source| ModelError::Json {
            path: path.to_path_buf(),
            source,
        })?;
    let unsupported = |field: &str, reason: String| ModelError::Unsupported {
        path: path.to_path_buf(),
        field: field.to_string(),
        reason,
    };
    let bad = |field: &str, reason: &str| ModelError::BadConfig {
        path: path.to_path_buf(),
        field: field.to_string(),
        reason: reason.to_string(),
    };
    match json.get("peft_type").and_then(Value::as_str) {
        Some("LORA") => {}
        other => {
            return Err(unsupported(
                "peft_type",
                format!("{other:?}; only \"LORA\" adapters load"),
            ));
        }
    }
    for key in UNSUPPORTED_PEFT_KEYS {
        let inert = match json.get(key) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => true,
            Some(Value::Object(m)) => m.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            Some(_) => false,
        };
        if !inert {
            return Err(unsupported(key, "rzero implements plain LoRA only".into()));
        }
    }
    match json.get("bias").and_then(Value::as_str) {
        None | Some("none") => {}
        Some(other) => {
            return Err(unsupported("bias", format!("\"{other}\"; only \"none\"")));
        }
    }
    let rank = json
        .get("r")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("r", "missing or not a positive integer"))? as usize;
    let alpha = json
        .get("lora_alpha")
        .and_then(Value::as_f64)
        .ok_or_else(|| bad("lora_alpha", "missing or not a number"))?;
    let targets = match json.get("target_modules") {
        Some(Value::Array(names)) => names
            .iter()
            .map(|n| {
                let name = n.as_str().unwrap_or_default();
                LoraTarget::from_str(name).map_err(|_| {
                    unsupported(
                        "target_modules",
                        format!("{n}: rzero adapts only q/k/v/o/gate/up/down_proj"),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?,
        Some(other) => {
            return Err(unsupported(
                "target_modules",
                format!("{other}: only a list of module names loads"),
            ));
        }
        None => return Err(bad("target_modules", "missing")),
    };
    let config = LoraConfig::new(rank, alpha, targets);
    config
        .validate()
        .map_err(|e| bad("r/lora_alpha/target_modules", &e.to_string()))?;
    Ok(config)
}

/// burn weight path → (`A` `[in, r]`, `B` `[r, out]`), F32, burn layout.
type Factors = BTreeMap<String, (TensorData, TensorData)>;

fn read_factors(path: &Path, config: &LoraConfig) -> Result<Factors> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let st = SafeTensors::deserialize(&bytes).map_err(|source| ModelError::Safetensors {
        path: path.to_path_buf(),
        source,
    })?;
    let mut halves: BTreeMap<String, (Option<TensorData>, Option<TensorData>)> = BTreeMap::new();
    for (name, view) in st.tensors() {
        let unused = || ModelError::UnusedTensor {
            name: name.clone(),
            file: path.to_path_buf(),
        };
        let (weight, factor) = parse_peft_key(&name).ok_or_else(unused)?;
        let dtype = match view.dtype() {
            Dtype::F32 => DType::F32,
            Dtype::BF16 => DType::BF16,
            Dtype::F16 => DType::F16,
            other => {
                return Err(ModelError::UnsupportedDtype {
                    name,
                    file: path.to_path_buf(),
                    dtype: format!("{other:?}"),
                });
            }
        };
        let shape = view.shape().to_vec();
        // PEFT: A [r, in], B [out, r].
        let rank_ok = match (factor, shape.as_slice()) {
            ('A', [r, _]) | ('B', [_, r]) => *r == config.rank,
            _ => false,
        };
        if !rank_ok {
            let expected = if factor == 'A' {
                vec![config.rank, shape.first().copied().unwrap_or(0)]
            } else {
                vec![shape.first().copied().unwrap_or(0), config.rank]
            };
            return Err(ModelError::ShapeMismatch {
                name,
                file: path.to_path_buf(),
                expected,
                found: shape,
            });
        }
        let data =
            TensorData::from_bytes_vec(view.data().to_vec(), shape.clone(), dtype).convert::<f32>();
        let values = data.as_slice::<f32>().map_err(|e| ModelError::TensorData {
            name: name.clone(),
            file: path.to_path_buf(),
            reason: format!("{e:?}"),
        })?;
        let data = TensorData::new(transpose(values, shape[0], shape[1]), [shape[1], shape[0]]);
        let slot = halves.entry(weight).or_default();
        if factor == 'A' {
            slot.0 = Some(data);
        } else {
            slot.1 = Some(data);
        }
    }
    let mut factors = Factors::new();
    for (weight, pair) in halves {
        match pair {
            (Some(a), Some(b)) => {
                factors.insert(weight, (a, b));
            }
            (a, _) => {
                let factor = if a.is_none() { "lora_A" } else { "lora_B" };
                let stem = weight.trim_end_matches(".weight");
                return Err(ModelError::MissingTensor {
                    name: format!("{PEFT_PREFIX}{stem}.{factor}.weight"),
                    file: path.to_path_buf(),
                });
            }
        }
    }
    Ok(factors)
}

/// `base_model.model.model.layers.N.mlp.up_proj.lora_B.weight` →
/// (`layers.N.mlp.up_proj.weight`, `'B'`), for targets rzero knows.
fn parse_peft_key(name: &str) -> Option<(String, char)> {
    let rest = name.strip_prefix(PEFT_PREFIX)?.strip_suffix(".weight")?;
    let (module, factor) = if let Some(m) = rest.strip_suffix(".lora_A") {
        (m, 'A')
    } else {
        (rest.strip_suffix(".lora_B")?, 'B')
    };
    let mut parts = module.split('.');
    let (Some("layers"), Some(layer), Some(parent), Some(target), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let layer: usize = layer.parse().ok()?;
    let target = LoraTarget::from_str(target).ok()?;
    (target.parent() == parent).then(|| (target.weight_path(layer), factor))
}

/// `A` of the weight at `path`, burn layout `[d_in, rank]`: PEFT's
/// Kaiming-uniform (`a = √5`) bound `gain·√(3/fan_in)` with `gain = √(1/3)`,
/// i.e. `U(−1/√in, 1/√in)`, from ChaCha8 seeded by `seed` and an FNV-1a hash
/// of the path.
fn random_a(seed: u64, path: &str, d_in: usize, rank: usize) -> TensorData {
    let hash = path.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ hash.rotate_left(17));
    let bound = 1.0 / (d_in as f32).sqrt();
    let values: Vec<f32> = (0..d_in * rank)
        .map(|_| rng.random_range(-bound..bound))
        .collect();
    TensorData::new(values, [d_in, rank])
}

/// `[rows, cols]` row-major → `[cols, rows]` row-major.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// How [`attach`] gets the factors.
enum Init {
    /// Random `A` from this seed, zero `B`.
    Random(u64),
    /// Read from a file.
    Given(Factors),
}

/// Attaches adapters to the targets of `config`; `file` names the source of
/// given factors in errors.
fn attach(model: Qwen3, config: &LoraConfig, init: Init, file: &Path) -> Result<Qwen3> {
    if has_lora(&model) {
        return Err(ModelError::Lora {
            reason: "the model already has adapters (merge_lora them first)".into(),
        });
    }
    let layers = model.layers.len();
    let targets = (0..layers)
        .flat_map(|i| config.targets.iter().map(move |t| t.weight_path(i)))
        .collect();
    let (seed, given) = match init {
        Init::Random(seed) => (seed, None),
        Init::Given(factors) => (0, Some(factors)),
    };
    let mut state = AttachState {
        seed,
        given,
        error: None,
        file: file.to_path_buf(),
    };
    let model = model.apply_reparameterization(Attach {
        targets,
        rank: config.rank,
        scale: config.scale(),
        state: &mut state,
    });
    if let Some(err) = state.error {
        return Err(err);
    }
    if let Some(given) = state.given
        && let Some(weight) = given.keys().next()
    {
        return Err(ModelError::UnusedTensor {
            name: format!("{PEFT_PREFIX}{}", weight.trim_end_matches(".weight")),
            file: state.file,
        });
    }
    tracing::debug!(
        rank = config.rank,
        alpha = config.alpha,
        trainable = trainable_params(&model),
        "LoRA adapters attached"
    );
    Ok(model)
}

struct AttachState {
    seed: u64,
    given: Option<Factors>,
    error: Option<ModelError>,
    file: PathBuf,
}

/// The [`Reparameterizer`]: freezes every float parameter, attaches a
/// [`LoraAdapter`] to the target weights.
struct Attach<'a> {
    targets: BTreeSet<String>,
    rank: usize,
    scale: f64,
    state: &'a mut AttachState,
}

impl Reparameterizer for Attach<'_> {
    type Reparam = LoraAdapter;

    fn reparameterize<const D: usize>(
        &mut self,
        path: &str,
        param: Param<Tensor<D>>,
    ) -> (Param<Tensor<D>>, Option<LoraAdapter>) {
        let base = param.set_require_grad(false);
        if D != 2 || !self.targets.contains(path) {
            return (base, None);
        }
        let [d_in, d_out] = base.lazy_shape().dims::<2>();
        let device = base.lazy_device();
        let rank = self.rank;
        let (a, b) = match self.state.given.as_mut() {
            None => {
                let a = random_a(self.state.seed, path, d_in, rank);
                device.memory_persistent_allocations(a, |a| {
                    (
                        Tensor::<2>::from_data(a, &device),
                        Tensor::<2>::zeros([rank, d_out], &device),
                    )
                })
            }
            Some(given) => {
                let Some((a, b)) = given.remove(path) else {
                    let stem = path.trim_end_matches(".weight");
                    self.state.error.get_or_insert(ModelError::MissingTensor {
                        name: format!("{PEFT_PREFIX}{stem}.lora_A.weight"),
                        file: self.state.file.clone(),
                    });
                    return (base, None);
                };
                let checks = [
                    ('A', a.shape().to_vec(), vec![d_in, rank]),
                    ('B', b.shape().to_vec(), vec![rank, d_out]),
                ];
                for (factor, found, want) in checks {
                    if found != want {
                        let stem = path.trim_end_matches(".weight");
                        // Report in PEFT's (transposed) layout, as in the file.
                        self.state.error.get_or_insert(ModelError::ShapeMismatch {
                            name: format!("{PEFT_PREFIX}{stem}.lora_{factor}.weight"),
                            file: self.state.file.clone(),
                            expected: want.into_iter().rev().collect(),
                            found: found.into_iter().rev().collect(),
                        });
                        return (base, None);
                    }
                }
                device.memory_persistent_allocations((a, b), |(a, b)| {
                    (
                        Tensor::<2>::from_data(a, &device),
                        Tensor::<2>::from_data(b, &device),
                    )
                })
            }
        };
        let adapter = LoraAdapter {
            a: Param::from_tensor(a),
            b: Param::from_tensor(b),
            scale: self.scale,
        };
        (base, Some(adapter))
    }
}
