//! Templated word problems over the same arithmetic: a running quantity that
//! starts at `a` (or `a × b` in bags) and goes through `+ n`, `- n` and
//! `× n` steps. One table of sentence patterns serves both rendering and
//! parsing, so every rendered problem parses back.
//!
//! ```text
//! Tom has 3 bags of 12 apples each. Then Tom gives away 5 apples.
//! How many apples does Tom have now?            → (3 * 12) - 5 = 31
//! ```

use rand::Rng;
use rand::seq::IndexedRandom;

use super::expr::{Expr, Op};
use super::parse::MAX_OPS;

/// Names a generated problem uses; the parser also accepts he/she/they.
pub const NAMES: [&str; 8] = ["Tom", "Anna", "Sam", "Lily", "Ben", "Mia", "Max", "Zoe"];
/// Countable things (plural); none contains "box", which the filter drops.
pub const ITEMS: [&str; 8] = [
    "apples", "coins", "marbles", "stickers", "books", "pencils", "cards", "shells",
];
const PRONOUNS: [&str; 3] = ["he", "she", "they"];

#[derive(Debug, Clone, Copy)]
enum Part {
    /// One of these phrases (lowercase, space-separated words).
    Words(&'static [&'static str]),
    /// An optional leading "then".
    Then,
    /// A non-negative integer.
    Num,
    /// The person: a name from [`NAMES`] or a pronoun.
    Subject,
    /// The counted thing, from [`ITEMS`].
    Item,
}

use Part::{Item, Num, Subject, Then, Words};

const START: &[Part] = &[Subject, Words(&["has"]), Num, Item];
const START_BAGS: &[Part] = &[
    Subject,
    Words(&["has"]),
    Num,
    Words(&["bags", "baskets", "jars"]),
    Words(&["of"]),
    Num,
    Item,
    Words(&["each"]),
];
const ADD: &[Part] = &[
    Then,
    Subject,
    Words(&["gets", "buys", "finds"]),
    Num,
    Words(&["more"]),
    Item,
];
const SUB: &[Part] = &[
    Then,
    Subject,
    Words(&["gives away", "loses", "sells"]),
    Num,
    Item,
];
const MUL: &[Part] = &[
    Then,
    Subject,
    Words(&["has"]),
    Num,
    Words(&["times as many"]),
    Item,
    Words(&["as before"]),
];
const QUESTION: &[Part] = &[
    Words(&["how many"]),
    Item,
    Words(&["does"]),
    Subject,
    Words(&["have now", "have in total", "have"]),
];

/// A word problem: who, what, the start and the steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordProblem {
    /// The person's name as written.
    pub name: String,
    /// The counted thing (plural).
    pub item: String,
    /// Start amount `a`, or `(a, Some(b))` for `a` bags of `b` each.
    pub start: (i128, Option<i128>),
    /// The steps, in order.
    pub steps: Vec<(Op, i128)>,
}

impl WordProblem {
    /// The equivalent expression: the steps applied left to right.
    pub fn expr(&self) -> Expr {
        let first = match self.start {
            (a, None) => Expr::Num(a),
            (a, Some(b)) => Expr::bin(Op::Mul, Expr::Num(a), Expr::Num(b)),
        };
        self.steps
            .iter()
            .fold(first, |acc, &(op, n)| Expr::bin(op, acc, Expr::Num(n)))
    }

    /// Renders the problem, choosing among the phrasings at random.
    pub fn render<R: Rng + ?Sized>(&self, rng: &mut R) -> String {
        let mut sentences = Vec::with_capacity(self.steps.len() + 2);
        let (template, nums) = match self.start {
            (a, None) => (START, vec![a]),
            (a, Some(b)) => (START_BAGS, vec![a, b]),
        };
        sentences.push(self.sentence(template, &nums, rng) + ".");
        for &(op, n) in &self.steps {
            let template = match op {
                Op::Add => ADD,
                Op::Sub => SUB,
                Op::Mul => MUL,
            };
            sentences.push(self.sentence(template, &[n], rng) + ".");
        }
        sentences.push(self.sentence(QUESTION, &[], rng) + "?");
        sentences.join(" ")
    }

    fn sentence<R: Rng + ?Sized>(&self, parts: &[Part], nums: &[i128], rng: &mut R) -> String {
        let mut words: Vec<String> = Vec::new();
        let mut nums = nums.iter();
        for part in parts {
            match part {
                Words(alts) => words.push(alts.choose(rng).copied().unwrap_or_default().into()),
                Then => words.push("then".into()),
                Num => words.push(nums.next().copied().unwrap_or_default().to_string()),
                Subject => words.push(self.name.clone()),
                Item => words.push(self.item.clone()),
            }
        }
        let text = words.join(" ");
        let mut chars = text.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    }

