//! Bad inputs give a clear error naming what is wrong, never a panic.

use std::path::Path;

use rzero_model::{
    CompletionBatch, GenerateOptions, ModelError, SaveOptions, generate, load_pretrained,
    save_pretrained,
};
use safetensors::SafeTensors;
use safetensors::tensor::TensorView;

use crate::common::{device, load};

/// A single-file copy of the small sharded fixture in a temp dir.
fn copy_checkpoint() -> tempfile::TempDir {
    let (model, hf) = load("qwen3_sharded");
    let dir = tempfile::tempdir().unwrap();
    save_pretrained(&model, &hf, dir.path(), &SaveOptions::default()).unwrap();
    dir
}

/// Rewrites `model.safetensors` through `edit(name, shape) -> Option<new shape>`.
fn rewrite(dir: &Path, extra: Option<&str>, edit: impl Fn(&str, &[usize]) -> Option<Vec<usize>>) {
    let path = dir.join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, view) in st.tensors() {
        if let Some(shape) = edit(&name, view.shape()) {
            let n: usize = shape.iter().product();
            owned.push((name, shape, vec![0u8; n * 4]));
        }
    }
    if let Some(name) = extra {
        owned.push((name.to_string(), vec![2], vec![0u8; 8]));
    }
    let views: Vec<(String, TensorView<'_>)> = owned
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                TensorView::new(safetensors::Dtype::F32, s.clone(), b).unwrap(),
            )
        })
        .collect();
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
}

fn load_err(dir: &Path) -> ModelError {
    load_pretrained(dir, &device()).expect_err("loading should fail")
}

#[test]
fn missing_or_corrupt_config_json() {
    let dir = copy_checkpoint();
    let config = dir.path().join("config.json");
    std::fs::write(&config, "{ \"vocab_size\": 256, ").unwrap();
    let err = load_err(dir.path());
    assert!(
        matches!(err, ModelError::Json { .. }) && err.to_string().contains("config.json"),
        "{err}"
    );
    std::fs::remove_file(&config).unwrap();
    let err = load_err(dir.path());
    assert!(
        matches!(err, ModelError::Io { .. }) && err.to_string().contains("config.json"),
        "{err}"
    );
}

#[test]
fn truncated_safetensors() {
    let dir = copy_checkpoint();
    let path = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_err(dir.path());
    assert!(matches!(err, ModelError::Safetensors { .. }), "{err}");
    assert!(err.to_string().contains("model.safetensors"), "{err}");
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(load_err(dir.path()), ModelError::Io { .. }));
}

#[test]
fn missing_unused_and_misshapen_tensors() {
    let dir = copy_checkpoint();
    let gone = "model.layers.1.self_attn.k_norm.weight";
    rewrite(dir.path(), None, |n, s| (n != gone).then(|| s.to_vec()));
    let err = load_err(dir.path());
    assert!(
        matches!(&err, ModelError::MissingTensor { name, .. } if name == gone),
        "{err}"
    );

    let dir = copy_checkpoint();
    rewrite(
        dir.path(),
        Some("model.layers.0.mlp.extra.weight"),
        |_, s| Some(s.to_vec()),
    );
    let err = load_err(dir.path());
    assert!(
        matches!(&err, ModelError::UnusedTensor { name, .. } if name.contains("extra")),
        "{err}"
    );

    let dir = copy_checkpoint();
    let bent = "model.layers.0.mlp.up_proj.weight";
    rewrite(dir.path(), None, |n, s| {
        Some(if n == bent {
            vec![s[1], s[0]]
        } else {
            s.to_vec()
        })
    });
    let err = load_err(dir.path());
    assert!(
        matches!(&err, ModelError::ShapeMismatch { name, found, .. } if name == bent && found == &[32, 64]),
        "{err}"
    );
    assert!(err.to_string().contains("model.safetensors"), "{err}");
}

#[test]
fn bad_prompts() {
    let (model, _) = load("qwen3_sharded");
    let options = GenerateOptions {
        max_new_tokens: 2,
        ..GenerateOptions::default()
    };
    let err = generate(&model, &[vec![1u32], vec![]], &options, None).unwrap_err();
    assert!(matches!(err, ModelError::EmptyPrompt { index: 1 }), "{err}");
    let long = vec![1u32; model.max_position_embeddings() + 1];
    let err = generate(&model, std::slice::from_ref(&long), &options, None).unwrap_err();
    assert!(matches!(err, ModelError::TooLong { index: 0, .. }), "{err}");
    let err = generate(&model, &[vec![1u32, 9999]], &options, None).unwrap_err();
    assert!(
        matches!(err, ModelError::TokenOutOfRange { token: 9999, .. }),
        "{err}"
    );
    let none: [Vec<u32>; 0] = [];
    assert!(generate(&model, &none, &options, None).is_err());
    let n0 = GenerateOptions {
        samples_per_prompt: 0,
        ..options
    };
    assert!(generate(&model, &[vec![1u32]], &n0, None).is_err());

    let err =
        CompletionBatch::new(&model, &[Vec::<u32>::new()], &[vec![1u32]], &device()).unwrap_err();
    assert!(matches!(err, ModelError::EmptyPrompt { index: 0 }), "{err}");
    let err = CompletionBatch::new(&model, &[long], &[vec![1u32]], &device()).unwrap_err();
    assert!(matches!(err, ModelError::TooLong { .. }), "{err}");
    let err =
        CompletionBatch::new(&model, &[vec![1u32]], &[vec![1u32], vec![2]], &device()).unwrap_err();
    assert!(matches!(err, ModelError::BadRequest { .. }), "{err}");
}
