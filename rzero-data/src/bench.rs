//! The paper's evaluation sets (docs/DESIGN.md §7): names, loaders for the
//! `{"id","question","answer"[,"choices"]}` format, the general-domain prompt
//! and the Math AVG / Overall aggregates.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};
use crate::jsonl::read_jsonl;
use crate::records::EvalItem;
use crate::synthetic::{Level, default_heldout_dir};

/// Appended to the Solver's user message for MMLU-Pro, SuperGPQA and BBEH.
pub const GENERAL_SUFFIX: &str = "Please reason step by step, and put your final answer option within \\boxed{}. Only put the (option) letter in the box, e.g. \\boxed{A}. There is only one correct answer.";

/// Option letters; `choices[i]` belongs to `OPTION_LETTERS[i]`.
pub const OPTION_LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// One of the ten benchmarks of the paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Benchmark {
    /// MATH-500.
    Math500,
    /// GSM8K test.
    Gsm8k,
    /// AMC 2023.
    Amc23,
    /// Minerva math.
    MinervaMath,
    /// OlympiadBench (English, text-only, open-ended maths).
    OlympiadBench,
    /// AIME 2024.
    Aime24,
    /// AIME 2025.
    Aime25,
    /// MMLU-Pro (1000-item sample).
    MmluPro,
    /// SuperGPQA (300-item sample).
    SuperGpqa,
    /// BIG-Bench Extra Hard (1000-item sample).
    Bbeh,
    /// The synthetic held-out set of one level (`synthetic_l1` …
    /// `synthetic_l6`, in `data/synthetic`), scored like the math sets.
    Synthetic(Level),
}

const SYNTHETIC_NAMES: [&str; 6] = [
    "synthetic_l1",
    "synthetic_l2",
    "synthetic_l3",
    "synthetic_l4",
    "synthetic_l5",
    "synthetic_l6",
];

impl Benchmark {
    /// All ten, math first.
    pub const ALL: [Benchmark; 10] = [
        Benchmark::Math500,
        Benchmark::Gsm8k,
        Benchmark::Amc23,
        Benchmark::MinervaMath,
        Benchmark::OlympiadBench,
        Benchmark::Aime24,
        Benchmark::Aime25,
        Benchmark::MmluPro,
        Benchmark::SuperGpqa,
        Benchmark::Bbeh,
    ];
    /// The seven math sets averaged into Math AVG.
    pub const MATH: [Benchmark; 7] = [
        Benchmark::Math500,
        Benchmark::Gsm8k,
        Benchmark::Amc23,
        Benchmark::MinervaMath,
        Benchmark::OlympiadBench,
        Benchmark::Aime24,
        Benchmark::Aime25,
    ];
    /// The three general-domain sets (exact match, [`GENERAL_SUFFIX`]).
    pub const GENERAL: [Benchmark; 3] = [Benchmark::MmluPro, Benchmark::SuperGpqa, Benchmark::Bbeh];

    /// The name, which is also the file stem (`math500` → `math500.jsonl`).
    pub fn name(self) -> &'static str {
        match self {
            Benchmark::Math500 => "math500",
            Benchmark::Gsm8k => "gsm8k",
            Benchmark::Amc23 => "amc23",
            Benchmark::MinervaMath => "minerva_math",
            Benchmark::OlympiadBench => "olympiadbench",
            Benchmark::Aime24 => "aime24",
            Benchmark::Aime25 => "aime25",
            Benchmark::MmluPro => "mmlu_pro",
            Benchmark::SuperGpqa => "supergpqa",
            Benchmark::Bbeh => "bbeh",
            Benchmark::Synthetic(level) => SYNTHETIC_NAMES
                .get(usize::from(level.get()) - 1)
                .copied()
                .unwrap_or("synthetic"),
        }
    }

    /// Looks a name up, ignoring case and treating `-` as `_`.
    pub fn from_name(name: &str) -> Result<Self> {
        let wanted = name.trim().to_lowercase().replace('-', "_");
        Self::ALL
            .into_iter()
            .chain(Level::all().map(Benchmark::Synthetic))
            .find(|b| b.name() == wanted)
            .ok_or_else(|| DataError::UnknownBenchmark {
                name: name.to_string(),
                known: format!(
                    "{}, synthetic_l1..synthetic_l6",
                    Self::ALL.map(Self::name).join(", ")
                ),
            })
    }

    /// Whether the set is scored by math equivalence (else exact match).
    pub fn is_math(self) -> bool {
        Self::MATH.contains(&self) || matches!(self, Benchmark::Synthetic(_))
    }

    /// Where the repository keeps the set: `data/bench` for the paper's
    /// ten, `data/synthetic` for the synthetic levels.
    pub fn default_dir(self) -> PathBuf {
        match self {
            Benchmark::Synthetic(_) => default_heldout_dir(),
            _ => default_bench_dir(),
        }
    }

    /// Path of the set's file under `dir`.
    pub fn path_in(self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.jsonl", self.name()))
    }
}

