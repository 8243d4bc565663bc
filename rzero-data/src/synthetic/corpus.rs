//! The pretraining corpus and the held-out evaluation set. The held-out set
//! is drawn first from a fixed seed; the corpus skips every task whose
//! (normalised) question text is in it, so the two are disjoint by
//! construction.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::generate::{Surface, TaskGenerator};
use super::level::Level;
use super::render::{Document, Role};
use crate::error::{DataError, Result};
use crate::filter::normalize_question;
use crate::jsonl::{AtomicJsonlWriter, write_jsonl};
use crate::records::EvalItem;

/// Seed of the shipped held-out set.
pub const HELDOUT_SEED: u64 = 20_250_805;

/// The repository's copy of the default held-out set
/// (`data/synthetic/synthetic_l{1..6}.jsonl`).
pub fn default_heldout_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/synthetic")
}

/// How the held-out set is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldOutConfig {
    /// Seed (each level uses `seed + level`).
    pub seed: u64,
    /// Distinct questions per level.
    pub per_level: usize,
    /// Share of word problems (the rest are expressions).
    pub word_problem_fraction: f64,
}

impl Default for HeldOutConfig {
    /// [`HELDOUT_SEED`], 250 per level (a standard error of at most 3.2
    /// points), 30 % word problems.
    fn default() -> Self {
        Self {
            seed: HELDOUT_SEED,
            per_level: 250,
            word_problem_fraction: 0.3,
        }
    }
}

/// The held-out evaluation items of every level, in the benchmark format.
#[derive(Debug, Clone)]
pub struct HeldOut {
    levels: Vec<(Level, Vec<EvalItem>)>,
    questions: HashSet<String>,
}

impl HeldOut {
    /// Draws `per_level` distinct questions for each level.
    pub fn generate(config: &HeldOutConfig) -> Result<HeldOut> {
        check_fraction("word_problem_fraction", config.word_problem_fraction)?;
        let mut questions = HashSet::new();
        let mut levels = Vec::new();
        for level in Level::all() {
            let mut generator =
                TaskGenerator::new(config.seed.wrapping_add(u64::from(level.get())));
            let mut items = Vec::with_capacity(config.per_level);
            // Bounded: level 1 has a finite (but large) pool of texts.
            for _ in 0..config.per_level.saturating_mul(50) {
                if items.len() == config.per_level {
                    break;
                }
                let surface = pick_surface(generator.rng(), config.word_problem_fraction);
                let task = generator.task(level, surface);
                if questions.insert(normalize_question(&task.question)) {
                    items.push(EvalItem {
                        id: format!("synthetic_l{level}/{:04}", items.len()),
                        question: task.question,
                        answer: task.answer.to_string(),
                        choices: None,
                    });
                }
            }
            levels.push((level, items));
        }
        Ok(HeldOut { levels, questions })
    }

    /// Whether `question` (normalised) is held out.
    pub fn contains(&self, question: &str) -> bool {
        self.questions.contains(&normalize_question(question))
    }

    /// The items of `level`.
    pub fn items(&self, level: Level) -> &[EvalItem] {
        self.levels
            .iter()
            .find(|(l, _)| *l == level)
            .map_or(&[], |(_, items)| items.as_slice())
    }

    /// Writes `synthetic_l{level}.jsonl` per level into `dir` (atomically);
    /// returns the paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let mut paths = Vec::new();
        for (level, items) in &self.levels {
            let path = dir.join(format!("synthetic_l{level}.jsonl"));
            write_jsonl(&path, items)?;
            paths.push(path);
        }
        Ok(paths)
    }
}

/// What the pretraining corpus contains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusConfig {
    /// Seed of the corpus draws.
    pub seed: u64,
    /// Number of documents.
    pub documents: usize,
    /// Share of Challenger documents; the rest are Solver documents.
    pub challenger_fraction: f64,
    /// Share of word problems; the rest are expressions.
    pub word_problem_fraction: f64,
    /// Share of word problems among Challenger documents, when it differs
    /// from `word_problem_fraction`: a small model copies a name and item
    /// through a problem it writes far less reliably than it reads one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenger_word_problem_fraction: Option<f64>,
    /// Relative weight of levels 1..=6.
    pub level_weights: [f64; 6],
    /// Share of Solver documents that give the answer without working
    /// (an empty think block, as Qwen3 renders a non-thinking reply).
    #[serde(default)]
    pub solver_direct_fraction: f64,
}

