//! Hugging Face `config.json` for Qwen3: [`HfQwen3Config`].
//!
//! Both generations of the file load: transformers 4.x writes `rope_theta`,
//! `rope_scaling` and `torch_dtype`; 5.x writes `rope_parameters
//! {rope_theta, rope_type}`, `dtype` and `layer_types`. Anything this
//! implementation does not compute (sliding-window attention, RoPE scaling,
//! activations other than SiLU, attention biases, other architectures) is an
//! error naming the file and field, never silently ignored. Keys that do not
//! change the computation and are unknown here are kept in `extra` and logged.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Qwen3Config;
use crate::error::{ModelError, Result};

/// `eos_token_id` and friends: one id or a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TokenIds {
    /// A single id.
    One(u32),
    /// Several ids.
    Many(Vec<u32>),
}

impl TokenIds {
    /// The ids as a list.
    pub fn to_vec(&self) -> Vec<u32> {
        match self {
            Self::One(id) => vec![*id],
            Self::Many(ids) => ids.clone(),
        }
    }
}

/// The fields of a Qwen3 `config.json`, with HF names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // HF field names; see transformers' `Qwen3Config`.
pub struct HfQwen3Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architectures: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_type: Option<String>,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_key_value_heads: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_dim: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden_act: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_position_embeddings: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rms_norm_eps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_theta: Option<f64>,
    #[serde(default)]
    pub rope_scaling: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_parameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention_bias: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tie_word_embeddings: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_sliding_window: Option<bool>,
    #[serde(default)]
    pub sliding_window: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub torch_dtype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initializer_range: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bos_token_id: Option<TokenIds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eos_token_id: Option<TokenIds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad_token_id: Option<u32>,
    /// Other keys (`use_cache`, `attention_dropout`, `transformers_version`,
    /// `max_window_layers`, ...): kept for the round trip, not used.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl HfQwen3Config {
    /// Reads and validates `path` (a `config.json`).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let config: Self = serde_json::from_str(&text).map_err(|source| ModelError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        config.to_config(path)?;
        for key in config.extra.keys() {
            tracing::debug!(file = %path.display(), key, "config.json key not used");
        }
        Ok(config)
    }

    /// The model config, or an error naming `path` and the unsupported field.
    pub fn to_config(&self, path: &Path) -> Result<Qwen3Config> {
        let unsupported = |field: &str, reason: String| ModelError::Unsupported {
            path: path.to_path_buf(),
            field: field.to_string(),
            reason,
        };
        if let Some(kind) = self.model_type.as_deref().filter(|k| *k != "qwen3") {
            return Err(unsupported(
                "model_type",
                format!("{kind:?} (only \"qwen3\")"),
            ));
        }
        if let Some(act) = self.hidden_act.as_deref().filter(|a| *a != "silu") {
            return Err(unsupported(
                "hidden_act",
                format!("{act:?} (only \"silu\")"),
            ));
        }
        if self.attention_bias == Some(true) {
            return Err(unsupported("attention_bias", "true (only false)".into()));
        }
        self.check_sliding_window(path)?;
        let rope_theta = self.rope_theta(path)?;
        let heads = self.num_attention_heads;
        let kv_heads = self.num_key_value_heads.unwrap_or(heads);
        let bad = |field: &str, reason: &str| ModelError::BadConfig {
            path: path.to_path_buf(),
            field: field.to_string(),
            reason: reason.to_string(),
        };
        if heads == 0 || kv_heads == 0 || !heads.is_multiple_of(kv_heads) {
            return Err(bad(
                "num_key_value_heads",
                "must divide num_attention_heads",
            ));
        }
        let head_dim = self.head_dim.unwrap_or(self.hidden_size / heads);
        if head_dim == 0 || !head_dim.is_multiple_of(2) {
            return Err(bad("head_dim", "must be even and positive (RoPE)"));
        }
        if self.vocab_size == 0 || self.hidden_size == 0 || self.num_hidden_layers == 0 {
            return Err(bad(
                "vocab_size",
                "vocab_size, hidden_size, num_hidden_layers > 0",
            ));
        }
        Ok(Qwen3Config::new(
            self.vocab_size,
            self.hidden_size,
            self.intermediate_size,
            self.num_hidden_layers,
            heads,
            kv_heads,
            head_dim,
            self.max_position_embeddings.unwrap_or(32_768),
        )
        .with_rope_theta(rope_theta)
        .with_rms_norm_eps(self.rms_norm_eps.unwrap_or(1e-6))
        .with_tie_word_embeddings(self.tie_word_embeddings.unwrap_or(false))
        .with_initializer_range(self.initializer_range.unwrap_or(0.02)))
    }

    fn check_sliding_window(&self, path: &Path) -> Result<()> {
        let unsupported = |field: &str, reason: String| ModelError::Unsupported {
            path: path.to_path_buf(),
            field: field.to_string(),
            reason,
        };
        if self.use_sliding_window == Some(true) {
            return Err(unsupported(
                "use_sliding_window",
                "sliding-window attention is not implemented".into(),
            ));
        }
        let layer_types = self.layer_types.iter().flatten();
        if let Some(kind) = layer_types.into_iter().find(|t| *t != "full_attention") {
            return Err(unsupported(
                "layer_types",
                format!("{kind:?} (only \"full_attention\")"),
            ));
        }
        Ok(())
    }

    /// θ from `rope_parameters` (5.x) or `rope_theta` (4.x); default 10000.
    fn rope_theta(&self, path: &Path) -> Result<f64> {
        let unsupported = |field: &str, reason: String| ModelError::Unsupported {
            path: path.to_path_buf(),
            field: field.to_string(),
            reason,
        };
        for (field, value) in [
            ("rope_scaling", &self.rope_scaling),
            ("rope_parameters", &self.rope_parameters),
        ] {
            let Some(Value::Object(map)) = value else {
                if let Some(v) = value.as_ref().filter(|v| !v.is_null()) {
                    return Err(unsupported(field, format!("{v} is not an object")));
                }
                continue;
            };
            let kind = map.get("rope_type").or_else(|| map.get("type"));
            match kind.and_then(Value::as_str) {
                None | Some("default") => {}
                Some(other) => {
                    return Err(unsupported(
                        field,
                        format!("rope_type {other:?} (only default)"),
                    ));
                }
            }
        }
        let from_params = self
            .rope_parameters
            .as_ref()
            .and_then(|p| p.get("rope_theta"))
            .and_then(Value::as_f64);
        Ok(from_params.or(self.rope_theta).unwrap_or(10_000.0))
    }

    /// The ids that end a sequence (`eos_token_id`), empty when unset.
    pub fn eos_token_ids(&self) -> Vec<u32> {
        self.eos_token_id
            .as_ref()
            .map(TokenIds::to_vec)
            .unwrap_or_default()
    }

    /// A transformers-4.x-layout config for `config` (as in the published
    /// Qwen3 checkpoints; transformers 5.x reads it too).
    pub fn from_config(config: &Qwen3Config) -> Self {
        let mut extra = BTreeMap::new();
        extra.insert("attention_dropout".into(), Value::from(0.0));
        extra.insert("use_cache".into(), Value::from(true));
        extra.insert(
            "max_window_layers".into(),
            Value::from(config.num_hidden_layers),
        );
        Self {
            architectures: Some(vec!["Qwen3ForCausalLM".into()]),
            model_type: Some("qwen3".into()),
            vocab_size: config.vocab_size,
            hidden_size: config.hidden_size,
            intermediate_size: config.intermediate_size,
            num_hidden_layers: config.num_hidden_layers,
            num_attention_heads: config.num_attention_heads,
            num_key_value_heads: Some(config.num_key_value_heads),
            head_dim: Some(config.head_dim),
            hidden_act: Some("silu".into()),
            max_position_embeddings: Some(config.max_position_embeddings),
            rms_norm_eps: Some(config.rms_norm_eps),
            rope_theta: Some(config.rope_theta),
            rope_scaling: None,
            rope_parameters: None,
            attention_bias: Some(false),
            tie_word_embeddings: Some(config.tie_word_embeddings),
            use_sliding_window: Some(false),
            sliding_window: None,
            layer_types: None,
            torch_dtype: Some("float32".into()),
            dtype: None,
            initializer_range: Some(config.initializer_range),
            bos_token_id: None,
            eos_token_id: None,
            pad_token_id: None,
            extra,
        }
    }
}
