//! The official question-set filters (docs/DESIGN.md §5) with a report of what each
//! one dropped.
//!
//! In order: format failures (Challenger output without question or answer),
//! no extracted answer (empty pseudo-label), questions containing `box`
//! (any case) or `证明`, pseudo-labels containing `text`, p̂ outside the
//! consistency band, and — optional, off in the official code — duplicates.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::records::{ChallengerSample, QuestionRecord};

/// Which p̂ = consistency values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Band {
    /// Official code: keep `lo ≤ p̂ ≤ hi` (0.3 and 0.8).
    Range {
        /// Lower bound, inclusive.
        lo: f64,
        /// Upper bound, inclusive.
        hi: f64,
    },
    /// Paper: keep `|p̂ − ½| ≤ δ`.
    Centered {
        /// Half-width δ.
        delta: f64,
    },
}

impl Band {
    /// The official band `0.3 ≤ p̂ ≤ 0.8`.
    pub const OFFICIAL: Band = Band::Range { lo: 0.3, hi: 0.8 };

    /// Whether `consistency` is inside the band. A small tolerance (1e-9)
    /// keeps p̂ = 3/10 inside a 0.3 bound despite rounding.
    pub fn contains(&self, consistency: f64) -> bool {
        const TOL: f64 = 1e-9;
        match *self {
            Band::Range { lo, hi } => consistency >= lo - TOL && consistency <= hi + TOL,
            Band::Centered { delta } => (consistency - 0.5).abs() <= delta + TOL,
        }
    }

    /// Rejects bounds outside [0, 1] or an empty range.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| {
            Err(DataError::InvalidConfig {
                key: "band",
                reason,
            })
        };
        match *self {
            Band::Range { lo, hi } if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) => {
                bad(format!("bounds {lo}..{hi} must lie in [0, 1]"))
            }
            Band::Range { lo, hi } if lo > hi => bad(format!("lo {lo} is above hi {hi}")),
            Band::Centered { delta } if !(0.0..=0.5).contains(&delta) => {
                bad(format!("delta {delta} must lie in [0, 0.5]"))
            }
            _ => Ok(()),
        }
    }
}

/// Optional removal of repeated questions (first occurrence kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dedup {
    /// Keep repeats (official).
    #[default]
    Off,
    /// Drop exact repeats of the question text.
    Exact,
    /// Drop repeats after lowercasing and collapsing whitespace.
    Normalized,
}

/// Settings of the question-set filter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// The consistency band.
    pub band: Band,
    /// Duplicate removal.
    pub dedup: Dedup,
}

impl Default for FilterConfig {
    /// The official settings: band 0.3..0.8, no dedup.
    fn default() -> Self {
        Self {
            band: Band::OFFICIAL,
            dedup: Dedup::Off,
        }
    }
}

/// Why a question was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The Challenger output failed the format gate.
    FormatFailure,
    /// No Solver sample had an extractable answer.
    NoAnswer,
    /// The question contains "box" (any case).
    MentionsBox,
    /// The question contains "证明" ("prove").
    MentionsProof,
    /// The pseudo-label contains "text".
    LabelHasText,
    /// p̂ is outside the band.
    OutsideBand,
    /// The question repeats an earlier one.
    Duplicate,
}

/// How many questions each filter dropped, and how many were kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterReport {
    /// Everything offered to the filter.
    pub seen: usize,
    /// Dropped by the format gate.
    pub format_failures: usize,
    /// Dropped for an empty pseudo-label.
    pub no_answer: usize,
    /// Dropped for "box" in the question.
    pub mentions_box: usize,
    /// Dropped for "证明" in the question.
    pub mentions_proof: usize,
    /// Dropped for "text" in the pseudo-label.
    pub label_has_text: usize,
    /// Dropped by the band.
    pub outside_band: usize,
    /// Dropped as duplicates.
    pub duplicates: usize,
    /// Kept.
    pub kept: usize,
}

