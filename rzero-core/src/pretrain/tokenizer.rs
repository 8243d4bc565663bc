//! The tokenizer of a pretrained model: byte-level BPE with digits split one
//! by one (as Qwen does), and its Hugging Face files (`tokenizer.json`,
//! `tokenizer_config.json` with the Qwen3 chat template,
//! `generation_config.json`).

use std::path::Path;

use rzero_data::synthetic::render::{SPECIAL_TOKENS, THINK_CLOSE, THINK_OPEN};
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{
    AddedToken, DecoderWrapper, NormalizerWrapper, PostProcessorWrapper, PreTokenizerWrapper,
    Tokenizer, TokenizerBuilder,
};

use crate::error::{CoreError, Result};

/// End of text; also the padding token.
pub const ENDOFTEXT: &str = "<|endoftext|>";
/// Qwen3's chat template (as shipped with Qwen3), rendered by minijinja.
pub const CHAT_TEMPLATE: &str = include_str!("qwen3_chat_template.jinja");

fn tok_error(path: &Path, e: impl std::fmt::Display) -> CoreError {
    CoreError::State {
        path: path.to_path_buf(),
        message: format!("tokenizer: {e}"),
    }
}

/// Special tokens, in id order: `<|endoftext|>` 0, `<|im_start|>` 1,
/// `<|im_end|>` 2, `<think>` 3, `</think>` 4.
pub fn special_tokens() -> Vec<&'static str> {
    std::iter::once(ENDOFTEXT).chain(SPECIAL_TOKENS).collect()
}

/// Trains a byte-level BPE of at most `vocab_size` ids on `texts`.
/// `dir` only names the output in errors.
pub fn train_tokenizer(texts: &[String], vocab_size: usize, dir: &Path) -> Result<Tokenizer> {
    let specials: Vec<AddedToken> = special_tokens()
        .into_iter()
        .map(|t| AddedToken::from(t, true))
        .collect();
    let mut trainer = BpeTrainerBuilder::new()
        .show_progress(false)
        .vocab_size(vocab_size)
        .min_frequency(2)
        .special_tokens(specials)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build();
    let byte_level = || ByteLevel::new(false, true, true);
    let pre = Sequence::new(vec![Digits::new(true).into(), byte_level().into()]);
    let mut tokenizer = TokenizerBuilder::<
        BPE,
        NormalizerWrapper,
        PreTokenizerWrapper,
        PostProcessorWrapper,
        DecoderWrapper,
    >::new()
    .with_model(BPE::default())
    .with_normalizer(None)
    .with_pre_tokenizer(Some(pre.into()))
    .with_post_processor(Some(byte_level().into()))
    .with_decoder(Some(byte_level().into()))
    .build()
    .map_err(|e| tok_error(dir, e))?;
    tokenizer
        .train(&mut trainer, texts.iter())
        .map_err(|e| tok_error(dir, e))?;
    let tokenizer: Tokenizer = tokenizer.into();
    think_tokens_not_special(&tokenizer, dir)
}

/// `<think>` and `</think>` stay single tokens but are not "special" (as in
/// Qwen3), so decoding with `skip_special_tokens` keeps them and the Solver
/// format reward can see them.
fn think_tokens_not_special(tokenizer: &Tokenizer, dir: &Path) -> Result<Tokenizer> {
    let json = tokenizer.to_string(false).map_err(|e| tok_error(dir, e))?;
    let mut value: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| tok_error(dir, e))?;
    if let Some(added) = value.get_mut("added_tokens").and_then(|v| v.as_array_mut()) {
        for token in added {
            let content = token
                .get("content")
                .and_then(|c| c.as_str())
                .unwrap_or_default();
            if [THINK_OPEN, THINK_CLOSE].contains(&content) {
                token["special"] = serde_json::Value::Bool(false);
            }
        }
    }
    value
        .to_string()
        .parse::<Tokenizer>()
        .map_err(|e| tok_error(dir, e))
}

/// Token ids of `text` (special tokens recognised, nothing added).
pub fn encode(tokenizer: &Tokenizer, text: &str, dir: &Path) -> Result<Vec<u32>> {
    let encoding = tokenizer
        .encode(text, false)
        .map_err(|e| tok_error(dir, e))?;
    Ok(encoding.get_ids().to_vec())
}

/// The id of `token`, or an error naming `dir`.
pub fn token_id(tokenizer: &Tokenizer, token: &str, dir: &Path) -> Result<u32> {
    tokenizer
        .token_to_id(token)
        .ok_or_else(|| tok_error(dir, format!("no id for {token:?}")))
}

/// Writes `tokenizer.json`, `tokenizer_config.json` and
/// `generation_config.json` into `dir`, atomically.
pub fn write_tokenizer_files(tokenizer: &Tokenizer, dir: &Path) -> Result<()> {
    let json = tokenizer.to_string(false).map_err(|e| tok_error(dir, e))?;
    rzero_data::atomic_write_bytes(dir.join("tokenizer.json"), json.as_bytes())?;
    let added: serde_json::Map<String, serde_json::Value> = special_tokens()
        .iter()
        .enumerate()
        .map(|(id, t)| {
            let special = ![THINK_OPEN, THINK_CLOSE].contains(t);
            let entry = serde_json::json!({
                "content": t, "lstrip": false, "normalized": false,
                "rstrip": false, "single_word": false, "special": special,
            });
            (id.to_string(), entry)
        })
        .collect();
    let config = serde_json::json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "added_tokens_decoder": added,
        "bos_token": null,
        "eos_token": rzero_data::synthetic::IM_END,
        "pad_token": ENDOFTEXT,
        "model_max_length": 512,
        "clean_up_tokenization_spaces": false,
        "chat_template": CHAT_TEMPLATE,
    });
    let eos = token_id(tokenizer, rzero_data::synthetic::IM_END, dir)?;
    let pad = token_id(tokenizer, ENDOFTEXT, dir)?;
    let generation = serde_json::json!({
        "bos_token_id": pad,
        "eos_token_id": eos,
        "pad_token_id": pad,
        "do_sample": true,
        "temperature": 1.0,
        "top_p": 1.0,
    });
    for (name, value) in [
        ("tokenizer_config.json", config),
        ("generation_config.json", generation),
    ] {
        let text = serde_json::to_string_pretty(&value).map_err(|e| tok_error(dir, e))?;
        rzero_data::atomic_write_bytes(dir.join(name), text.as_bytes())?;
    }
    Ok(())
}

/// Loads `dir/tokenizer.json`.
pub fn load_tokenizer(dir: &Path) -> Result<Tokenizer> {
    let path = dir.join("tokenizer.json");
    Tokenizer::from_file(&path).map_err(|e| tok_error(&path, e))
}
