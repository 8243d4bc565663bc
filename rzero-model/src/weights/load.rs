//! Strict loading of HF safetensors checkpoints (single file or sharded).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::store::{
    BurnToPyTorchAdapter, FloatCastAdapter, ModuleAdapter, ModuleSnapshot, PyTorchToBurnAdapter,
    bridge,
};
use burn::tensor::DType;
use safetensors::{Dtype, SafeTensors};

use super::{INDEX_FILE, SINGLE_FILE, hf_name};
use crate::error::{ModelError, Result};
use crate::hf_config::HfQwen3Config;
use crate::model::Qwen3;

/// Loads `dir/config.json` and the weights beside it onto `device`.
///
/// Weights are `model.safetensors` or the shards listed in
/// `model.safetensors.index.json`; F32, BF16 and F16 tensors become F32.
/// Loading is strict: a tensor the model needs but the files lack, a tensor
/// the files hold but the model does not use, or a wrong shape is an error
/// naming the tensor and the file.
pub fn load_pretrained(dir: &Path, device: &Device) -> Result<(Qwen3, HfQwen3Config)> {
    let config_path = dir.join("config.json");
    let hf = HfQwen3Config::from_file(&config_path)?;
    let mut model = hf.to_config(&config_path)?.init(device);
    load_weights(&mut model, dir)?;
    Ok((model, hf))
}

/// Overwrites every parameter of `model` with the checkpoint in `dir`.
pub fn load_weights(model: &mut Qwen3, dir: &Path) -> Result<()> {
    let (files, listing) = checkpoint_files(dir)?;
    let expected = expected_shapes(model);
    let mut tensors = Vec::new();
    let mut origin: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in &files {
        let bytes = std::fs::read(file).map_err(|source| ModelError::Io {
            path: file.clone(),
            source,
        })?;
        let st = SafeTensors::deserialize(&bytes).map_err(|source| ModelError::Safetensors {
            path: file.clone(),
            source,
        })?;
        for (name, view) in st.tensors() {
            let at = || (name.clone(), file.clone());
            let Some(want) = expected.get(&name) else {
                let (name, file) = at();
                return Err(ModelError::UnusedTensor { name, file });
            };
            if view.shape() != want.as_slice() {
                let (name, file) = at();
                let found = view.shape().to_vec();
                let expected = want.clone();
                return Err(ModelError::ShapeMismatch {
                    name,
                    file,
                    expected,
                    found,
                });
            }
            let dtype = match view.dtype() {
                Dtype::F32 => DType::F32,
                Dtype::BF16 => DType::BF16,
                Dtype::F16 => DType::F16,
                other => {
                    let (name, file) = at();
                    let dtype = format!("{other:?}");
                    return Err(ModelError::UnsupportedDtype { name, file, dtype });
                }
            };
            let data = TensorData::from_bytes_vec(view.data().to_vec(), view.shape(), dtype);
            tensors.push(bridge::from_data(data, burn_path(&name), None));
            origin.insert(name, file.clone());
        }
    }
    if let Some(name) = expected.keys().find(|n| !origin.contains_key(*n)) {
        let file = listing.clone();
        return Err(ModelError::MissingTensor {
            name: name.clone(),
            file,
        });
    }
    let adapter = PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32));
    let result = model.apply(tensors, None, Some(Box::new(adapter)), false);
    if let Some(err) = result.errors.first() {
        return Err(ModelError::TensorData {
            name: String::new(),
            file: listing,
            reason: err.to_string(),
        });
    }
    if let Some((path, _)) = result.missing.first() {
        return Err(ModelError::MissingTensor {
            name: hf_name(path),
            file: listing,
        });
    }
    tracing::debug!(tensors = result.applied.len(), dir = %dir.display(), "weights loaded");
    Ok(())
}

/// The safetensors files of `dir` and the file that lists them.
fn checkpoint_files(dir: &Path) -> Result<(Vec<PathBuf>, PathBuf)> {
    let index = dir.join(INDEX_FILE);
    if !index.exists() {
        let single = dir.join(SINGLE_FILE);
        return Ok((vec![single.clone()], single));
    }
    let text = std::fs::read_to_string(&index).map_err(|source| ModelError::Io {
        path: index.clone(),
        source,
    })?;
    let parsed: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| ModelError::Json {
            path: index.clone(),
            source,
        })?;
    let Some(map) = parsed.get("weight_map").and_then(|m| m.as_object()) else {
        return Err(ModelError::BadConfig {
            path: index,
            field: "weight_map".into(),
            reason: "missing or not an object".into(),
        });
    };
    let names: BTreeSet<&str> = map.values().filter_map(|v| v.as_str()).collect();
    Ok((names.into_iter().map(|n| dir.join(n)).collect(), index))
}

/// HF tensor name → shape in the HF (PyTorch) layout, read from the module.
pub(crate) fn expected_shapes(model: &Qwen3) -> BTreeMap<String, Vec<usize>> {
    model
        .collect(None, Some(Box::new(BurnToPyTorchAdapter)), false)
        .into_iter()
        .map(|t| (hf_name(&t.name), t.shape.to_vec()))
        .collect()
}

/// HF name → module path (`model.` prefix dropped).
fn burn_path(hf: &str) -> String {
    hf.strip_prefix("model.").unwrap_or(hf).to_string()
}
