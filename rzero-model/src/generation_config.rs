//! `generation_config.json`: the special token ids and sampling defaults
//! Hugging Face stores beside a checkpoint.

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{ModelError, Result};

/// The fields of `generation_config.json` that rzero reads.
///
/// `eos_token_id` may be an integer or a list in the file; other keys
/// (`transformers_version`, `repetition_penalty`, ...) are kept in
/// [`GenerationConfig::other`] so a load → save round trip loses nothing,
/// but rzero does not act on them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerationConfig {
    /// Beginning-of-sequence id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bos_token_id: Option<u32>,
    /// Ids that end generation (HF allows one or several).
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub eos_token_id: Vec<u32>,
    /// Padding id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad_token_id: Option<u32>,
    /// Whether HF samples (`true`) or decodes greedily (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub do_sample: Option<bool>,
    /// Suggested sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Suggested nucleus mass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Suggested top-k.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<i64>,
    /// Every other key, untouched.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl GenerationConfig {
    /// Reads `path`; errors name the file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| ModelError::Json {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The file's JSON text (pretty, with a final newline), as HF writes it.
    pub fn to_json_string(&self) -> String {
        // A struct of plain numbers and a JSON map always serialises.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Accepts `null`, an integer or a list of integers.
fn one_or_many<'de, D: Deserializer<'de>>(de: D) -> std::result::Result<Vec<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(u32),
        Many(Vec<u32>),
    }
    Ok(match Option::<OneOrMany>::deserialize(de)? {
        None => Vec::new(),
        Some(OneOrMany::One(id)) => vec![id],
        Some(OneOrMany::Many(ids)) => ids,
    })
}

/// Reads token ids from a JSON value that holds an integer or a list of them.
pub(crate) fn ids_from_json(value: Option<&serde_json::Value>) -> Vec<u32> {
    let as_id = |v: &serde_json::Value| v.as_u64().and_then(|n| u32::try_from(n).ok());
    match value {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(as_id).collect(),
        Some(v) => as_id(v).into_iter().collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_qwen3_style_file_and_keeps_other_keys() {
        let text = r#"{"bos_token_id": 151643, "do_sample": true, "eos_token_id": [151645, 151643],
            "pad_token_id": 151643, "temperature": 0.6, "top_k": 20, "top_p": 0.95,
            "transformers_version": "4.51.0"}"#;
        let cfg: GenerationConfig = serde_json::from_str(text).unwrap();
        assert_eq!(cfg.eos_token_id, vec![151645, 151643]);
        assert_eq!(
            (cfg.pad_token_id, cfg.bos_token_id, cfg.top_k),
            (Some(151643), Some(151643), Some(20))
        );
        assert_eq!(cfg.other["transformers_version"], "4.51.0");
        let back: GenerationConfig = serde_json::from_str(&cfg.to_json_string()).unwrap();
        assert_eq!(back, cfg);
    }

    #[test]
    fn eos_may_be_a_single_id_or_null() {
        let one: GenerationConfig = serde_json::from_str(r#"{"eos_token_id": 7}"#).unwrap();
        assert_eq!(one.eos_token_id, vec![7]);
        let none: GenerationConfig = serde_json::from_str(r#"{"eos_token_id": null}"#).unwrap();
        assert!(none.eos_token_id.is_empty());
        assert!(serde_json::from_str::<GenerationConfig>(r#"{"eos_token_id": "x"}"#).is_err());
    }

    #[test]
    fn ids_from_json_accepts_int_or_list() {
        assert_eq!(ids_from_json(Some(&serde_json::json!(5))), vec![5]);
        assert_eq!(ids_from_json(Some(&serde_json::json!([1, 2]))), vec![1, 2]);
        assert!(ids_from_json(Some(&serde_json::json!(null))).is_empty());
        assert!(ids_from_json(None).is_empty());
    }
}