impl FilterReport {
    fn count(&mut self, verdict: std::result::Result<(), DropReason>) {
        self.seen += 1;
        let slot = match verdict {
            Ok(()) => &mut self.kept,
            Err(DropReason::FormatFailure) => &mut self.format_failures,
            Err(DropReason::NoAnswer) => &mut self.no_answer,
            Err(DropReason::MentionsBox) => &mut self.mentions_box,
            Err(DropReason::MentionsProof) => &mut self.mentions_proof,
            Err(DropReason::LabelHasText) => &mut self.label_has_text,
            Err(DropReason::OutsideBand) => &mut self.outside_band,
            Err(DropReason::Duplicate) => &mut self.duplicates,
        };
        *slot += 1;
    }
}

/// Applies the filters one item at a time and keeps the report. Stage 1
/// ([`QuestionFilter::admit_sample`]) runs before labelling, stage 2
/// ([`QuestionFilter::admit_question`]) after.
#[derive(Debug, Clone)]
pub struct QuestionFilter {
    config: FilterConfig,
    report: FilterReport,
    seen_questions: HashSet<String>,
}

impl QuestionFilter {
    /// A filter with `config`, after validating its band.
    pub fn new(config: FilterConfig) -> Result<Self> {
        config.band.validate()?;
        Ok(Self {
            config,
            report: FilterReport::default(),
            seen_questions: HashSet::new(),
        })
    }

    /// Stage 1: whether a Challenger output passed the format gate (a
    /// non-empty question and answer). Failures are counted.
    pub fn admit_sample(&mut self, sample: &ChallengerSample) -> bool {
        let ok = sample.format_ok
            && sample
                .question
                .as_deref()
                .is_some_and(|q| !q.trim().is_empty())
            && sample
                .answer
                .as_deref()
                .is_some_and(|a| !a.trim().is_empty());
        if !ok {
            self.report.count(Err(DropReason::FormatFailure));
        }
        ok
    }

    /// Stage 2: checks a labelled question and counts the verdict.
    pub fn admit_question(
        &mut self,
        record: &QuestionRecord,
    ) -> std::result::Result<(), DropReason> {
        let verdict = self.check(record);
        self.report.count(verdict);
        verdict
    }

    fn check(&mut self, record: &QuestionRecord) -> std::result::Result<(), DropReason> {
        if record.pseudo_label.trim().is_empty() {
            return Err(DropReason::NoAnswer);
        }
        if record.question.to_lowercase().contains("box") {
            return Err(DropReason::MentionsBox);
        }
        if record.question.contains("证明") {
            return Err(DropReason::MentionsProof);
        }
        if record.pseudo_label.contains("text") {
            return Err(DropReason::LabelHasText);
        }
        if !self.config.band.contains(record.consistency) {
            return Err(DropReason::OutsideBand);
        }
        let key = match self.config.dedup {
            Dedup::Off => return Ok(()),
            Dedup::Exact => record.question.clone(),
            Dedup::Normalized => normalize_question(&record.question),
        };
        if self.seen_questions.insert(key) {
            Ok(())
        } else {
            Err(DropReason::Duplicate)
        }
    }

    /// The counts so far.
    pub fn report(&self) -> FilterReport {
        self.report
    }
}

/// Lowercases and collapses runs of whitespace to one space, trimmed.
pub fn normalize_question(question: &str) -> String {
    question
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Stage 2 over a whole set: the kept records (in order) and the report.
pub fn filter_question_set(
    records: impl IntoIterator<Item = QuestionRecord>,
    config: FilterConfig,
) -> Result<(Vec<QuestionRecord>, FilterReport)> {
    let mut filter = QuestionFilter::new(config)?;
    let kept = records
        .into_iter()
        .filter(|r| filter.admit_question(r).is_ok())
        .collect();
    Ok((kept, filter.report()))
}
