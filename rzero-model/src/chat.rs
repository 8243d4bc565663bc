//! Chat messages and the Jinja chat template that renders them into a prompt.
//!
//! [`ChatTemplate::render`] mirrors transformers' `apply_chat_template(...,
//! tokenize=False)`: the same Jinja settings (`trim_blocks`, `lstrip_blocks`,
//! loop controls), the same globals (`raise_exception`, `namespace`), the
//! same `tojson` (Python `json.dumps` spacing, no HTML escaping), Python
//! string methods through `minijinja-contrib`'s pycompat callback, and the
//! same context: `messages`, `tools = None`, `documents = None`,
//! `add_generation_prompt`, the named special tokens (`bos_token`,
//! `eos_token`, ...) and any extra keyword arguments (`enable_thinking`).
//! Not supported: `strftime_now` and the `{% generation %}` tag.
//!
//! Without a template, [`fallback_prompt`] joins `"{role}: {content}"` lines
//! with `\n` (docs/DESIGN.md §2: `"system: " + system + "\n" + "user: " + user`).

use std::path::{Path, PathBuf};

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, ErrorKind};
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// Name of the one template in the environment.
const TEMPLATE_NAME: &str = "chat_template";

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant` (templates may accept others).
    pub role: String,
    /// The text of the turn.
    pub content: String,
}

impl ChatMessage {
    /// A message with any role.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
        }
    }

    /// A `system` message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new("system", content)
    }

    /// A `user` message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new("user", content)
    }

    /// An `assistant` message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new("assistant", content)
    }
}

/// A compiled chat template with the special tokens it may reference.
#[derive(Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    path: PathBuf,
    special_tokens: Vec<(String, String)>,
}

impl ChatTemplate {
    /// Compiles `source`, read from `path` (named in errors).
    ///
    /// `special_tokens` are `(name, text)` pairs such as
    /// `("eos_token", "<|im_end|>")`, visible to the template as variables.
    pub fn new(source: &str, path: &Path, special_tokens: Vec<(String, String)>) -> Result<Self> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", raise_exception);
        env.add_filter("tojson", tojson);
        env.add_template_owned(TEMPLATE_NAME, source.to_owned())
            .map_err(|source| ModelError::Template {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            env,
            path: path.to_path_buf(),
            special_tokens,
        })
    }

    /// The file the template came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renders `messages`, ending with the assistant header when
    /// `add_generation_prompt` is set.
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<String> {
        self.render_with(messages, add_generation_prompt, &serde_json::Map::new())
    }

    /// Like [`ChatTemplate::render`], with extra template variables, such as
    /// `{"enable_thinking": false}` for Qwen3; they override special tokens.
    pub fn render_with(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
        extra: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<String> {
        let mut ctx: Vec<(String, Value)> = self
            .special_tokens
            .iter()
            .map(|(name, text)| (name.clone(), Value::from(text.as_str())))
            .collect();
        ctx.extend(
            extra
                .iter()
                .map(|(k, v)| (k.clone(), Value::from_serialize(v))),
        );
        ctx.push(("messages".into(), Value::from_serialize(messages)));
        ctx.push(("tools".into(), Value::from(())));
        ctx.push(("documents".into(), Value::from(())));
        ctx.push((
            "add_generation_prompt".into(),
            Value::from(add_generation_prompt),
        ));
        let template = self.env.get_template(TEMPLATE_NAME);
        template
            .and_then(|t| t.render(Value::from_iter(ctx)))
            .map_err(|source| ModelError::Template {
                path: self.path.clone(),
                source,
            })
    }
}

/// The prompt used when a tokenizer has no chat template: one
/// `"{role}: {content}"` line per message, joined with `\n`.
///
/// For a system and a user message this is docs/DESIGN.md §2's
/// `"system: " + system + "\n" + "user: " + user`; no generation prompt is
/// appended.
pub fn fallback_prompt(messages: &[ChatMessage]) -> String {
    let lines: Vec<String> = messages
        .iter()
        .map(|m| format!("{}: {}", m.role, m.content))
        .collect();
    lines.join("\n")
}

/// `raise_exception(message)`: aborts rendering, as in transformers.
fn raise_exception(message: String) -> std::result::Result<Value, minijinja::Error> {
    Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
}

/// Python's `json.dumps(x, ensure_ascii=False)`: `", "` and `": "`
/// separators, no HTML escaping; `indent=N` pretty-prints.
fn tojson(value: &Value, kwargs: Kwargs) -> std::result::Result<Value, minijinja::Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    let written = match indent {
        Some(n) => {
            let pad = vec![b' '; n];
            let formatter = serde_json::ser::PrettyFormatter::with_indent(&pad);
            value.serialize(&mut serde_json::Serializer::with_formatter(
                &mut out, formatter,
            ))
        }
        None => value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out,
            PythonFormatter,
        )),
    };
    written.map_err(|e| minijinja::Error::new(ErrorKind::BadSerialization, e.to_string()))?;
    let text = String::from_utf8(out)
        .map_err(|e| minijinja::Error::new(ErrorKind::BadSerialization, e.to_string()))?;
    Ok(Value::from_safe_string(text))
}

/// serde_json formatter with Python's default separators.
struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str, messages: &[ChatMessage]) -> Result<String> {
        ChatTemplate::new(
            source,
            Path::new("t.json"),
            vec![("eos_token".into(), "<E>".into())],
        )?
        .render(messages, true)
    }

    #[test]
    fn fallback_matches_design() {
        let m = [ChatMessage::system("S"), ChatMessage::user("U")];
        assert_eq!(fallback_prompt(&m), "system: S\nuser: U");
    }

    #[test]
    fn raise_exception_is_a_template_error_naming_the_file() {
        let err = render("{{ raise_exception('no system') }}", &[]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("t.json") && text.contains("no system"),
            "{text}"
        );
    }

    #[test]
    fn tojson_uses_python_spacing_without_html_escapes() {
        let out = render("{{ {'a': [1, '<b>']} | tojson }}", &[]).unwrap();
        assert_eq!(out, r#"{"a": [1, "<b>"]}"#);
    }

    #[test]
    fn tojson_indent_matches_python() {
        // json.dumps({"a": [1, 2]}, indent=2)
        let out = render("{{ {'a': [1, 2]} | tojson(indent=2) }}", &[]).unwrap();
        assert_eq!(out, "{\n  \"a\": [\n    1,\n    2\n  ]\n}");
    }

    #[test]
    fn special_tokens_and_pycompat_methods_are_available() {
        let src =
            "{% for m in messages %}{{ m.content.strip().upper() }}{% endfor %}{{ eos_token }}";
        assert_eq!(render(src, &[ChatMessage::user("  hi ")]).unwrap(), "HI<E>");
    }

    #[test]
    fn syntax_error_names_the_file() {
        let err = ChatTemplate::new("{% if %}", Path::new("cfg.json"), Vec::new()).unwrap_err();
        assert!(
            matches!(err, ModelError::Template { ref path, .. } if path == Path::new("cfg.json"))
        );
    }
}
