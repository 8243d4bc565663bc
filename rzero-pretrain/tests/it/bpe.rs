//! Byte-level BPE training for the built-in model, and its saved directory.

use rzero_model::chat::ChatMessage;
use rzero_model::tokenizer::Tokenizer;
use rzero_pretrain::PretrainError;
use rzero_pretrain::bpe::{
    BpeConfig, ENDOFTEXT, IM_END, IM_START, SPECIAL_TOKENS, THINK_CLOSE, THINK_OPEN, train_bpe,
    write_tokenizer_dir,
};

/// Deterministic arithmetic lines in the style of the synthetic corpus.
fn corpus(seed: u64, n: usize) -> Vec<String> {
    let mut x = seed;
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % m
    };
    (0..n)
        .map(|_| {
            let (a, b) = (next(1000), next(1000));
            match next(3) {
                0 => format!("Question: What is {a} + {b}? Answer: {}", a + b),
                1 => format!("{IM_START}user\nCompute {a} * {b}.{IM_END}\n{THINK_OPEN}\n{a} * {b} = {}\n{THINK_CLOSE}\n\n\\boxed{{{}}}{IM_END}", a * b, a * b),
                _ => format!("Tom has {a} apples and gives away {b}; how many are left? ({a} - {b}){ENDOFTEXT}"),
            }
        })
        .collect()
}

fn trained(vocab_size: usize) -> tokenizers::Tokenizer {
    let lines = corpus(1, 3000);
    let config = BpeConfig {
        vocab_size,
        ..BpeConfig::default()
    };
    train_bpe(lines.iter().map(String::as_str), config).unwrap()
}

/// The vocab-512 tokenizer most tests share, trained once per test binary.
fn shared() -> &'static tokenizers::Tokenizer {
    static TOKENIZER: std::sync::OnceLock<tokenizers::Tokenizer> = std::sync::OnceLock::new();
    TOKENIZER.get_or_init(|| trained(512))
}

#[test]
fn round_trip_is_exact_on_held_out_lines() {
    let tok = shared();
    let held_out = corpus(99, 300);
    for line in held_out
        .iter()
        .map(String::as_str)
        .chain(["unseen: ünïcödé ✓ tabs\t\n  spaces", ""])
    {
        let ids = tok.encode(line, false).unwrap().get_ids().to_vec();
        assert_eq!(tok.decode(&ids, false).unwrap(), line);
    }
}

#[test]
fn digits_are_single_tokens() {
    let tok = shared();
    for line in corpus(7, 100) {
        let ids = tok.encode(line.as_str(), false).unwrap().get_ids().to_vec();
        for id in ids {
            let piece = tok.decode(&[id], false).unwrap();
            if piece.chars().any(|c| c.is_ascii_digit()) {
                assert_eq!(
                    piece.chars().count(),
                    1,
                    "token {id} = {piece:?} in {line:?}"
                );
            }
        }
    }
}

#[test]
fn special_tokens_are_atomic_with_fixed_ids() {
    let tok = shared();
    for (id, (text, _)) in SPECIAL_TOKENS.iter().enumerate() {
        assert_eq!(tok.token_to_id(text), Some(id as u32), "{text}");
        let ids = tok
            .encode(format!("a{text}b").as_str(), false)
            .unwrap()
            .get_ids()
            .to_vec();
        assert!(ids.contains(&(id as u32)), "{text} split: {ids:?}");
    }
    let text = format!("{IM_START}hi{THINK_OPEN}x{THINK_CLOSE}{IM_END}");
    let ids = tok.encode(text.as_str(), false).unwrap().get_ids().to_vec();
    // Skipping special tokens drops the ChatML markers but keeps the think tags.
    assert_eq!(
        tok.decode(&ids, true).unwrap(),
        format!("hi{THINK_OPEN}x{THINK_CLOSE}")
    );
}

#[test]
fn vocab_target_is_a_maximum() {
    let tok = trained(400);
    let size = tok.get_vocab_size(true);
    assert!(size <= 400 && size > 300, "vocab {size}");
}

