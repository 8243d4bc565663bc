//! `rzero pretrain` on the seconds-long smoke config: the loss falls, an
//! interrupted run resumes to the same weights, the tokenizer round-trips,
//! and the output directory loads with rzero-model.

use std::path::Path;

use burn::prelude::*;
use rzero_pretrain::eval::{compare_with_transformers, read_fixture};
use rzero_pretrain::run::corpus_documents;
use rzero_pretrain::tokenizer::{encode, load_tokenizer, train_tokenizer};
use rzero_pretrain::{NoProgress, PretrainConfig, PretrainOptions, pretrain};

fn options(out: &Path, resume: bool, stop_after: Option<u64>) -> PretrainOptions {
    PretrainOptions {
        out: out.to_path_buf(),
        resume,
        device: Device::flex(),
        stop_after,
        command: "rzero pretrain --preset smoke".into(),
        stop: Default::default(),
    }
}

#[test]
fn smoke_run_loss_falls_and_the_output_loads_with_rzero_model() {
    let dir = tempfile::tempdir().unwrap();
    let config = PretrainConfig::smoke();
    let outcome = pretrain(&config, &options(dir.path(), false, None), &mut NoProgress).unwrap();
    assert!(outcome.finished);
    let history = &outcome.state.history;
    assert_eq!(history.len(), 3, "{history:?}");
    let (first, last) = (history[0], history[history.len() - 1]);
    assert!(last.val_loss < first.val_loss - 0.3, "{history:?}");
    assert!(last.train_loss < first.train_loss, "{history:?}");
    for name in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "generation_config.json",
        "README.md",
    ] {
        assert!(dir.path().join(name).exists(), "{name}");
    }
    let (model, hf) = rzero_model::load_pretrained(dir.path(), &Device::flex()).unwrap();
    let tokenizer = load_tokenizer(dir.path()).unwrap();
    assert_eq!(model.vocab_size(), tokenizer.get_vocab_size(true));
    assert_eq!(
        hf.eos_token_ids(),
        vec![tokenizer.token_to_id("<|im_end|>").unwrap()]
    );
    let card = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
    assert!(
        card.contains("rzero pretrain --preset smoke") && card.contains("| 12 |"),
        "{card}"
    );
}

#[test]
fn a_second_stage_starts_from_the_first_stages_weights_and_tokenizer() {
    let first = tempfile::tempdir().unwrap();
    let config = PretrainConfig::smoke();
    let a = pretrain(
        &config,
        &options(first.path(), false, None),
        &mut NoProgress,
    )
    .unwrap();
    let second = tempfile::tempdir().unwrap();
    let stage2 = PretrainConfig {
        init_from: Some(first.path().to_path_buf()),
        seed: 7,
        ..config.clone()
    };
    let b = pretrain(
        &stage2,
        &options(second.path(), false, None),
        &mut NoProgress,
    )
    .unwrap();
    let read = |d: &Path| std::fs::read(d.join("tokenizer.json")).unwrap();
    assert_eq!(
        read(first.path()),
        read(second.path()),
        "the tokenizer is kept"
    );
    // A fresh start is far worse after its first 4 steps than a trained model.
    let (a0, b0) = (a.state.history[0].val_loss, b.state.history[0].val_loss);
    let a_end = a.state.history.last().unwrap().val_loss;
    assert!(b0 < a0 - 0.3 && b0 < a_end + 0.3, "{a0} {a_end} {b0}");
    // A directory that is not a model is an error naming it.
    let bad = PretrainConfig {
        init_from: Some(second.path().join("missing")),
        ..config
    };
    let third = tempfile::tempdir().unwrap();
    let err = pretrain(&bad, &options(third.path(), false, None), &mut NoProgress).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn resumed_run_matches_an_uninterrupted_one_bit_for_bit() {
    let config = PretrainConfig::smoke();
    let whole = tempfile::tempdir().unwrap();
    let a = pretrain(
        &config,
        &options(whole.path(), false, None),
        &mut NoProgress,
    )
    .unwrap();
    let split = tempfile::tempdir().unwrap();
    let first = pretrain(
        &config,
        &options(split.path(), false, Some(5)),
        &mut NoProgress,
    )
    .unwrap();
    assert!(!first.finished && first.state.step == 5);
    // Without --resume an existing run is not overwritten.
    assert!(
        pretrain(
            &config,
            &options(split.path(), false, None),
            &mut NoProgress
        )
        .is_err()
    );
    let b = pretrain(&config, &options(split.path(), true, None), &mut NoProgress).unwrap();
    assert!(b.finished);
    let losses = |h: &[rzero_pretrain::checkpoint::LossPoint]| {
        h.iter()
            .map(|p| (p.step, p.train_loss, p.val_loss))
            .collect::<Vec<_>>()
    };
    assert_eq!(losses(&a.state.history), losses(&b.state.history));
    let (a, b) = (final_weights(whole.path()), final_weights(split.path()));
    assert_eq!(a.len(), b.len());
    for ((name_a, bytes_a), (name_b, bytes_b)) in a.iter().zip(&b) {
        assert_eq!(name_a, name_b);
        assert!(bytes_a == bytes_b, "{name_a} differs");
    }
}

/// Every tensor of the last checkpoint, by name (the file's header order
/// is not fixed, so compare contents).
fn final_weights(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(dir.join("checkpoints/step_000012/model.safetensors")).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<(String, Vec<u8>)> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect();
    tensors.sort();
    tensors
}

#[test]
fn tokenizer_round_trips_corpus_lines_and_splits_digits() {
    let config = PretrainConfig::smoke();
    let (train, validation) = corpus_documents(&config).unwrap();
    let texts: Vec<String> = train.iter().map(|d| d.text()).collect();
    let dir = tempfile::tempdir().unwrap();
    let tokenizer = train_tokenizer(&texts, config.vocab_size).unwrap();
    for doc in validation.iter().chain(&train[..20]) {
        let text = doc.text();
        let ids = encode(&tokenizer, &text, dir.path()).unwrap();
        assert_eq!(tokenizer.decode(&ids, false).unwrap(), text);
        // The chat markers are single tokens.
        let im_start = tokenizer.token_to_id("<|im_start|>").unwrap();
        assert_eq!(ids.iter().filter(|&&t| t == im_start).count(), 3);
    }
    assert_eq!(encode(&tokenizer, "12345", dir.path()).unwrap().len(), 5);
    // Decoding without special tokens keeps <think> (as Qwen3 does).
    let ids = encode(
        &tokenizer,
        "<think>\n1+2=3\n</think>\n\n\\boxed{3}<|im_end|>",
        dir.path(),
    )
    .unwrap();
    assert_eq!(
        tokenizer.decode(&ids, true).unwrap(),
        "<think>\n1+2=3\n</think>\n\n\\boxed{3}"
    );
}

#[test]
fn shipped_model_matches_transformers() {
    // The directory rzero-core embeds as its built-in model.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rzero-core/models/tiny");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny_model/expected.json");
    let fixture = read_fixture(&fixture).unwrap();
    let check = compare_with_transformers(&dir, &fixture, &Device::flex()).unwrap();
    assert!(check.prompt_matches, "chat template renders another prompt");
    assert!(check.ids_match, "tokenizers disagree");
    assert!(check.max_abs_diff < 1e-3, "{check:?}");
    assert!(check.greedy_matches, "{check:?}");
}
