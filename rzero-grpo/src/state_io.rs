//! Saving and loading the AdamW state (safetensors, written atomically).
//!
//! Layout: for each parameter path `p`, tensors `p.exp_avg` and
//! `p.exp_avg_sq` (F32, the parameter's element count), and in the
//! metadata `format`, `config` (JSON [`AdamWConfig`]) and `steps` (JSON map
//! path → step count).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burn::prelude::*;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::adamw::Moments;
use crate::clip::read_vec;
use crate::{AdamW, AdamWConfig, GrpoError};

const FORMAT: &str = "rzero-grpo-adamw-v1";

impl AdamW {
    /// Write the state to `path` atomically; equal states give equal bytes.
    pub fn save(&self, path: &Path) -> Result<(), GrpoError> {
        let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        let mut steps = BTreeMap::new();
        for (key, m) in &self.moments {
            steps.insert(key.clone(), m.step);
            for (suffix, t) in [("exp_avg", &m.exp_avg), ("exp_avg_sq", &m.exp_avg_sq)] {
                let values = read_vec(t.clone(), "optimizer state")?;
                let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                buffers.push((format!("{key}.{suffix}"), vec![values.len()], bytes));
            }
        }
        let views = buffers
            .iter()
            .map(|(name, shape, bytes)| {
                TensorView::new(Dtype::F32, shape.clone(), bytes)
                    .map(|v| (name.clone(), v))
                    .map_err(|source| safetensors_error(path, source))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let metadata = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("config".to_string(), json(&self.config())),
            ("steps".to_string(), json(&steps)),
        ]);
        let bytes = safetensors::serialize(views, Some(metadata))
            .map_err(|source| safetensors_error(path, source))?;
        Ok(rzero_fs::write_atomic(
            path,
            &rzero_fs::sorted_safetensors_header(bytes),
        )?)
    }

    /// Read a state written by [`AdamW::save`]; its tensors go to `device`.
    ///
    /// The hyperparameters come from the file; pass a new config with
    /// [`AdamW::with_config`] to change them on resume.
    pub fn load(path: &Path, device: &Device) -> Result<Self, GrpoError> {
        let bytes = std::fs::read(path).map_err(|source| GrpoError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let (_, header) =
            SafeTensors::read_metadata(&bytes).map_err(|source| safetensors_error(path, source))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let field = |name: &str| {
            meta.get(name)
                .ok_or_else(|| mismatch(path, name, "missing metadata key"))
        };
        if field("format")? != FORMAT {
            return Err(mismatch(path, "format", "not an rzero-grpo AdamW state"));
        }
        let config: AdamWConfig = serde_json::from_str(field("config")?)
            .map_err(|e| mismatch(path, "config", &e.to_string()))?;
        let steps: BTreeMap<String, u64> = serde_json::from_str(field("steps")?)
            .map_err(|e| mismatch(path, "steps", &e.to_string()))?;
        let file =
            SafeTensors::deserialize(&bytes).map_err(|source| safetensors_error(path, source))?;
        let mut moments = BTreeMap::new();
        for (key, step) in steps {
            let tensor = |suffix: &str| -> Result<Tensor<1>, GrpoError> {
                let name = format!("{key}.{suffix}");
                let view = file
                    .tensor(&name)
                    .map_err(|_| mismatch(path, &name, "tensor missing"))?;
                if view.dtype() != Dtype::F32 || view.shape().len() != 1 {
                    return Err(mismatch(path, &name, "expected a 1-d F32 tensor"));
                }
                let values: Vec<f32> = view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                let n = values.len();
                Ok(Tensor::from_data(TensorData::new(values, [n]), device))
            };
            let exp_avg = tensor("exp_avg")?;
            let exp_avg_sq = tensor("exp_avg_sq")?;
            moments.insert(
                key,
                Moments {
                    step,
                    exp_avg,
                    exp_avg_sq,
                },
            );
        }
        Ok(AdamW::from_parts(config, moments))
    }

    /// The same state with other hyperparameters (e.g. a new learning rate on resume).
    pub fn with_config(self, config: AdamWConfig) -> Self {
        AdamW::from_parts(config, self.moments)
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    // Serializing plain structs and maps of numbers cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

fn mismatch(path: &Path, name: &str, reason: &str) -> GrpoError {
    GrpoError::StateMismatch {
        path: path.to_path_buf(),
        name: name.to_string(),
        reason: reason.to_string(),
    }
}

fn safetensors_error(path: &Path, source: safetensors::SafeTensorError) -> GrpoError {
    GrpoError::Safetensors {
        path: path.to_path_buf(),
        source,
    }
}
