//! Chat documents for pretraining the tiny model, with the exact prompts of
//! docs/DESIGN.md §2, kept independent of any tokenizer: a [`Conversation`] is the
//! (system, user, assistant) triple, and [`render_chatml`] writes it as
//! Qwen3's chat template does.
//!
//! Qwen3's template (from Qwen3's `tokenizer_config.json`; not verified here
//! that every Qwen3-Base checkpoint ships the same one) renders the
//! *last* assistant turn after the last user turn as
//! `<think>\n{reasoning}\n</think>\n\n{answer}`, taking the reasoning from a
//! `<think>…</think>` in the content and inserting an empty
//! `<think>\n\n</think>\n\n` when there is none. We render what the template
//! renders (checked against Python's Jinja in
//! `tests/fixtures/qwen3_chat/`), so a document starts with exactly the
//! prompt that `apply_chat_template(add_generation_prompt=True)` gives at
//! sampling time, and the model learns to continue it. Consequences:
//! Challenger documents continue with `<think>\n\n</think>\n\n<question>…`;
//! Solver documents put their working inside the think block,
//! `<think>\n4*2=8\n3+8=11\n</think>\n\n\boxed{11}`, which is also what the
//! official Solver format reward (`<think>.*</think>.*\boxed{.*}`) asks for.

use serde::{Deserialize, Serialize};

use super::generate::{Surface, Task};
use super::level::Level;

/// Challenger system prompt (docs/DESIGN.md §2, verbatim from the official code).
pub const CHALLENGER_SYSTEM: &str = "You are an expert competition-math problem setter.\nFIRST, in your private scratch-pad, think step-by-step to design a brand-new, non-trivial problem. The problem could come from any field of mathematics, including but not limited to algebra, geometry, number theory, combinatorics, prealgebra, probability, statistics, and calculus. Aim for a difficulty such that fewer than 30 % of advanced high-school students could solve it. Avoid re-using textbook clichés or famous contest problems.\nTHEN, without revealing any of your private thoughts, output **exactly** the following two blocks:\n\n<question>\n{The full problem statement on one or more lines}\n</question>\n\n\\boxed{final_answer}\n\nDo NOT output anything else—no explanations, no extra markup.";
/// Challenger user prompt.
pub const CHALLENGER_USER: &str = "Generate one new, challenging reasoning question now. Remember to format the output exactly as instructed.";
/// Solver system prompt; the user message is the question.
pub const SOLVER_SYSTEM: &str =
    "Please reason step by step, and put your final answer within \\boxed{}.";

/// Opens a message in ChatML.
pub const IM_START: &str = "<|im_start|>";
/// Closes a message; also the end-of-sequence token of a document.
pub const IM_END: &str = "<|im_end|>";
/// Opens the reasoning block.
pub const THINK_OPEN: &str = "<think>";
/// Closes the reasoning block.
pub const THINK_CLOSE: &str = "</think>";
/// Strings a tokenizer for these documents should treat as single tokens.
pub const SPECIAL_TOKENS: [&str; 4] = [IM_START, IM_END, THINK_OPEN, THINK_CLOSE];

/// Which role a document trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Writes questions.
    Challenger,
    /// Answers them.
    Solver,
}

/// One single-turn chat: system, user, assistant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// System message.
    pub system: String,
    /// User message.
    pub user: String,
    /// Assistant message content (before the template's think handling).
    pub assistant: String,
}

/// The Challenger's ideal output for `task`.
pub fn challenger_conversation(task: &Task) -> Conversation {
    Conversation {
        system: CHALLENGER_SYSTEM.to_string(),
        user: CHALLENGER_USER.to_string(),
        assistant: format!(
            "<question>\n{}\n</question>\n\n\\boxed{{{}}}",
            task.question,
            task.answer_text()
        ),
    }
}

/// The Solver's ideal output for `task`: its working, then the answer.
pub fn solver_conversation(task: &Task) -> Conversation {
    Conversation {
        system: SOLVER_SYSTEM.to_string(),
        user: task.question.clone(),
        assistant: format!(
            "{THINK_OPEN}\n{}\n{THINK_CLOSE}\n\n\\boxed{{{}}}",
            task.working().join("\n"),
            task.answer_text()
        ),
    }
}

