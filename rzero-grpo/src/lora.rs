//! `[grpo.lora]`: train low-rank adapters instead of every weight.
//!
//! Only the settings live here (this crate trains any burn module and knows
//! no model); rzero-core turns them into `rzero_model::LoraConfig` and
//! attaches the adapters before a phase trains. The optimizer needs nothing
//! special: frozen weights get no gradient, so [`crate::AdamW`] keeps state
//! for the adapter factors only.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// The projections LoRA can adapt, Hugging Face / PEFT module names, in
/// module order.
pub const LORA_TARGET_NAMES: [&str; 7] = [
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
];

/// A set of [`LORA_TARGET_NAMES`]; written as a list of names (module
/// order), and all seven by default.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LoraTargets(u8);

impl LoraTargets {
    /// All seven projections.
    pub const ALL: Self = Self((1 << LORA_TARGET_NAMES.len()) - 1);

    /// The set of `names`; an unknown or repeated name is an error naming it.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let mut bits = 0u8;
        for name in names {
            let name = name.as_ref();
            let Some(i) = LORA_TARGET_NAMES.iter().position(|n| *n == name) else {
                return Err(format!(
                    "unknown LoRA target `{name}` (expected some of {})",
                    LORA_TARGET_NAMES.join(", ")
                ));
            };
            if bits & (1 << i) != 0 {
                return Err(format!("LoRA target `{name}` listed twice"));
            }
            bits |= 1 << i;
        }
        Ok(Self(bits))
    }

    /// The names in the set, in module order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        LORA_TARGET_NAMES
            .into_iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, n)| n)
    }

    /// Whether no target is selected.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl Default for LoraTargets {
    fn default() -> Self {
        Self::ALL
    }
}

impl fmt::Debug for LoraTargets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Serialize for LoraTargets {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for name in self.names() {
            seq.serialize_element(name)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for LoraTargets {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Names;
        impl<'de> Visitor<'de> for Names {
            type Value = LoraTargets;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "a list of module names ({})",
                    LORA_TARGET_NAMES.join(", ")
                )
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LoraTargets, A::Error> {
                let mut names: Vec<String> = Vec::new();
                while let Some(name) = seq.next_element()? {
                    names.push(name);
                }
                LoraTargets::from_names(&names).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_seq(Names)
    }
}

/// LoRA instead of full fine-tuning: adapters of rank `rank` on `targets`
/// in every layer, updates scaled by `alpha / rank`; everything else frozen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoraSettings {
    /// Rank `r` of every adapter.
    pub rank: usize,
    /// Scaling numerator (PEFT's `lora_alpha`); absent: `2 · rank`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// Adapted projections; absent: all seven.
    #[serde(default)]
    pub targets: LoraTargets,
}

impl LoraSettings {
    /// `alpha`, or `2 · rank` when it is not set.
    pub fn alpha(&self) -> f64 {
        self.alpha.unwrap_or(2.0 * self.rank as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_read_and_write_as_names_in_module_order() {
        let t: LoraTargets = serde_json::from_str(r#"["v_proj", "q_proj"]"#).unwrap();
        assert_eq!(t.names().collect::<Vec<_>>(), ["q_proj", "v_proj"]);
        assert_eq!(serde_json::to_string(&t).unwrap(), r#"["q_proj","v_proj"]"#);
        assert_eq!(LoraTargets::default().names().count(), 7);
        let err = serde_json::from_str::<LoraTargets>(r#"["qkv"]"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown LoRA target `qkv`"),
            "{err}"
        );
        let err = serde_json::from_str::<LoraTargets>(r#"["q_proj", "q_proj"]"#).unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
        assert!(LoraTargets::from_names::<&str>(&[]).unwrap().is_empty());
    }

    #[test]
    fn alpha_defaults_to_twice_the_rank() {
        let s: LoraSettings = serde_json::from_str(r#"{"rank": 4}"#).unwrap();
        assert_eq!((s.alpha(), s.targets), (8.0, LoraTargets::ALL));
        let s: LoraSettings = serde_json::from_str(r#"{"rank": 4, "alpha": 1.5}"#).unwrap();
        assert_eq!(s.alpha(), 1.5);
        assert!(serde_json::from_str::<LoraSettings>(r#"{"rank": 4, "dropout": 0.1}"#).is_err());
    }
}
