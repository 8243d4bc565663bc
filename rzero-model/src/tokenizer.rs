//! A Hugging Face tokenizer directory: `tokenizer.json`, its chat template
//! and special token ids.
//!
//! [`Tokenizer::from_dir`] reads, as transformers does:
//! - `tokenizer.json` (required) with the `tokenizers` crate;
//! - the chat template from `chat_template.jinja`, else `tokenizer_config.json`'s
//!   `chat_template` (a string, or a list of `{name, template}` of which
//!   `default` is used);
//! - `bos_token`, `eos_token`, `pad_token`, `unk_token` from
//!   `tokenizer_config.json` (strings or `{"content": ...}` objects);
//! - EOS ids from `generation_config.json`'s `eos_token_id`, else the
//!   `eos_token` above, else `config.json`'s `eos_token_id`; the pad id from
//!   `pad_token_id` / `pad_token` in the same order, else the first EOS id.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::chat::{ChatMessage, ChatTemplate, fallback_prompt};
use crate::error::{ModelError, Result};
use crate::generation_config::{GenerationConfig, ids_from_json};

/// Names of the special tokens transformers passes to chat templates.
const SPECIAL_TOKEN_NAMES: [&str; 4] = ["bos_token", "eos_token", "pad_token", "unk_token"];

/// A tokenizer with its chat template and special token ids.
///
/// ```
/// use rzero_model::chat::ChatMessage;
/// use rzero_model::tokenizer::Tokenizer;
///
/// let tok = Tokenizer::from_dir("tests/fixtures/chat_template/qwen3".as_ref())?;
/// let messages = [ChatMessage::system("Be brief."), ChatMessage::user("What is 2 + 3?")];
/// let prompt = tok.apply_chat_template(&messages, true)?;
/// assert!(prompt.ends_with("<|im_start|>assistant\n"));
/// let ids = tok.encode(&prompt)?;
/// assert_eq!(tok.decode(&ids, false)?, prompt);
/// assert_eq!(tok.eos_token_ids()[0], tok.token_to_id("<|im_end|>").unwrap());
/// # Ok::<(), rzero_model::ModelError>(())
/// ```
#[derive(Debug)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    path: PathBuf,
    template: Option<ChatTemplate>,
    eos_token_ids: Vec<u32>,
    pad_token_id: u32,
    bos_token_id: Option<u32>,
}

impl Tokenizer {
    /// Loads the tokenizer files of a model directory (see the module doc).
    ///
    /// A missing `tokenizer.json` is an error naming it; the other files are
    /// optional. A special token named in `tokenizer_config.json` that is
    /// not in the vocabulary is an error.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let path = dir.join("tokenizer.json");
        let bytes = std::fs::read(&path).map_err(|source| ModelError::Io {
            path: path.clone(),
            source,
        })?;
        let inner =
            tokenizers::Tokenizer::from_bytes(&bytes).map_err(|source| ModelError::Tokenizer {
                path: path.clone(),
                source,
            })?;