impl fmt::Display for Benchmark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a comma-separated list of names; `math`, `general`, `all` (the
/// paper's ten) and `synthetic` (six levels) stand for their groups. Repeats are removed, order kept.
pub fn parse_benchmark_list(list: &str) -> Result<Vec<Benchmark>> {
    let mut out: Vec<Benchmark> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let group: Vec<Benchmark> = match name.to_lowercase().as_str() {
            "all" => Benchmark::ALL.to_vec(),
            "math" => Benchmark::MATH.to_vec(),
            "general" => Benchmark::GENERAL.to_vec(),
            "synthetic" => Level::all().map(Benchmark::Synthetic).collect(),
            _ => vec![Benchmark::from_name(name)?],
        };
        for b in group {
            if !out.contains(&b) {
                out.push(b);
            }
        }
    }
    Ok(out)
}

/// The repository's `data/bench` directory (a copy of the shared sets).
pub fn default_bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/bench")
}

/// Loads every item of `bench` from `dir`.
pub fn load_benchmark(dir: &Path, bench: Benchmark) -> Result<Vec<EvalItem>> {
    read_jsonl(bench.path_in(dir))
}

/// The Solver's user message for an item: the question; for multiple choice
/// the options follow as `\n\nOptions:\nA. …\nB. …`; for the general sets
/// [`GENERAL_SUFFIX`] follows after a blank line. (The paper does not print
/// its option layout; this one is ours.)
pub fn solver_user_message(bench: Benchmark, item: &EvalItem) -> String {
    let mut msg = item.question.clone();
    if let Some(choices) = &item.choices {
        msg.push_str("\n\nOptions:");
        for (letter, choice) in OPTION_LETTERS.chars().zip(choices) {
            msg.push_str(&format!("\n{letter}. {choice}"));
        }
    }
    if !bench.is_math() {
        msg.push_str("\n\n");
        msg.push_str(GENERAL_SUFFIX);
    }
    msg
}

/// Exact match for the general sets after light normalisation of both
/// sides: trim, unwrap one `\text{…}`, drop surrounding parentheses
/// (`(E)` ≡ `E`) and a final period.
pub fn general_match(prediction: &str, gold: &str) -> bool {
    fn norm(s: &str) -> &str {
        let mut s = s.trim();
        if let Some(inner) = s.strip_prefix("\\text{").and_then(|r| r.strip_suffix('}')) {
            s = inner.trim();
        }
        s = s.strip_suffix('.').unwrap_or(s).trim();
        if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            s = inner.trim();
        }
        s
    }
    let p = norm(prediction);
    !p.is_empty() && p == norm(gold)
}

/// Math AVG = mean accuracy over the seven math sets.
pub fn math_avg(scores: &BTreeMap<Benchmark, f64>) -> Result<f64> {
    mean_of(scores, &Benchmark::MATH)
}

/// Overall = mean(Math AVG, SuperGPQA, MMLU-Pro, BBEH).
pub fn overall(scores: &BTreeMap<Benchmark, f64>) -> Result<f64> {
    let parts = [
        math_avg(scores)?,
        get(scores, Benchmark::SuperGpqa)?,
        get(scores, Benchmark::MmluPro)?,
        get(scores, Benchmark::Bbeh)?,
    ];
    Ok(parts.iter().sum::<f64>() / parts.len() as f64)
}

fn get(scores: &BTreeMap<Benchmark, f64>, bench: Benchmark) -> Result<f64> {
    scores
        .get(&bench)
        .copied()
        .ok_or_else(|| DataError::MissingScore {
            bench: bench.name().to_string(),
        })
}

fn mean_of(scores: &BTreeMap<Benchmark, f64>, set: &[Benchmark]) -> Result<f64> {
    let mut sum = 0.0;
    for &b in set {
        sum += get(scores, b)?;
    }
    Ok(sum / set.len() as f64)
}
