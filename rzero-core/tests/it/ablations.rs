//! The ablation switches (oracle labels, Base Challenger, no repetition
//! penalty) and maj@m evaluation, each on a smoke run or a scripted sampler.

use rzero_core::config::LabelSource;
use rzero_core::phases::eval::{BenchSource, evaluate};
use rzero_core::policy::{SampleRequest, Sampler};
use rzero_core::rundir::{Role, RunDir};
use rzero_core::{RunConfig, preset};
use rzero_data::{ChallengerSample, QuestionRecord};
use rzero_model::{Completion, FinishReason};

use crate::run::{base_model, run_to_end};

fn smoke() -> RunConfig {
    let mut c = preset("smoke").expect("smoke preset");
    c.eval.limit = 3;
    c.iterations = 1;
    c
}

#[test]
fn oracle_labels_replace_the_vote_and_an_untrained_challenger_stays_the_base_model() {
    let mut config = smoke();
    config.question_set.labels = LabelSource::Oracle;
    config.challenger.train = false;
    let dir = tempfile::tempdir().unwrap();
    let metrics = run_to_end(dir.path(), &config);
    let run = RunDir::new(dir.path());
    // Base Challenger: no Challenger step ran, no Challenger checkpoint exists.
    assert!(metrics.iter().all(|m| m.phase != "challenger"));
    assert!(!run.checkpoint(1, Role::Challenger, 0).exists());
    assert!(
        run.checkpoint(1, Role::Solver, 0)
            .join("model.safetensors")
            .exists()
    );
    // Oracle labels: every kept question is labelled with its true answer,
    // and questions the oracle cannot answer are gone.
    let all: Vec<QuestionRecord> = rzero_data::read_jsonl(run.questions_all(1)).unwrap();
    let kept: Vec<QuestionRecord> = rzero_data::read_jsonl(run.questions(1)).unwrap();
    assert!(
        !kept.is_empty(),
        "the smoke band keeps every oracle-known question"
    );
    for r in &kept {
        assert_eq!(
            Some(&r.pseudo_label),
            r.oracle_answer.as_ref(),
            "{}",
            r.question
        );
    }
    // The smoke band keeps every p̂; the official filters still apply.
    let admitted = all
        .iter()
        .filter(|r| {
            r.oracle_answer.is_some()
                && !r.pseudo_label.is_empty()
                && !r.pseudo_label.contains("text")
                && !r.question.to_lowercase().contains("box")
        })
        .count();
    assert_eq!(kept.len(), admitted);
    let set = metrics.iter().find(|m| m.phase == "question_set").unwrap();
    assert_eq!(set.values["kept_oracle_labelled"], kept.len() as f64);
    // The metric still measures the vote: some majority labels were wrong.
    let wrong_votes = all
        .iter()
        .filter(|r| r.oracle_answer.is_some() && r.pseudo_label_correct() == Some(false))
        .count();
    if wrong_votes > 0 {
        assert!(set.values["pseudo_label_accuracy_kept"] < 1.0);
    }
}

fn challenger_samples(config: &RunConfig) -> Vec<ChallengerSample> {
    let dir = tempfile::tempdir().unwrap();
    run_to_end(dir.path(), config);
    rzero_data::read_jsonl(RunDir::new(dir.path()).samples(1, Role::Challenger, 0)).unwrap()
}

#[test]
fn repetition_lambda_zero_turns_the_penalty_off_in_the_official_form() {
    let mut config = smoke();
    config.solver.rollout_steps = 1;
    let with = challenger_samples(&config);
    config.challenger.repetition_lambda = 0.0;
    let without = challenger_samples(&config);
    assert_eq!(with.len(), without.len());
    let mut penalised = 0;
    for (a, b) in with.iter().zip(&without) {
        let (ra, rb) = (a.reward.clone().unwrap(), b.reward.clone().unwrap());
        assert_eq!(a.text, b.text, "same seed, same rollouts");
        assert!(ra.repetition > 0.0, "r_rep is still measured");
        let base = if a.format_ok { ra.uncertainty } else { -1.0 };
        assert!((ra.total - (base - ra.repetition)).abs() < 1e-9);
        assert!((rb.total - base).abs() < 1e-9, "λ = 0: no penalty");
        penalised += usize::from(ra.total < rb.total);
    }
    assert_eq!(penalised, with.len());
}

