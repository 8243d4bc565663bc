//! Hugging Face checkpoint I/O: [`load_pretrained`] and [`save_pretrained`].
//!
//! Module paths are HF tensor names without the `model.` prefix; linear
//! weights are transposed (`[in, out]` in burn, `[out, in]` in PyTorch) and
//! RMSNorm `gamma` is HF `weight`, both by burn-store's PyTorch adapters.

mod load;
mod save;

pub use load::{load_pretrained, load_weights};
pub use save::{SaveDtype, SaveOptions, save_pretrained};
pub(crate) use save::{f32_to_bf16, remove_stale, write_json};

/// Single-file checkpoint name.
pub const SINGLE_FILE: &str = "model.safetensors";
/// Index of a sharded checkpoint.
pub const INDEX_FILE: &str = "model.safetensors.index.json";

/// Module path (after the PyTorch adapter) → HF tensor name.
fn hf_name(path: &str) -> String {
    if path.starts_with("lm_head") {
        path.to_string()
    } else {
        format!("model.{path}")
    }
}
