//! Qwen3 weights ⇄ safetensors bytes in Hugging Face layout (`model.`
//! prefix, linear weights `[out, in]`, norms named `weight`).
//!
//! Checkpoints keep F32 so a resumed run continues bit for bit; the exported
//! model may be BF16.

use std::path::Path;

use burn::store::{
    BurnToPyTorchAdapter, FloatCastAdapter, KeyRemapper, ModuleAdapter, ModuleSnapshot,
    PyTorchToBurnAdapter, SafetensorsStore,
};
use burn::tensor::DType;
use rzero_model::Qwen3;

use crate::error::{PretrainError, Result};

fn state_error(path: &Path, message: impl std::fmt::Display) -> PretrainError {
    PretrainError::State {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Writes `model`'s weights as HF-named tensors of `dtype` (F32 or BF16)
/// to `path`, atomically.
pub fn save_weights(model: &Qwen3, path: &Path, dtype: DType) -> Result<()> {
    let remap = KeyRemapper::new()
        .add_pattern(r"^(embed_tokens|layers|norm)\.", "model.$1.")
        .map_err(|e| state_error(path, e))?;
    let mut store = SafetensorsStore::from_bytes(None)
        .with_to_adapter(BurnToPyTorchAdapter.chain(FloatCastAdapter::to(dtype)))
        .remap(remap)
        .metadata("format", "pt");
    model
        .save_into(&mut store)
        .map_err(|e| state_error(path, e))?;
    let bytes = store.get_bytes().map_err(|e| state_error(path, e))?;
    rzero_fs::write_atomic(path, &rzero_fs::sorted_safetensors_header(bytes))?;
    Ok(())
}

/// Loads HF-named weights from `path` into `model` (as F32), strictly:
/// every model tensor must be present and every file tensor used.
pub fn load_weights(mut model: Qwen3, path: &Path) -> Result<Qwen3> {
    let mut store = SafetensorsStore::from_file(path)
        .with_from_adapter(PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32)))
        .with_key_remapping(r"^model\.", "");
    let applied = model
        .load_from(&mut store)
        .map_err(|e| state_error(path, e))?;
    if !applied.missing.is_empty() || !applied.unused.is_empty() || !applied.errors.is_empty() {
        return Err(state_error(
            path,
            format!(
                "weights do not match the model: missing {:?}, unused {:?}, errors {:?}",
                applied.missing, applied.unused, applied.errors
            ),
        ));
    }
    Ok(model)
}
