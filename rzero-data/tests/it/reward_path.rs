//! The pretraining documents against rzero-reward's real gates: what the
//! tiny model learns to write must parse and earn the full reward.

use rzero_data::synthetic::{Document, IM_END, Level, Role, Surface, TaskGenerator};
use rzero_data::{ChallengerSample, QuestionRecord};
use rzero_reward::format::solver_format_ok;
use rzero_reward::{SolverForm, extract_boxed, majority_vote, parse_challenger, solver_reward};

fn generated_text(doc: &Document) -> &str {
    doc.completion.strip_suffix(IM_END).unwrap()
}

#[test]
fn challenger_documents_pass_the_format_gate_with_the_true_answer() {
    let mut generator = TaskGenerator::new(21);
    for level in Level::all() {
        for surface in [Surface::Expression, Surface::WordProblem] {
            let task = generator.task(level, surface);
            let doc = Document::new(&task, Role::Challenger);
            let parsed = parse_challenger(generated_text(&doc)).unwrap();
            assert_eq!(parsed.question, task.question);
            assert_eq!(parsed.answer, task.answer_text());
            let sample =
                ChallengerSample::from_output(1, 0, 0, 0, generated_text(&doc).to_string());
            assert!(sample.format_ok);
            let label = sample.oracle.unwrap();
            assert_eq!(
                (label.answer, label.level),
                (task.answer_text(), level.get())
            );
        }
    }
}

#[test]
fn solver_documents_earn_the_full_official_reward() {
    let mut generator = TaskGenerator::new(22);
    for level in Level::all() {
        for surface in [Surface::Expression, Surface::WordProblem] {
            let task = generator.task(level, surface);
            let doc = Document::new(&task, Role::Solver);
            let text = generated_text(&doc);
            assert!(solver_format_ok(text), "{text}");
            assert_eq!(extract_boxed(text), Some(task.answer_text().as_str()));
            let reward = solver_reward(SolverForm::Official, text, &task.answer_text());
            assert!((reward - 1.0).abs() < 1e-12, "{reward} for {text}");
        }
    }
}

#[test]
fn question_record_from_a_vote_carries_votes_and_oracle() {
    let answers: Vec<String> = ["11", "", "12", "11.0", "11"].map(String::from).to_vec();
    let vote = majority_vote(&answers);
    let record = QuestionRecord::from_vote(
        2,
        "iter_002/000001".into(),
        "What is 3 + 4 * 2?".into(),
        Some("11".into()),
        &answers,
        &vote,
    );
    assert_eq!(record.pseudo_label, "11");
    assert_eq!(record.votes, 5);
    assert_eq!(record.class_sizes, [3, 1]);
    assert!((record.consistency - 0.6).abs() < 1e-12);
    assert_eq!(record.oracle_answer.as_deref(), Some("11"));
    assert_eq!(record.oracle_level, Some(3));
    assert_eq!(record.pseudo_label_correct(), Some(true));
    let foreign = QuestionRecord::from_vote(
        2,
        "x".into(),
        "Who wrote Hamlet?".into(),
        None,
        &answers,
        &vote,
    );
    assert_eq!(
        (
            foreign.oracle_answer.clone(),
            foreign.pseudo_label_correct()
        ),
        (None, None)
    );
}

#[test]
fn malformed_challenger_output_fails_the_gate() {
    let sample = ChallengerSample::from_output(1, 0, 3, 1, "<question>What is 2+2?".to_string());
    assert!(!sample.format_ok);
    assert_eq!(
        (sample.question, sample.answer, sample.oracle),
        (None, None, None)
    );
}
