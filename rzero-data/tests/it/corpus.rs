//! The pretraining corpus and the held-out set: disjointness, ratios,
//! determinism and the written files.

use std::collections::HashSet;

use rzero_data::EvalItem;
use rzero_data::filter::normalize_question;
use rzero_data::read_jsonl;
use rzero_data::synthetic::render::Document;
use rzero_data::synthetic::{
    CorpusConfig, HeldOut, HeldOutConfig, Level, Role, Surface, default_heldout_dir, oracle,
    pretraining_corpus, write_corpus,
};

fn small_heldout() -> HeldOut {
    HeldOut::generate(&HeldOutConfig {
        per_level: 60,
        ..HeldOutConfig::default()
    })
    .unwrap()
}

#[test]
fn heldout_items_are_unique_correct_and_of_their_level() {
    let heldout = small_heldout();
    for level in Level::all() {
        let items = heldout.items(level);
        assert_eq!(items.len(), 60, "level {level}");
        let texts: HashSet<&str> = items.iter().map(|i| i.question.as_str()).collect();
        assert_eq!(texts.len(), items.len());
        for item in items {
            let known = oracle(&item.question).unwrap();
            assert_eq!(known.answer.to_string(), item.answer);
            assert_eq!(known.level, level);
            assert!(item.id.starts_with(&format!("synthetic_l{level}/")));
        }
    }
}

