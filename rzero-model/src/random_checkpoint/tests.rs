use std::path::Path;

use burn::prelude::*;
use safetensors::SafeTensors;

use super::*;
use crate::tokenizer::Tokenizer;
use crate::weights::{INDEX_FILE, SINGLE_FILE, load_pretrained};

/// A few-KB shape: vocab 64, hidden 16, 2 layers, 2 / 1 heads of 8, untied.
fn tiny() -> RandomCheckpoint {
    RandomCheckpoint::new(Qwen3Config::new(64, 16, 32, 2, 2, 1, 8, 64)).with_seed(3)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn params(model: &crate::Qwen3) -> Vec<Vec<f32>> {
    use burn::store::{ModuleSnapshot, bridge};
    model
        .collect(None, None, false)
        .into_iter()
        .map(|t| {
            bridge::into_data(t)
                .unwrap()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap()
        })
        .collect()
}

#[test]
fn file_holds_the_bf16_of_each_value_and_the_same_spec_gives_the_same_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let spec = tiny();
    write(a.path(), &spec).unwrap();
    write(b.path(), &spec).unwrap();
    let bytes = read(&a.path().join(SINGLE_FILE));
    assert_eq!(bytes, read(&b.path().join(SINGLE_FILE)));
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    let want: Vec<String> = spec.tensors().into_iter().map(|t| t.name).collect();
    assert_eq!(names, want.iter().collect::<Vec<_>>());
    for t in spec.tensors() {
        let view = file.tensor(&t.name).unwrap();
        assert_eq!(
            (view.dtype(), view.shape()),
            (safetensors::Dtype::BF16, &t.shape[..])
        );
        for (i, pair) in view.data().chunks_exact(2).enumerate() {
            let want = crate::weights::f32_to_bf16(spec.value(&t.name, i).unwrap());
            assert_eq!(
                u16::from_le_bytes([pair[0], pair[1]]),
                want,
                "{} [{i}]",
                t.name
            );
        }
    }
    let other = tempfile::tempdir().unwrap();
    write(other.path(), &spec.clone().with_seed(4)).unwrap();
    assert_ne!(bytes, read(&other.path().join(SINGLE_FILE)));
}

#[test]
fn sharded_and_f32_checkpoints_load_to_the_same_model() {
    let single = tempfile::tempdir().unwrap();
    let sharded = tempfile::tempdir().unwrap();
    let spec = tiny().with_dtype(SaveDtype::F32);
    write(single.path(), &spec).unwrap();
    let written = write(
        sharded.path(),
        &RandomCheckpoint {
            max_shard_bytes: 2_000,
            ..spec.clone()
        },
    )
    .unwrap();
    assert!(written.weight_files.len() > 2, "{:?}", written.weight_files);
    assert!(sharded.path().join(INDEX_FILE).is_file());
    assert!(!sharded.path().join(SINGLE_FILE).exists());
    let device = Device::flex();
    let (a, hf) = load_pretrained(single.path(), &device).unwrap();
    let (b, _) = load_pretrained(sharded.path(), &device).unwrap();
    assert_eq!(params(&a), params(&b));
    assert_eq!(hf.torch_dtype.as_deref(), Some("float32"));
    assert_eq!(written.parameters, spec.config.num_params());
    // F32 keeps the values exactly.
    let embed = a
        .embed_tokens
        .weight
        .val()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(
        embed[17],
        spec.value("model.embed_tokens.weight", 17).unwrap()
    );
}

#[test]
fn rewriting_a_sharded_directory_leaves_only_the_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let small_shards = RandomCheckpoint {
        max_shard_bytes: 2_000,
        ..tiny()
    };
    write(dir.path(), &small_shards).unwrap();
    write(dir.path(), &tiny()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let want = [
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ];
    assert_eq!(names, want);
    write_config(dir.path(), &tiny()).unwrap();
    assert!(!dir.path().join(SINGLE_FILE).exists());
}

#[test]
fn zero_layers_is_an_error_naming_the_field_and_writes_nothing() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("out");
    let err = write(&dir, &tiny().with_layers(0)).unwrap_err();
    assert!(matches!(err, ModelError::BadConfig { .. }), "{err}");
    assert!(err.to_string().contains("config.json"), "{err}");
    assert!(!dir.exists());
}

#[test]
fn special_ids_are_the_bundled_tokenizers_and_it_is_the_builtin_one() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &tiny()).unwrap();
    let tok = Tokenizer::from_dir(dir.path()).unwrap();
    assert_eq!(tok.token_to_id("<|endoftext|>"), Some(ENDOFTEXT_ID));
    assert_eq!(tok.token_to_id("<|im_end|>"), Some(IM_END_ID));
    assert_eq!(tok.eos_token_ids(), &[IM_END_ID, ENDOFTEXT_ID]);
    assert_eq!(tok.pad_token_id(), ENDOFTEXT_ID);
    // The copy in this crate must not drift from rzero's built-in model.
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rzero-core/models/tiny");
    if builtin.is_dir() {
        assert_eq!(read(&builtin.join("tokenizer.json")), TOKENIZER_JSON);
        assert_eq!(
            read(&builtin.join("tokenizer_config.json")),
            TOKENIZER_CONFIG_JSON
        );
    }
}

#[test]
fn preset_configs_read_back_as_the_published_shapes() {
    let dir = tempfile::tempdir().unwrap();
    for preset in Preset::ALL {
        write_config(dir.path(), &RandomCheckpoint::preset(preset)).unwrap();
        let path = dir.path().join("config.json");
        let hf = HfQwen3Config::from_file(&path).unwrap();
        assert_eq!(hf.to_config(&path).unwrap(), preset.config(), "{preset}");
        assert_eq!(hf.torch_dtype.as_deref(), Some("bfloat16"));
        assert_eq!(hf.max_position_embeddings, Some(40_960));
    }
}

#[test]
fn value_is_none_outside_the_checkpoint() {
    let spec = tiny();
    assert_eq!(spec.value("model.norm.weight", 15), Some(1.0));
    assert_eq!(spec.value("model.norm.weight", 16), None);
    assert_eq!(spec.value("model.layers.2.mlp.up_proj.weight", 0), None);
}