    /// Parses text written in the templates' language (any case and
    /// spacing, "then" optional, he/she/they for the name). `None` if any
    /// sentence does not fit, the item or name changes, or the count would
    /// go negative.
    pub fn parse(text: &str) -> Option<WordProblem> {
        let sentences: Vec<Vec<String>> = text
            .split(['.', '?', '!', '\n'])
            .map(words_of)
            .filter(|w| !w.is_empty())
            .collect();
        let (first, rest) = sentences.split_first()?;
        let (question, steps) = rest.split_last()?;
        // Bounded like expressions: evaluation recurses once per step.
        if steps.len() > MAX_OPS {
            return None;
        }
        let mut ctx = Context::default();
        let start = if let Some(n) = match_parts(START, first, &mut ctx) {
            (*n.first()?, None)
        } else {
            let n = match_parts(START_BAGS, first, &mut ctx)?;
            (*n.first()?, Some(*n.get(1)?))
        };
        let name = ctx.name.clone()?;
        let mut parsed = Vec::with_capacity(steps.len());
        for words in steps {
            let (op, n) = [(Op::Add, ADD), (Op::Sub, SUB), (Op::Mul, MUL)]
                .into_iter()
                .find_map(|(op, t)| match_parts(t, words, &mut ctx).map(|n| (op, n)))?;
            parsed.push((op, *n.first()?));
        }
        match_parts(QUESTION, question, &mut ctx)?;
        let problem = WordProblem {
            name,
            item: ctx.item?,
            start,
            steps: parsed,
        };
        (problem.expr().op_count() > 0 && problem.never_negative()).then_some(problem)
    }

    /// Whether the running count stays ≥ 0 (and nothing overflows).
    pub fn never_negative(&self) -> bool {
        self.expr()
            .steps()
            .is_some_and(|steps| steps.iter().all(|s| s.result >= 0))
            && self.start.0 >= 0
            && self.steps.iter().all(|&(_, n)| n >= 0)
    }
}

fn words_of(sentence: &str) -> Vec<String> {
    sentence
        .split_whitespace()
        .map(|w| w.trim_matches([',', ';', ':']).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Name and item fixed by the first sentence that mentions them.
#[derive(Debug, Default)]
struct Context {
    name: Option<String>,
    item: Option<String>,
}

/// Matches `words` against `parts` exactly; returns the numbers captured.
/// Name and item must agree with the context (which the first match sets).
fn match_parts(parts: &[Part], words: &[String], ctx: &mut Context) -> Option<Vec<i128>> {
    let mut nums = Vec::new();
    let mut name = ctx.name.clone();
    let mut item = ctx.item.clone();
    let mut i = 0;
    for part in parts {
        match part {
            Then => i += usize::from(words.get(i).is_some_and(|w| w == "then")),
            Words(alts) => {
                let len = alts.iter().find_map(|alt| {
                    let n = alt.split(' ').count();
                    let got = words.get(i..i + n)?;
                    got.iter()
                        .zip(alt.split(' '))
                        .all(|(g, a)| g == a)
                        .then_some(n)
                })?;
                i += len;
            }
            Num => {
                let w = words
                    .get(i)
                    .filter(|w| w.len() <= 9 && w.bytes().all(|b| b.is_ascii_digit()))?;
                nums.push(w.parse().ok()?);
                i += 1;
            }
            Subject => {
                bind_subject(words.get(i)?, &mut name)?;
                i += 1;
            }
            Item => {
                let w = words.get(i).filter(|w| ITEMS.contains(&w.as_str()))?;
                bind(w, &mut item)?;
                i += 1;
            }
        }
    }
    (i == words.len()).then(|| {
        ctx.name = name;
        ctx.item = item;
        nums
    })
}

/// A pronoun refers to the name already bound; a name must be known and
/// agree with it.
fn bind_subject(word: &str, name: &mut Option<String>) -> Option<()> {
    if PRONOUNS.contains(&word) {
        return name.as_ref().map(|_| ());
    }
    let known = NAMES.iter().find(|n| n.eq_ignore_ascii_case(word))?;
    bind(known, name)
}

/// Binds `slot` to `value`, or checks that it already holds it.
fn bind(value: &str, slot: &mut Option<String>) -> Option<()> {
    match slot {
        Some(bound) if bound != value => None,
        _ => {
            *slot = Some(value.to_string());
            Some(())
        }
    }
}