#[test]
fn corpus_is_disjoint_from_heldout() {
    let heldout = small_heldout();
    // Level 1 only: its pool of texts is the smallest, so collisions are
    // certain without the exclusion.
    let config = CorpusConfig {
        documents: 3000,
        level_weights: [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        ..CorpusConfig::default()
    };
    let docs: Vec<Document> = pretraining_corpus(&config, &heldout).unwrap().collect();
    assert_eq!(docs.len(), 3000);
    let held: HashSet<String> = heldout
        .items(Level::MIN)
        .iter()
        .map(|i| normalize_question(&i.question))
        .collect();
    let mut corpus_texts = HashSet::new();
    for doc in &docs {
        assert!(
            !held.contains(&normalize_question(&doc.question)),
            "{}",
            doc.question
        );
        assert!(!heldout.contains(&doc.question));
        corpus_texts.insert(normalize_question(&doc.question));
    }
    // Without exclusion, the same generator would have hit the held-out set.
    let unfiltered = HeldOut::generate(&HeldOutConfig {
        per_level: 0,
        ..HeldOutConfig::default()
    })
    .unwrap();
    let hits = pretraining_corpus(&config, &unfiltered)
        .unwrap()
        .filter(|d| held.contains(&normalize_question(&d.question)))
        .count();
    assert!(hits > 0, "the test must exercise the exclusion");
}

#[test]
fn corpus_mixes_roles_surfaces_and_levels_at_the_stated_ratio() {
    let heldout = small_heldout();
    let config = CorpusConfig {
        documents: 4000,
        seed: 9,
        ..CorpusConfig::default()
    };
    let docs: Vec<Document> = pretraining_corpus(&config, &heldout).unwrap().collect();
    let share = |f: &dyn Fn(&Document) -> bool| {
        docs.iter().filter(|d| f(d)).count() as f64 / docs.len() as f64
    };
    assert!((share(&|d| d.role == Role::Challenger) - 0.25).abs() < 0.03);
    assert!((share(&|d| d.surface == Surface::WordProblem) - 0.3).abs() < 0.03);
    for level in Level::all() {
        assert!(
            (share(&|d| d.level == level) - 1.0 / 6.0).abs() < 0.03,
            "level {level}"
        );
    }
    let again: Vec<Document> = pretraining_corpus(&config, &heldout).unwrap().collect();
    assert_eq!(docs, again, "same seed, same corpus");
}

#[test]
fn challenger_documents_can_have_their_own_word_problem_share() {
    let heldout = small_heldout();
    let config = CorpusConfig {
        documents: 4000,
        challenger_fraction: 0.5,
        challenger_word_problem_fraction: Some(0.05),
        ..CorpusConfig::default()
    };
    let docs: Vec<Document> = pretraining_corpus(&config, &heldout).unwrap().collect();
    let word_share = |role: Role| {
        let of_role: Vec<_> = docs.iter().filter(|d| d.role == role).collect();
        let words = of_role
            .iter()
            .filter(|d| d.surface == Surface::WordProblem)
            .count();
        words as f64 / of_role.len() as f64
    };
    assert!((word_share(Role::Challenger) - 0.05).abs() < 0.02);
    assert!((word_share(Role::Solver) - 0.3).abs() < 0.03);
    let bad = CorpusConfig {
        challenger_word_problem_fraction: Some(-0.1),
        ..config
    };
    let err = pretraining_corpus(&bad, &heldout).unwrap_err();
    assert!(err.to_string().contains("challenger_word_problem_fraction"));
}

#[test]
fn a_share_of_solver_documents_answers_without_working() {
    let heldout = small_heldout();
    let config = CorpusConfig {
        documents: 4000,
        solver_direct_fraction: 0.6,
        ..CorpusConfig::default()
    };
    let docs: Vec<Document> = pretraining_corpus(&config, &heldout).unwrap().collect();
    let empty_think = |d: &Document| d.completion.starts_with("<think>\n\n</think>\n\n\\boxed{");
    let solver: Vec<_> = docs.iter().filter(|d| d.role == Role::Solver).collect();
    let direct = solver.iter().filter(|d| empty_think(d)).count() as f64 / solver.len() as f64;
    assert!((direct - 0.6).abs() < 0.03, "direct share {direct}");
    // Challenger documents are untouched; working documents keep their steps.
    assert!(
        docs.iter()
            .filter(|d| d.role == Role::Challenger)
            .all(|d| d.completion.contains("<question>"))
    );
    assert!(
        solver
            .iter()
            .filter(|d| !empty_think(d))
            .all(|d| d.completion.contains('='))
    );
    let bad = CorpusConfig {
        solver_direct_fraction: 1.2,
        ..config
    };
    let err = pretraining_corpus(&bad, &heldout).unwrap_err();
    assert!(err.to_string().contains("solver_direct_fraction"), "{err}");
}

#[test]
fn invalid_corpus_configs_name_the_key() {
    let heldout = small_heldout();
    let bad = CorpusConfig {
        challenger_fraction: 1.5,
        ..CorpusConfig::default()
    };
    let err = pretraining_corpus(&bad, &heldout).unwrap_err();
    assert!(err.to_string().contains("challenger_fraction"), "{err}");
    let bad = CorpusConfig {
        level_weights: [0.0; 6],
        ..CorpusConfig::default()
    };
    let err = pretraining_corpus(&bad, &heldout).unwrap_err();
    assert!(err.to_string().contains("level_weights"), "{err}");
}

#[test]
fn files_are_written_in_their_formats() {
    let dir = tempfile::tempdir().unwrap();
    let heldout = small_heldout();
    let paths = heldout.write(dir.path()).unwrap();
    assert_eq!(paths.len(), 6);
    let items: Vec<EvalItem> = read_jsonl(dir.path().join("synthetic_l3.jsonl")).unwrap();
    assert_eq!(items, heldout.items(Level::new(3).unwrap()));
    let corpus_path = dir.path().join("corpus.jsonl");
    let config = CorpusConfig {
        documents: 50,
        ..CorpusConfig::default()
    };
    assert_eq!(write_corpus(&corpus_path, &config, &heldout).unwrap(), 50);
    let docs: Vec<Document> = read_jsonl(&corpus_path).unwrap();
    let expected: Vec<Document> = pretraining_corpus(&config, &heldout).unwrap().collect();
    assert_eq!(docs, expected);
}

#[test]
fn committed_heldout_matches_the_generator() {
    // If this fails, the generator changed: regenerate data/synthetic (see
    // its README) and say so, since scores on the old set are not comparable.
    let heldout = HeldOut::generate(&HeldOutConfig::default()).unwrap();
    for level in Level::all() {
        let path = default_heldout_dir().join(format!("synthetic_l{level}.jsonl"));
        let committed: Vec<EvalItem> = read_jsonl(&path).unwrap();
        assert_eq!(committed.len(), HeldOutConfig::default().per_level);
        assert_eq!(committed, heldout.items(level), "{}", path.display());
    }
}
