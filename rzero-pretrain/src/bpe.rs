//! Training a byte-level BPE tokenizer for a model built from scratch, and
//! writing its Hugging Face files.
//!
//! The pre-tokenizer is `Sequence[Digits(individual), ByteLevel]`: every
//! digit is its own token (as in Qwen, so arithmetic sees place value), and
//! `ByteLevel` has `add_prefix_space = false` so decoding adds no space.
//! Special tokens get the first ids, in [`SPECIAL_TOKENS`] order; `<think>`
//! and `</think>` are atomic but not "special" (as in Qwen3), so decoding
//! with `skip_special` keeps them.

use rzero_fs::write_atomic;
use std::path::Path;

use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{
    AddedToken, DecoderWrapper, NormalizerWrapper, PostProcessorWrapper, PreTokenizerWrapper,
    TokenizerBuilder,
};

use rzero_model::ModelError;
use rzero_model::generation_config::GenerationConfig;

use crate::error::{PretrainError, Result};

/// End of a document; also the padding token.
pub const ENDOFTEXT: &str = "<|endoftext|>";
/// Opens a chat turn.
pub const IM_START: &str = "<|im_start|>";
/// Closes a chat turn; the EOS token of chat generation.
pub const IM_END: &str = "<|im_end|>";
/// Opens the reasoning block.
pub const THINK_OPEN: &str = "<think>";
/// Closes the reasoning block.
pub const THINK_CLOSE: &str = "</think>";

/// Atomic tokens with their "special" flag, in id order (ids 0 to 4).
pub const SPECIAL_TOKENS: [(&str, bool); 5] = [
    (ENDOFTEXT, true),
    (IM_START, true),
    (IM_END, true),
    (THINK_OPEN, false),
    (THINK_CLOSE, false),
];

/// The chat template written into `tokenizer_config.json`: Qwen3's, as
/// shipped in `Qwen/Qwen3-*` (ChatML turns, `<think>` handling).
pub const QWEN3_CHAT_TEMPLATE: &str = include_str!("qwen3_chat_template.jinja");

/// The 256 byte symbols plus [`SPECIAL_TOKENS`]: the smallest vocabulary.
pub const MIN_VOCAB_SIZE: usize = 256 + SPECIAL_TOKENS.len();

/// Settings of [`train_bpe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpeConfig {
    /// Largest vocabulary, special tokens included; a narrow corpus may stop short.
    pub vocab_size: usize,
    /// Pairs seen fewer times than this are never merged.
    pub min_frequency: u64,
}

impl Default for BpeConfig {
    fn default() -> Self {
        Self {
            vocab_size: 1024,
            min_frequency: 2,
        }
    }
}

/// Trains a byte-level BPE on `lines` (see the module doc for its layout).
///
/// Errors when `config.vocab_size < MIN_VOCAB_SIZE` or training fails.
pub fn train_bpe<'a>(
    lines: impl Iterator<Item = &'a str> + Send,
    config: BpeConfig,
) -> Result<tokenizers::Tokenizer> {
    if config.vocab_size < MIN_VOCAB_SIZE {
        return Err(PretrainError::BadBpeConfig {
            reason: format!(
                "vocab_size {} is below {MIN_VOCAB_SIZE} (256 bytes + {} special tokens)",
                config.vocab_size,
                SPECIAL_TOKENS.len()
            ),
        });
    }
    let specials = SPECIAL_TOKENS
        .iter()
        .map(|&(text, special)| AddedToken::from(text, special).normalized(false))
        .collect();
    let mut trainer = BpeTrainerBuilder::new()
        .show_progress(false)
        .vocab_size(config.vocab_size)
        .min_frequency(config.min_frequency)
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
    .map_err(|source| PretrainError::BpeTrain { source })?;
    tokenizer
        .train(&mut trainer, lines)
        .map_err(|source| PretrainError::BpeTrain { source })?;
    Ok(tokenizer.into())
}

/// Writes `tokenizer.json`, `tokenizer_config.json` (Qwen3 chat template,
/// eos `<|im_end|>`, pad `<|endoftext|>`) and `generation_config.json`
/// (eos `[<|im_end|>, <|endoftext|>]`, pad `<|endoftext|>`) into `dir`,
/// creating it; each file is written atomically.
///
/// The directory loads with [`Tokenizer::from_dir`](rzero_model::tokenizer::Tokenizer::from_dir)
/// and with transformers' `AutoTokenizer.from_pretrained`.
pub fn write_tokenizer_dir(tokenizer: &tokenizers::Tokenizer, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| PretrainError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let tokenizer_path = dir.join("tokenizer.json");
    let id = |text: &str| {
        tokenizer
            .token_to_id(text)
            .ok_or_else(|| ModelError::UnknownToken {
                path: tokenizer_path.clone(),
                field: "added_tokens".into(),
                token: text.into(),
            })
    };
    let (eot, im_end) = (id(ENDOFTEXT)?, id(IM_END)?);
    let json = tokenizer
        .to_string(true)
        .map_err(|source| ModelError::Tokenizer {
            path: tokenizer_path.clone(),
            source,
        })?;
    write_atomic(&tokenizer_path, json.as_bytes())?;

    let config = tokenizer_config(tokenizer);
    let text = serde_json::to_string_pretty(&config).unwrap_or_default() + "\n";
    write_atomic(dir.join("tokenizer_config.json"), text.as_bytes())?;

    let generation = GenerationConfig {
        eos_token_id: vec![im_end, eot],
        pad_token_id: Some(eot),
        ..GenerationConfig::default()
    };
    Ok(write_atomic(
        dir.join("generation_config.json"),
        generation.to_json_string().as_bytes(),
    )?)
}

/// `tokenizer_config.json` as transformers reads it (`PreTrainedTokenizerFast`).
fn tokenizer_config(tokenizer: &tokenizers::Tokenizer) -> serde_json::Value {
    let added: serde_json::Map<String, serde_json::Value> = SPECIAL_TOKENS
        .iter()
        .filter_map(|&(text, special)| {
            let id = tokenizer.token_to_id(text)?;
            let entry = serde_json::json!({
                "content": text, "lstrip": false, "normalized": false,
                "rstrip": false, "single_word": false, "special": special,
            });
            Some((id.to_string(), entry))
        })
        .collect();
    serde_json::json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "added_tokens_decoder": added,
        "bos_token": null,
        "eos_token": IM_END,
        "pad_token": ENDOFTEXT,
        "clean_up_tokenization_spaces": false,
        "split_special_tokens": false,
        "chat_template": QWEN3_CHAT_TEMPLATE,
    })
}
