//! Document rendering: snapshots, Qwen3 template agreement, length budget.

use rzero_data::synthetic::render::{approx_tokens, render_completion};
use rzero_data::synthetic::{
    CHALLENGER_SYSTEM, CHALLENGER_USER, Conversation, Document, Expr, IM_END, Level, Op, Role,
    SOLVER_SYSTEM, Surface, Task, TaskGenerator, oracle, render_chatml, render_prompt_chatml,
};
use serde::Deserialize;

fn sample_task() -> Task {
    let expr = Expr::bin(
        Op::Add,
        Expr::Num(3),
        Expr::bin(Op::Mul, Expr::Num(4), Expr::Num(2)),
    );
    Task {
        question: "What is 3 + 4 * 2?".into(),
        expr,
        answer: 11,
        level: Level::new(2).unwrap(),
        surface: Surface::Expression,
    }
}

#[test]
fn challenger_document_snapshot() {
    let doc = Document::new(&sample_task(), Role::Challenger);
    let expected = format!(
        "<|im_start|>system\n{CHALLENGER_SYSTEM}<|im_end|>\n<|im_start|>user\n{CHALLENGER_USER}<|im_end|>\n\
         <|im_start|>assistant\n<think>\n\n</think>\n\n<question>\nWhat is 3 + 4 * 2?\n</question>\n\n\\boxed{{11}}<|im_end|>"
    );
    assert_eq!(doc.text(), expected);
    assert!(
        CHALLENGER_SYSTEM.starts_with("You are an expert competition-math problem setter.\nFIRST,")
    );
    assert!(
        CHALLENGER_SYSTEM
            .ends_with("Do NOT output anything else—no explanations, no extra markup.")
    );
}

#[test]
fn solver_document_snapshot() {
    let doc = Document::new(&sample_task(), Role::Solver);
    assert_eq!(
        doc.text(),
        "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n\
         <|im_start|>user\nWhat is 3 + 4 * 2?<|im_end|>\n<|im_start|>assistant\n\
         <think>\n4*2=8\n3+8=11\n</think>\n\n\\boxed{11}<|im_end|>"
    );
    assert_eq!(
        doc.completion,
        "<think>\n4*2=8\n3+8=11\n</think>\n\n\\boxed{11}<|im_end|>"
    );
}

#[test]
fn word_problem_solver_document_snapshot() {
    let q = "Tom has 3 bags of 12 apples each. Then Tom gives away 5 apples. How many apples does Tom have now?";
    let known = oracle(q).unwrap();
    let task = Task {
        question: q.into(),
        expr: known.expr,
        answer: known.answer,
        level: known.level,
        surface: Surface::WordProblem,
    };
    let doc = Document::new(&task, Role::Solver);
    assert_eq!(
        doc.completion,
        "<think>\n3*12=36\n36-5=31\n</think>\n\n\\boxed{31}<|im_end|>"
    );
}

#[derive(Deserialize)]
struct Case {
    system: String,
    user: String,
    assistant: String,
    prompt: String,
    rendered: String,
}

#[test]
fn render_chatml_matches_qwen3_template() {
    let text = include_str!("../fixtures/qwen3_chat/expected.json");
    let cases: Vec<Case> = serde_json::from_str(text).unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let conversation = Conversation {
            system: case.system.clone(),
            user: case.user.clone(),
            assistant: case.assistant.clone(),
        };
        assert_eq!(
            render_chatml(&conversation),
            case.rendered,
            "{:?}",
            case.assistant
        );
        assert_eq!(render_prompt_chatml(&case.system, &case.user), case.prompt);
    }
}

#[test]
fn documents_extend_the_generation_prompt_and_end_in_eos() {
    let mut generator = TaskGenerator::new(11);
    for level in Level::all() {
        for role in [Role::Challenger, Role::Solver] {
            let task = generator.task(level, Surface::WordProblem);
            let doc = Document::new(&task, role);
            let system = if role == Role::Solver {
                SOLVER_SYSTEM
            } else {
                CHALLENGER_SYSTEM
            };
            let user = if role == Role::Solver {
                task.question.as_str()
            } else {
                CHALLENGER_USER
            };
            assert_eq!(doc.prompt, render_prompt_chatml(system, user));
            assert!(doc.completion.ends_with(IM_END));
            assert_eq!(doc.completion.matches(IM_END).count(), 1);
            assert!(
                doc.completion
                    .contains(&format!("\\boxed{{{}}}", task.answer))
            );
        }
    }
}

#[test]
fn challenger_completion_carries_an_oracle_answerable_question() {
    let mut generator = TaskGenerator::new(5);
    for level in Level::all() {
        let task = generator.task(level, Surface::Expression);
        let doc = Document::new(&task, Role::Challenger);
        let inner = doc.completion.split("<question>").nth(1).unwrap();
        let question = inner.split("</question>").next().unwrap().trim();
        assert_eq!(oracle(question).map(|o| o.answer), Some(task.answer));
    }
}

#[test]
fn solver_completions_stay_within_sixty_tokens() {
    let mut generator = TaskGenerator::new(99);
    for level in Level::all() {
        for i in 0..300 {
            let surface = if i % 2 == 0 {
                Surface::Expression
            } else {
                Surface::WordProblem
            };
            let task = generator.task(level, surface);
            let completion = Document::new(&task, Role::Solver).completion;
            assert!(approx_tokens(&completion) <= 60, "{completion}");
        }
    }
}

#[test]
fn approx_tokens_counts_digits_words_and_specials() {
    assert_eq!(approx_tokens("<think>\n12*3=36\n</think>"), 11);
    assert_eq!(approx_tokens("\\boxed{7}<|im_end|>"), 6);
    assert_eq!(render_completion("x"), "<think>\n\n</think>\n\nx<|im_end|>");
}