#[test]
fn too_small_vocab_is_rejected() {
    let config = BpeConfig {
        vocab_size: 100,
        ..BpeConfig::default()
    };
    let err = train_bpe(["a b c"].into_iter(), config).unwrap_err();
    assert!(matches!(err, PretrainError::BadBpeConfig { .. }), "{err}");
}

#[test]
fn saved_dir_reloads_with_eos_pad_and_chat_template() {
    let tok = shared();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model");
    write_tokenizer_dir(tok, &out).unwrap();
    let loaded = Tokenizer::from_dir(&out).unwrap();
    let (eot, im_end) = (
        tok.token_to_id(ENDOFTEXT).unwrap(),
        tok.token_to_id(IM_END).unwrap(),
    );
    assert_eq!(loaded.eos_token_ids(), [im_end, eot]);
    assert_eq!(loaded.pad_token_id(), eot);
    assert_eq!(loaded.vocab_size(), tok.get_vocab_size(true));
    let messages = [
        ChatMessage::system("S"),
        ChatMessage::user("What is 2 + 3?"),
    ];
    let prompt = loaded.apply_chat_template(&messages, true).unwrap();
    assert_eq!(
        prompt,
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n"
    );
    let line = "Question: What is 12 + 30? Answer: 42";
    assert_eq!(
        loaded.encode(line).unwrap(),
        tok.encode(line, true).unwrap().get_ids()
    );
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn training_is_deterministic() {
    let a = trained(450).to_string(false).unwrap();
    let b = trained(450).to_string(false).unwrap();
    assert_eq!(a, b);
}

fn fixture() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bpe")
}

#[test]
fn written_files_match_the_committed_fixture() {
    let corpus = std::fs::read_to_string(fixture().join("corpus.txt")).unwrap();
    let config = BpeConfig {
        vocab_size: 400,
        ..BpeConfig::default()
    };
    let tok = train_bpe(corpus.lines(), config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_tokenizer_dir(&tok, dir.path()).unwrap();
    for name in [
        "tokenizer.json",
        "tokenizer_config.json",
        "generation_config.json",
    ] {
        let ours = std::fs::read_to_string(dir.path().join(name)).unwrap();
        let committed = std::fs::read_to_string(fixture().join("tiny").join(name)).unwrap();
        assert!(ours == committed, "{name} differs from the fixture");
    }
}

#[derive(serde::Deserialize)]
struct Expected {
    vocab_size: usize,
    eos_token_id: u32,
    pad_token_id: u32,
    conversations: std::collections::BTreeMap<String, Vec<ChatMessage>>,
    renders: Vec<Render>,
    encodes: Vec<Encode>,
}

#[derive(serde::Deserialize)]
struct Render {
    conversation: String,
    add_generation_prompt: bool,
    text: String,
}

#[derive(serde::Deserialize)]
struct Encode {
    text: String,
    ids: Vec<u32>,
    decoded: String,
    decoded_skip_special: String,
}

#[test]
fn transformers_reads_the_written_dir_as_we_do() {
    let text = std::fs::read_to_string(fixture().join("expected.json")).unwrap();
    let expected: Expected = serde_json::from_str(&text).unwrap();
    let tok = Tokenizer::from_dir(&fixture().join("tiny")).unwrap();
    assert_eq!(tok.vocab_size(), expected.vocab_size);
    assert_eq!(tok.eos_token_ids()[0], expected.eos_token_id);
    assert_eq!(tok.pad_token_id(), expected.pad_token_id);
    for r in &expected.renders {
        let messages = &expected.conversations[&r.conversation];
        let got = tok
            .apply_chat_template(messages, r.add_generation_prompt)
            .unwrap();
        assert_eq!(
            got, r.text,
            "{} agp={}",
            r.conversation, r.add_generation_prompt
        );
    }
    for e in &expected.encodes {
        assert_eq!(tok.encode(&e.text).unwrap(), e.ids, "{:?}", e.text);
        assert_eq!(tok.decode(&e.ids, false).unwrap(), e.decoded);
        assert_eq!(tok.decode(&e.ids, true).unwrap(), e.decoded_skip_special);
    }
}