impl Default for CorpusConfig {
    /// 200 000 documents, 1 Challenger : 3 Solver, 30 % word problems,
    /// levels equally weighted.
    fn default() -> Self {
        Self {
            seed: 1,
            documents: 200_000,
            challenger_fraction: 0.25,
            word_problem_fraction: 0.3,
            challenger_word_problem_fraction: None,
            level_weights: [1.0; 6],
            solver_direct_fraction: 0.0,
        }
    }
}

impl CorpusConfig {
    /// The share of word problems among documents of `role`.
    pub fn word_problem_share(&self, role: Role) -> f64 {
        match (role, self.challenger_word_problem_fraction) {
            (Role::Challenger, Some(share)) => share,
            _ => self.word_problem_fraction,
        }
    }

    /// Rejects fractions outside [0, 1] and weights that are negative or
    /// sum to zero.
    pub fn validate(&self) -> Result<()> {
        check_fraction("challenger_fraction", self.challenger_fraction)?;
        check_fraction("word_problem_fraction", self.word_problem_fraction)?;
        check_fraction("solver_direct_fraction", self.solver_direct_fraction)?;
        if let Some(share) = self.challenger_word_problem_fraction {
            check_fraction("challenger_word_problem_fraction", share)?;
        }
        let sum: f64 = self.level_weights.iter().sum();
        if self
            .level_weights
            .iter()
            .any(|w| !w.is_finite() || *w < 0.0)
            || sum <= 0.0
        {
            return Err(DataError::InvalidConfig {
                key: "level_weights",
                reason: format!(
                    "{:?} must be non-negative with a positive sum",
                    self.level_weights
                ),
            });
        }
        Ok(())
    }
}

fn check_fraction(key: &'static str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(DataError::InvalidConfig {
            key,
            reason: format!("{value} is not in [0, 1]"),
        })
    }
}

fn pick_surface<R: Rng>(rng: &mut R, word_fraction: f64) -> Surface {
    if rng.random_bool(word_fraction) {
        Surface::WordProblem
    } else {
        Surface::Expression
    }
}

/// Iterator over the documents of the pretraining corpus (see
/// [`pretraining_corpus`]).
#[derive(Debug)]
pub struct Corpus<'a> {
    config: CorpusConfig,
    heldout: &'a HeldOut,
    generator: TaskGenerator,
    produced: usize,
}

/// The corpus of `config.documents` documents, none of whose questions is in
/// `heldout`.
pub fn pretraining_corpus<'a>(config: &CorpusConfig, heldout: &'a HeldOut) -> Result<Corpus<'a>> {
    config.validate()?;
    Ok(Corpus {
        config: config.clone(),
        heldout,
        generator: TaskGenerator::new(config.seed),
        produced: 0,
    })
}

impl Corpus<'_> {
    fn pick_level(&mut self) -> Level {
        let weights = self.config.level_weights;
        let total: f64 = weights.iter().sum();
        let mut x = self.generator.rng().random_range(0.0..total);
        for (level, w) in Level::all().zip(weights) {
            if x < w {
                return level;
            }
            x -= w;
        }
        Level::MAX
    }
}

impl Iterator for Corpus<'_> {
    type Item = Document;

    fn next(&mut self) -> Option<Document> {
        if self.produced >= self.config.documents {
            return None;
        }
        let rng = self.generator.rng();
        let role = if rng.random_bool(self.config.challenger_fraction) {
            Role::Challenger
        } else {
            Role::Solver
        };
        let surface = pick_surface(rng, self.config.word_problem_share(role));
        let level = self.pick_level();
        // Redraw held-out questions. Word problems of a level, and level 6
        // itself, are far larger than any held-out set, so this ends.
        let mut task = self.generator.task(level, surface);
        let mut tries = 0;
        while self.heldout.contains(&task.question) {
            tries += 1;
            let (level, surface) = match tries {
                0..=100 => (level, surface),
                101..=1000 => (level, Surface::WordProblem),
                _ => (Level::MAX, Surface::WordProblem),
            };
            task = self.generator.task(level, surface);
        }
        self.produced += 1;
        let direct = role == Role::Solver
            && self.config.solver_direct_fraction > 0.0
            && self
                .generator
                .rng()
                .random_bool(self.config.solver_direct_fraction);
        Some(if direct {
            Document::solver_direct(&task)
        } else {
            Document::new(&task, role)
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.config.documents - self.produced;
        (left, Some(left))
    }
}

/// Writes the corpus as JSONL of [`Document`]s to `path` (atomically);
/// returns the number written.
pub fn write_corpus(path: &Path, config: &CorpusConfig, heldout: &HeldOut) -> Result<usize> {
    let mut writer = AtomicJsonlWriter::create(path)?;
    for document in pretraining_corpus(config, heldout)? {
        writer.write(&document)?;
    }
    writer.finish()
}
