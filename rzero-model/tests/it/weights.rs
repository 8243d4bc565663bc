//! Save → load round trips.

use rzero_model::{SaveDtype, SaveOptions, load_pretrained, save_pretrained};
use safetensors::SafeTensors;

use crate::common::{FIXTURES, device, expected, load, single, to_vec};

fn params(model: &rzero_model::Qwen3) -> Vec<(String, Vec<f32>)> {
    use burn::store::{ModuleSnapshot, bridge};
    model
        .collect(None, None, false)
        .into_iter()
        .map(|t| {
            let name = t.name.clone();
            let data = bridge::into_data(t).unwrap();
            (name, data.convert::<f32>().try_into_vec::<f32>().unwrap())
        })
        .collect()
}

#[test]
fn save_then_load_is_bit_exact_single_and_sharded() {
    for name in FIXTURES {
        let (model, hf) = load(name);
        for (shard, max_shard_bytes) in [(false, usize::MAX), (true, 40_000)] {
            let dir = tempfile::tempdir().unwrap();
            save_pretrained(
                &model,
                &hf,
                dir.path(),
                &SaveOptions {
                    max_shard_bytes,
                    ..SaveOptions::default()
                },
            )
            .unwrap();
            let index = dir.path().join("model.safetensors.index.json");
            assert_eq!(index.exists(), shard, "{name}");
            let (again, hf_again) = load_pretrained(dir.path(), &device()).unwrap();
            assert_eq!(params(&model), params(&again), "{name} shard={shard}");
            assert_eq!(
                hf_again.to_config(&index).unwrap(),
                hf.to_config(&index).unwrap()
            );
        }
    }
}

#[test]
fn resaving_replaces_shards_with_a_single_file() {
    let (model, hf) = load("qwen3_sharded");
    let dir = tempfile::tempdir().unwrap();
    save_pretrained(
        &model,
        &hf,
        dir.path(),
        &SaveOptions {
            max_shard_bytes: 40_000,
            ..SaveOptions::default()
        },
    )
    .unwrap();
    save_pretrained(&model, &hf, dir.path(), &SaveOptions::default()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["config.json", "model.safetensors"]);
    let case = &expected("qwen3_sharded").cases[0];
    let (again, _) = load_pretrained(dir.path(), &device()).unwrap();
    let (tokens, positions) = single(&case.input_ids, &device());
    let a = to_vec(again.forward(tokens.clone(), positions.clone(), None));
    let b = to_vec(model.forward(tokens, positions, None));
    assert_eq!(a, b);
}

/// Each tensor's raw bytes and dtype, by name.
fn tensors(path: &std::path::Path) -> Vec<(String, String, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut out: Vec<_> = st
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, format!("{:?}", view.dtype()), view.data().to_vec()))
        .collect();
    out.sort();
    out
}

#[test]
fn bf16_save_reproduces_torch_bf16_bytes_and_is_deterministic() {
    // The fixture was written by torch in BF16; loaded as F32 (exact) and
    // saved as BF16, every tensor must come back byte for byte.
    let (model, hf) = load("qwen3_bf16_untied");
    let options = SaveOptions {
        dtype: SaveDtype::BF16,
        ..SaveOptions::default()
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    save_pretrained(&model, &hf, a.path(), &options).unwrap();
    save_pretrained(&model, &hf, b.path(), &options).unwrap();
    let file = |d: &tempfile::TempDir| d.path().join("model.safetensors");
    assert_eq!(
        std::fs::read(file(&a)).unwrap(),
        std::fs::read(file(&b)).unwrap()
    );
    let original = crate::common::fixture("qwen3_bf16_untied").join("model.safetensors");
    assert_eq!(tensors(&file(&a)), tensors(&original));
    let config = std::fs::read_to_string(a.path().join("config.json")).unwrap();
    assert!(config.contains("bfloat16"), "{config}");
}
