//! The official question-set filters, the band edges and the report.

use rzero_data::filter::{
    Band, Dedup, DropReason, FilterConfig, QuestionFilter, filter_question_set,
};
use rzero_data::{ChallengerSample, QuestionRecord};

fn record(question: &str, label: &str, consistency: f64) -> QuestionRecord {
    QuestionRecord {
        iteration: 1,
        id: question.into(),
        question: question.into(),
        challenger_answer: None,
        pseudo_label: label.into(),
        consistency,
        votes: 10,
        class_sizes: vec![],
        answers: vec![],
        oracle_answer: None,
        oracle_level: None,
    }
}

fn verdict(question: &str, label: &str, p: f64) -> Result<(), DropReason> {
    QuestionFilter::new(FilterConfig::default())
        .unwrap()
        .admit_question(&record(question, label, p))
}

#[test]
fn each_official_filter_drops_its_case() {
    assert_eq!(verdict("What is 2+2?", "4", 0.5), Ok(()));
    assert_eq!(verdict("What is 2+2?", "", 0.5), Err(DropReason::NoAnswer));
    assert_eq!(
        verdict("What is 2+2?", "  ", 0.5),
        Err(DropReason::NoAnswer)
    );
    assert_eq!(
        verdict("Put it in a BOX", "4", 0.5),
        Err(DropReason::MentionsBox)
    );
    assert_eq!(
        verdict("use \\boxed{}", "4", 0.5),
        Err(DropReason::MentionsBox)
    );
    assert_eq!(
        verdict("请证明 x > 0", "4", 0.5),
        Err(DropReason::MentionsProof)
    );
    assert_eq!(
        verdict("What is 2+2?", "\\text{four}", 0.5),
        Err(DropReason::LabelHasText)
    );
    assert_eq!(
        verdict("What is 2+2?", "4", 0.9),
        Err(DropReason::OutsideBand)
    );
}

#[test]
fn official_band_edges_are_inclusive() {
    let band = Band::OFFICIAL;
    // p̂ = k / m as the vote computes it, for m = 9 and m = 10.
    let kept: Vec<u32> = (0..=10)
        .filter(|k| band.contains(f64::from(*k) / 10.0))
        .collect();
    assert_eq!(kept, [3, 4, 5, 6, 7, 8]);
    let kept: Vec<u32> = (0..=9)
        .filter(|k| band.contains(f64::from(*k) / 9.0))
        .collect();
    assert_eq!(kept, [3, 4, 5, 6, 7]);
    assert!(!band.contains(0.299) && !band.contains(0.801));
}

#[test]
fn centered_band_is_the_papers_form() {
    let band = Band::Centered { delta: 0.25 };
    assert!(band.contains(0.25) && band.contains(0.75) && band.contains(0.5));
    assert!(!band.contains(0.2) && !band.contains(0.8));
}

#[test]
fn invalid_bands_are_rejected() {
    for band in [
        Band::Range { lo: 0.8, hi: 0.3 },
        Band::Range { lo: -0.1, hi: 0.5 },
        Band::Centered { delta: 0.7 },
    ] {
        let config = FilterConfig {
            band,
            dedup: Dedup::Off,
        };
        assert!(QuestionFilter::new(config).is_err(), "{band:?}");
    }
}

#[test]
fn dedup_modes() {
    let set = || {
        vec![
            record("What is 2+2?", "4", 0.5),
            record("what  is 2+2?", "4", 0.5),
            record("What is 2+2?", "4", 0.5),
        ]
    };
    let kept = |dedup| {
        filter_question_set(
            set(),
            FilterConfig {
                band: Band::OFFICIAL,
                dedup,
            },
        )
        .unwrap()
        .0
        .len()
    };
    assert_eq!(kept(Dedup::Off), 3);
    assert_eq!(kept(Dedup::Exact), 2);
    assert_eq!(kept(Dedup::Normalized), 1);
}

#[test]
fn report_counts_every_stage() {
    let mut filter = QuestionFilter::new(FilterConfig::default()).unwrap();
    let sample = |question: Option<&str>, answer: Option<&str>| ChallengerSample {
        iteration: 1,
        step: 0,
        prompt_index: 0,
        sample_index: 0,
        text: String::new(),
        question: question.map(Into::into),
        answer: answer.map(Into::into),
        format_ok: question.is_some() && answer.is_some(),
        reward: None,
        oracle: None,
    };
    assert!(filter.admit_sample(&sample(Some("q"), Some("1"))));
    assert!(!filter.admit_sample(&sample(None, Some("1"))));
    assert!(!filter.admit_sample(&sample(Some("q"), None)));
    for r in [
        record("a", "1", 0.5),
        record("b", "", 0.5),
        record("box", "1", 0.5),
        record("c", "1", 0.1),
        record("d", "1", 0.8),
    ] {
        let _ = filter.admit_question(&r);
    }
    let report = filter.report();
    assert_eq!(report.format_failures, 2);
    assert_eq!(report.no_answer, 1);
    assert_eq!(report.mentions_box, 1);
    assert_eq!(report.outside_band, 1);
    assert_eq!(report.kept, 2);
    assert_eq!(report.seen, 7);
}