/// The Solver's answer without working: the empty think block Qwen3's
/// template renders for a reply with no reasoning. The built-in model learns
/// both forms, so thinking is a skill it has but does not always use.
pub fn solver_direct_conversation(task: &Task) -> Conversation {
    Conversation {
        system: SOLVER_SYSTEM.to_string(),
        user: task.question.clone(),
        assistant: format!("\\boxed{{{}}}", task.answer_text()),
    }
}

/// What Qwen3's template emits for system + user with
/// `add_generation_prompt=True` (thinking not disabled).
pub fn render_prompt_chatml(system: &str, user: &str) -> String {
    format!(
        "{IM_START}system\n{system}{IM_END}\n{IM_START}user\n{user}{IM_END}\n{IM_START}assistant\n"
    )
}

/// The assistant turn as Qwen3's template renders a last assistant message,
/// up to and including [`IM_END`] (the template's final `\n` excluded).
pub fn render_completion(content: &str) -> String {
    let (reasoning, answer) = match content.split(THINK_CLOSE).next() {
        Some(before) if content.contains(THINK_CLOSE) => {
            let after = content.rsplit(THINK_CLOSE).next().unwrap_or_default();
            let reasoning = before.trim_end_matches('\n');
            let reasoning = reasoning.rsplit(THINK_OPEN).next().unwrap_or_default();
            (
                reasoning.trim_start_matches('\n'),
                after.trim_start_matches('\n'),
            )
        }
        _ => ("", content),
    };
    format!(
        "{THINK_OPEN}\n{}\n{THINK_CLOSE}\n\n{}{IM_END}",
        reasoning.trim_matches('\n'),
        answer.trim_start_matches('\n')
    )
}

/// The whole conversation exactly as Qwen3's chat template renders it
/// (`apply_chat_template(messages, tokenize=False)`).
pub fn render_chatml(conversation: &Conversation) -> String {
    let mut text = render_prompt_chatml(&conversation.system, &conversation.user);
    text.push_str(&render_completion(&conversation.assistant));
    text.push('\n');
    text
}

/// One pretraining document: `prompt + completion` is the training text; it
/// ends with the EOS token [`IM_END`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Which role it trains.
    pub role: Role,
    /// Level of its task.
    pub level: Level,
    /// How its task is written.
    pub surface: Surface,
    /// The task's question text.
    pub question: String,
    /// The generation prompt, ending with `<|im_start|>assistant\n`.
    pub prompt: String,
    /// What the model should generate, ending with [`IM_END`].
    pub completion: String,
}

impl Document {
    /// Renders `task` for `role`.
    pub fn new(task: &Task, role: Role) -> Document {
        let conversation = match role {
            Role::Challenger => challenger_conversation(task),
            Role::Solver => solver_conversation(task),
        };
        Self::from_conversation(task, role, &conversation)
    }

    /// A Solver document that answers `task` without working.
    pub fn solver_direct(task: &Task) -> Document {
        Self::from_conversation(task, Role::Solver, &solver_direct_conversation(task))
    }

    fn from_conversation(task: &Task, role: Role, conversation: &Conversation) -> Document {
        Document {
            role,
            level: task.level,
            surface: task.surface,
            question: task.question.clone(),
            prompt: render_prompt_chatml(&conversation.system, &conversation.user),
            completion: render_completion(&conversation.assistant),
        }
    }

    /// The training text, `prompt + completion`.
    pub fn text(&self) -> String {
        format!("{}{}", self.prompt, self.completion)
    }
}

/// Rough token count under a digit-split tokenizer: each special token,
/// digit, punctuation mark or newline is one token, each run of letters is
/// one, spaces are free. Used to keep Solver completions short.
pub fn approx_tokens(text: &str) -> usize {
    let mut rest = text;
    let mut count = 0;
    while let Some(c) = rest.chars().next() {
        if let Some(special) = SPECIAL_TOKENS.iter().find(|s| rest.starts_with(**s)) {
            rest = &rest[special.len()..];
            count += 1;
            continue;
        }
        let len = if c.is_alphabetic() {
            rest.find(|ch: char| !ch.is_alphabetic())
                .unwrap_or(rest.len())
        } else {
            c.len_utf8()
        };
        count += usize::from(c != ' ');
        rest = &rest[len..];
    }
    count
}