        let config_path = dir.join("tokenizer_config.json");
        let config = read_optional_json(&config_path)?.unwrap_or(Value::Null);
        let special: Vec<(String, String)> = SPECIAL_TOKEN_NAMES
            .iter()
            .filter_map(|&name| token_text(config.get(name)).map(|text| (name.to_owned(), text)))
            .collect();
        let ids = SpecialIds::resolve(dir, &inner, &config_path, &special)?;
        let template = load_template(dir, &config_path, &config, special)?;
        Ok(Self {
            inner,
            path,
            template,
            eos_token_ids: ids.eos,
            pad_token_id: ids.pad,
            bos_token_id: ids.bos,
        })
    }

    /// Token ids of `text` as transformers' `tokenizer(text)` gives them:
    /// special tokens in the text stay atomic, and the post-processor's
    /// tokens are added (none for Qwen3, whose post-processor is ByteLevel).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        self.encode_inner(text, true)
    }

    /// Token ids of `text` without post-processor tokens, as
    /// `apply_chat_template(tokenize=True)` encodes a rendered prompt.
    pub fn encode_plain(&self, text: &str) -> Result<Vec<u32>> {
        self.encode_inner(text, false)
    }

    fn encode_inner(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
        let encoding = self
            .inner
            .encode_fast(text, add_special_tokens)
            .map_err(|source| ModelError::Tokenizer {
                path: self.path.clone(),
                source,
            })?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The text of `ids`; special tokens are dropped when `skip_special`.
    /// Ids outside the vocabulary are skipped.
    pub fn decode(&self, ids: &[u32], skip_special: bool) -> Result<String> {
        self.inner
            .decode(ids, skip_special)
            .map_err(|source| ModelError::Tokenizer {
                path: self.path.clone(),
                source,
            })
    }

    /// Renders a conversation into a prompt with the chat template, or with
    /// [`fallback_prompt`] when the directory has none.
    pub fn apply_chat_template(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String> {
        self.apply_chat_template_with(messages, add_generation_prompt, &serde_json::Map::new())
    }

    /// Like [`Tokenizer::apply_chat_template`], with extra template variables
    /// (`{"enable_thinking": false}`); the fallback ignores them.
    pub fn apply_chat_template_with(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
        extra: &serde_json::Map<String, Value>,
    ) -> Result<String> {
        match &self.template {
            Some(t) => t.render_with(messages, add_generation_prompt, extra),
            None => Ok(fallback_prompt(messages)),
        }
    }

    /// The chat template, if the directory has one.
    pub fn chat_template(&self) -> Option<&ChatTemplate> {
        self.template.as_ref()
    }

    /// Ids that end generation.
    pub fn eos_token_ids(&self) -> &[u32] {
        &self.eos_token_ids
    }

    /// Id used for padding (the first EOS id, or 0, when none is configured).
    pub fn pad_token_id(&self) -> u32 {
        self.pad_token_id
    }

    /// Beginning-of-sequence id, if configured.
    pub fn bos_token_id(&self) -> Option<u32> {
        self.bos_token_id
    }

    /// Number of tokens, added tokens included (the model's `vocab_size` may be larger).
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The id of a token's text (special tokens included).
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The text of one token id.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// The `tokenizer.json` this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying `tokenizers` tokenizer.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }
}

/// EOS, pad and BOS ids, resolved in the order the module doc gives.
struct SpecialIds {
    eos: Vec<u32>,
    pad: u32,
    bos: Option<u32>,
}

impl SpecialIds {
    fn resolve(
        dir: &Path,
        inner: &tokenizers::Tokenizer,
        config_path: &Path,
        special: &[(String, String)],
    ) -> Result<Self> {
        let special_id = |name: &str| -> Result<Option<u32>> {
            let Some((_, text)) = special.iter().find(|(n, _)| n == name) else {
                return Ok(None);
            };
            inner
                .token_to_id(text)
                .map(Some)
                .ok_or_else(|| ModelError::UnknownToken {
                    path: config_path.to_path_buf(),
                    field: name.to_owned(),
                    token: text.clone(),
                })
        };

        let gen_path = dir.join("generation_config.json");
        let generation = if gen_path.is_file() {
            GenerationConfig::from_file(&gen_path)?
        } else {
            GenerationConfig::default()
        };
        let model_config = read_optional_json(&dir.join("config.json"))?.unwrap_or(Value::Null);
        let model_ids = |key: &str| ids_from_json(model_config.get(key));

        let mut eos_token_ids = generation.eos_token_id.clone();
        if eos_token_ids.is_empty() {
            eos_token_ids = special_id("eos_token")?
                .map(|id| vec![id])
                .unwrap_or_else(|| model_ids("eos_token_id"));
        }
        let pad = match generation.pad_token_id {
            Some(id) => Some(id),
            None => special_id("pad_token")?.or_else(|| model_ids("pad_token_id").first().copied()),
        };
        let pad_token_id = pad.or_else(|| eos_token_ids.first().copied()).unwrap_or(0);
        let bos_token_id = match generation.bos_token_id {
            Some(id) => Some(id),
            None => special_id("bos_token")?.or_else(|| model_ids("bos_token_id").first().copied()),
        };
        if eos_token_ids.is_empty() {
            tracing::warn!(dir = %dir.display(), "no EOS token id in any config file");
        }

        Ok(Self {
            eos: eos_token_ids,
            pad: pad_token_id,
            bos: bos_token_id,
        })
    }
}

/// `chat_template.jinja` if present, else `tokenizer_config.json`'s entry.
fn load_template(
    dir: &Path,
    config_path: &Path,
    config: &Value,
    special: Vec<(String, String)>,
) -> Result<Option<ChatTemplate>> {
    let jinja_path = dir.join("chat_template.jinja");
    if jinja_path.is_file() {
        let source = std::fs::read_to_string(&jinja_path).map_err(|source| ModelError::Io {
            path: jinja_path.clone(),
            source,
        })?;
        return ChatTemplate::new(&source, &jinja_path, special).map(Some);
    }
    let source = match config.get("chat_template") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Array(named)) => {
            let default = named
                .iter()
                .find(|t| t.get("name").and_then(Value::as_str) == Some("default"));
            match default
                .and_then(|t| t.get("template"))
                .and_then(Value::as_str)
            {
                Some(s) => s,
                None => {
                    return Err(bad_template_field(
                        config_path,
                        "a list without a `default` template",
                    ));
                }
            }
        }
        Some(_) => {
            return Err(bad_template_field(
                config_path,
                "neither a string nor a list of named templates",
            ));
        }
    };
    ChatTemplate::new(source, config_path, special).map(Some)
}

fn bad_template_field(path: &Path, reason: &str) -> ModelError {
    ModelError::Unsupported {
        path: path.to_path_buf(),
        field: "chat_template".into(),
        reason: reason.into(),
    }
}

/// A special token's text: a string or an `AddedToken` object's `content`.
fn token_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Parses `path` if it exists.
fn read_optional_json(path: &Path) -> Result<Option<Value>> {
    if !path.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| ModelError::Json {
            path: path.to_path_buf(),
            source,
        })
}