/// Greedy answers are always wrong; of the `m` sampled answers to item `k`,
/// `right[k]` are right and the rest wrong: all the same wrong value, or
/// each a different one (`scatter`).
struct Scripted {
    right: Vec<usize>,
    scatter: bool,
}

impl Sampler for Scripted {
    fn sample(&self, request: &SampleRequest) -> rzero_core::Result<Vec<Completion>> {
        let mut out = Vec::new();
        for p in 0..request.prompts.len() {
            for s in 0..request.n {
                let truth = p as i64 + 1;
                let value = if request.sampling.temperature == 0.0 {
                    truth + 1
                } else if s < self.right[p] {
                    truth
                } else if self.scatter {
                    truth + 100 + s as i64
                } else {
                    truth + 100
                };
                out.push(Completion {
                    prompt_index: p,
                    sample_index: s,
                    token_ids: vec![1],
                    text: Some(format!("<think>\n</think>\n\n\\boxed{{{value}}}")),
                    logprobs: vec![0.0],
                    finish_reason: FinishReason::Eos,
                });
            }
        }
        Ok(out)
    }
}

#[test]
fn maj_at_m_counts_the_majority_of_sampled_answers_with_standard_errors() {
    let items = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..4)
        .map(|k| {
            format!(
                r#"{{"id":"synthetic_l1/{k}","question":"What is {k} + 1?","answer":"{}"}}"#,
                k + 1
            )
        })
        .collect();
    std::fs::write(items.path().join("synthetic_l1.jsonl"), lines.join("\n")).unwrap();
    let source = BenchSource {
        bench_dir: items.path().to_path_buf(),
        synthetic_dir: items.path().to_path_buf(),
    };
    let mut config = smoke();
    config.eval.benches = vec!["synthetic_l1".into()];
    config.eval.limit = 0;
    config.eval.maj_m = 5;
    let tokenizer = rzero_model::tokenizer::Tokenizer::from_dir(&base_model()).unwrap();
    let score = |right: Vec<usize>, scatter: bool, config: &RunConfig| {
        let sampler = Scripted { right, scatter };
        let (report, metrics) = evaluate(config, 0, &tokenizer, &sampler, &source).unwrap();
        assert_eq!(
            report.accuracy["synthetic_l1"], 0.0,
            "greedy is always wrong"
        );
        assert_eq!(report.stderr["synthetic_l1"], 0.0);
        report.majority.map(|maj| {
            assert_eq!(maj.m, 5);
            let acc = maj.accuracy["synthetic_l1"];
            assert_eq!(metrics.values["maj_accuracy_synthetic_l1"], acc);
            assert_eq!(maj.synthetic_mean, Some(acc));
            (acc, maj.stderr["synthetic_l1"])
        })
    };
    // 2 right of 5 beat 3 scattered wrong answers on every item.
    assert_eq!(score(vec![2; 4], true, &config), Some((1.0, 0.0)));
    // The same wrong answer 3 times wins; 3 right of 5 win: half the items,
    // standard error sqrt(0.5 · 0.5 / 4).
    assert_eq!(score(vec![3, 3, 2, 2], false, &config), Some((0.5, 0.25)));
    config.eval.maj_m = 0;
    assert_eq!(score(vec![3; 4], false, &config), None);
}

#[test]
fn each_shipped_ablation_config_changes_exactly_its_switch() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/ablations");
    let tiny = preset("tiny").unwrap();
    let layered = |name: &str| {
        RunConfig::layered(Some("tiny"), Some(&dir.join(name)), &[])
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let mut want = tiny.clone();
    want.question_set.labels = LabelSource::Oracle;
    assert_eq!(layered("oracle-labels.toml"), want);
    let mut want = tiny.clone();
    want.challenger.train = false;
    assert_eq!(layered("base-challenger.toml"), want);
    let mut want = tiny.clone();
    want.challenger.repetition_lambda = 0.0;
    assert_eq!(layered("no-repetition-penalty.toml"), want);
    let mut want = tiny.clone();
    want.question_set.filter.band = rzero_data::Band::Range { lo: 0.0, hi: 1.0 };
    assert_eq!(layered("no-band.toml"), want);
    let mut want = tiny;
    want.question_set.filter.band = rzero_data::Band::OFFICIAL;
    assert_eq!(layered("paper-band.toml"), want);
}
