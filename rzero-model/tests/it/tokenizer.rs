//! Tokenizer directories and chat templates against transformers' output
//! (fixture: tests/fixtures/chat_template/make_fixture.py).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rzero_model::ModelError;
use rzero_model::chat::ChatMessage;
use rzero_model::tokenizer::Tokenizer;
use serde::Deserialize;

#[derive(Deserialize)]
struct Expected {
    dirs: BTreeMap<String, DirExpected>,
    conversations: BTreeMap<String, Vec<ChatMessage>>,
}

#[derive(Deserialize)]
struct DirExpected {
    vocab_size: usize,
    eos_token_id: u32,
    pad_token_id: Option<u32>,
    renders: Vec<Render>,
    encodes: Vec<Encode>,
}

#[derive(Deserialize)]
struct Render {
    conversation: String,
    add_generation_prompt: bool,
    extra: serde_json::Map<String, serde_json::Value>,
    text: String,
}

#[derive(Deserialize)]
struct Encode {
    text: String,
    ids: Vec<u32>,
    decoded: String,
    decoded_skip_special: String,
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chat_template")
}

fn expected() -> Expected {
    let text = std::fs::read_to_string(fixture().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn chat_templates_match_transformers_byte_for_byte() {
    let expected = expected();
    let mut checked = 0;
    for (name, dir) in &expected.dirs {
        let tok = Tokenizer::from_dir(&fixture().join(name)).unwrap();
        for r in &dir.renders {
            let messages = &expected.conversations[&r.conversation];
            let got = tok
                .apply_chat_template_with(messages, r.add_generation_prompt, &r.extra)
                .unwrap();
            assert_eq!(
                got, r.text,
                "{name}/{} agp={} extra={:?}",
                r.conversation, r.add_generation_prompt, r.extra
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} renders checked");
}

#[test]
fn encode_and_decode_match_transformers() {
    let expected = expected();
    let dir = &expected.dirs["qwen3"];
    let tok = Tokenizer::from_dir(&fixture().join("qwen3")).unwrap();
    for e in &dir.encodes {
        assert_eq!(tok.encode(&e.text).unwrap(), e.ids, "encode {:?}", e.text);
        assert_eq!(
            tok.decode(&e.ids, false).unwrap(),
            e.decoded,
            "decode {:?}",
            e.text
        );
        assert_eq!(
            tok.decode(&e.ids, true).unwrap(),
            e.decoded_skip_special,
            "decode skip {:?}",
            e.text
        );
    }
}

#[test]
fn special_token_ids_match_transformers() {
    for (name, dir) in expected().dirs {
        let tok = Tokenizer::from_dir(&fixture().join(&name)).unwrap();
        assert_eq!(tok.vocab_size(), dir.vocab_size, "{name}");
        assert_eq!(tok.eos_token_ids()[0], dir.eos_token_id, "{name}");
        match dir.pad_token_id {
            Some(pad) => assert_eq!(tok.pad_token_id(), pad, "{name}"),
            // transformers has no pad token here; rzero pads with the first EOS id.
            None => assert_eq!(tok.pad_token_id(), dir.eos_token_id, "{name}"),
        }
    }
}

#[test]
fn generation_config_eos_list_wins_over_tokenizer_config() {
    let tok = Tokenizer::from_dir(&fixture().join("qwen3")).unwrap();
    let im_end = tok.token_to_id("<|im_end|>").unwrap();
    let eot = tok.token_to_id("<|endoftext|>").unwrap();
    assert_eq!(tok.eos_token_ids(), [im_end, eot]);
    assert_eq!(tok.pad_token_id(), eot);
}

/// A directory with only the fixture's tokenizer.json and the given extra files.
fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture().join("qwen3/tokenizer.json"),
        dir.path().join("tokenizer.json"),
    )
    .unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn without_template_the_design_fallback_is_used() {
    let dir = dir_with(&[("config.json", r#"{"eos_token_id": 2, "pad_token_id": 0}"#)]);
    let tok = Tokenizer::from_dir(dir.path()).unwrap();
    assert!(tok.chat_template().is_none());
    let m = [ChatMessage::system("S"), ChatMessage::user("U")];
    assert_eq!(
        tok.apply_chat_template(&m, true).unwrap(),
        "system: S\nuser: U"
    );
    assert_eq!((tok.eos_token_ids(), tok.pad_token_id()), (&[2][..], 0));
}

#[test]
fn missing_tokenizer_json_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(matches!(err, ModelError::Io { .. }), "{err}");
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
}

#[test]
fn corrupt_files_are_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), "{\"model\": 3}").unwrap();
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(err, ModelError::Tokenizer { .. }) && err.to_string().contains("tokenizer.json"),
        "{err}"
    );

    let dir = dir_with(&[("tokenizer_config.json", "{not json")]);
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(err, ModelError::Json { .. }) && err.to_string().contains("tokenizer_config.json"),
        "{err}"
    );

    let dir = dir_with(&[("tokenizer_config.json", r#"{"chat_template": "{% for %}"}"#)]);
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(err, ModelError::Template { .. })
            && err.to_string().contains("tokenizer_config.json"),
        "{err}"
    );
}

#[test]
fn unknown_special_token_is_an_error() {
    let dir = dir_with(&[("tokenizer_config.json", r#"{"eos_token": "<|nope|>"}"#)]);
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(err, ModelError::UnknownToken { ref field, .. } if field == "eos_token"),
        "{err}"
    );
}

#[test]
fn raise_exception_in_template_is_an_error_not_a_panic() {
    let dir = dir_with(&[(
        "tokenizer_config.json",
        r#"{"chat_template": "{% if messages[0].role != 'user' %}{{ raise_exception('user first') }}{% endif %}ok"}"#,
    )]);
    let tok = Tokenizer::from_dir(dir.path()).unwrap();
    assert_eq!(
        tok.apply_chat_template(&[ChatMessage::user("x")], false)
            .unwrap(),
        "ok"
    );
    let err = tok
        .apply_chat_template(&[ChatMessage::system("x")], false)
        .unwrap_err();
    assert!(err.to_string().contains("user first"), "{err}");
}

#[test]
fn decode_skips_ids_outside_the_vocabulary() {
    let tok = Tokenizer::from_dir(&fixture().join("qwen3")).unwrap();
    let ids = tok.encode("Hello").unwrap();
    let mut with_bad = ids.clone();
    with_bad.push(1_000_000);
    assert_eq!(tok.decode(&with_bad, false).unwrap(), "Hello");
}
