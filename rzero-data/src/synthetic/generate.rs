//! The seeded task generator: for a level, draw a random expression (or a
//! word problem) shaped by that level's limits, and keep it only if its
//! computed level ([`super::level_of`]) is exactly the one asked for.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::expr::{Expr, Op};
use super::level::{Level, level_of};
use super::render::{Document, Role, approx_tokens};
use super::word::{ITEMS, NAMES, WordProblem};

/// How a task is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    /// `What is (12 + 5) * 3?`
    Expression,
    /// A templated word problem ([`WordProblem`]).
    WordProblem,
}

/// A task with its true answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The question text.
    pub question: String,
    /// The arithmetic it asks for.
    pub expr: Expr,
    /// The true answer.
    pub answer: i128,
    /// Its level.
    pub level: Level,
    /// How it is written.
    pub surface: Surface,
}

impl Task {
    /// The answer as the Solver should box it.
    pub fn answer_text(&self) -> String {
        self.answer.to_string()
    }

    /// One line per operation, in order of evaluation (`4*2=8`).
    pub fn working(&self) -> Vec<String> {
        self.expr
            .steps()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }
}

/// How the generator shapes a level's draws.
struct Shape {
    ops: usize,
    max_operand: i128,
    ops_allowed: &'static [Op],
    /// Multiplications take one leaf factor in `2..=max_factor`; `None`:
    /// both sides are arbitrary subtrees.
    max_factor: Option<i128>,
}

const PLUS_MINUS: &[Op] = &[Op::Add, Op::Sub];
const ALL_OPS: &[Op] = &[Op::Add, Op::Sub, Op::Mul];

fn shape(level: Level) -> Shape {
    let (ops, max_operand, ops_allowed, max_factor) = match level.get() {
        1 => (1, 9, PLUS_MINUS, Some(9)),
        2 => (2, 9, PLUS_MINUS, Some(9)),
        3 => (2, 9, ALL_OPS, Some(9)),
        4 => (3, 9, ALL_OPS, Some(9)),
        5 => (4, 9, ALL_OPS, Some(9)),
        _ => (3, 99, ALL_OPS, Some(9)),
    };
    Shape {
        ops,
        max_operand,
        ops_allowed,
        max_factor,
    }
}

/// Largest |value| a generated level-6 task may reach, so its working stays
/// short (≲ 60 tokens at one token per digit).
pub const MAX_GENERATED_ABS: i128 = 999_999;

/// Draws that may be rejected before falling back to a fixed example.
const MAX_TRIES: usize = 10_000;

/// A reproducible source of tasks (ChaCha8 seeded with `seed`).
#[derive(Debug, Clone)]
pub struct TaskGenerator {
    rng: ChaCha8Rng,
}

impl TaskGenerator {
    /// A generator whose whole output is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The generator's random source, for callers mixing their own draws in.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    /// A task of `level` written as `surface`.
    pub fn task(&mut self, level: Level, surface: Surface) -> Task {
        match surface {
            Surface::Expression => self.expression(level),
            Surface::WordProblem => self.word_problem(level),
        }
    }

    /// `What is {expr}?` with an expression of exactly `level`.
    pub fn expression(&mut self, level: Level) -> Task {
        let s = shape(level);
        for _ in 0..MAX_TRIES {
            let expr = random_tree(&mut self.rng, &s, s.ops);
            if accepts(&expr, level) {
                let task = finish(format!("What is {expr}?"), expr, level, Surface::Expression);
                if short_enough(&task) {
                    return task;
                }
            }
        }
        let expr = fallback(level);
        finish(format!("What is {expr}?"), expr, level, Surface::Expression)
    }

    /// A word problem of exactly `level`.
    pub fn word_problem(&mut self, level: Level) -> Task {
        let s = shape(level);
        for _ in 0..MAX_TRIES {
            let problem = random_word_problem(&mut self.rng, &s);
            let expr = problem.expr();
            if problem.never_negative() && accepts(&expr, level) {
                let question = problem.render(&mut self.rng);
                let task = finish(question, expr, level, Surface::WordProblem);
                if short_enough(&task) {
                    return task;
                }
            }
        }
        self.expression(level)
    }
}

/// Longest Solver completion a generated task may have, in
/// [`approx_tokens`] (one token per digit): a ~1M-parameter model must
/// learn to write it.
pub const MAX_SOLVER_TOKENS: usize = 60;

fn short_enough(task: &Task) -> bool {
    approx_tokens(&Document::new(task, Role::Solver).completion) <= MAX_SOLVER_TOKENS
}

fn accepts(expr: &Expr, level: Level) -> bool {
    let small = super::level::Features::of(expr).is_some_and(|f| f.max_abs <= MAX_GENERATED_ABS);
    small && level_of(expr) == Some(level)
}

fn finish(question: String, expr: Expr, level: Level, surface: Surface) -> Task {
    let answer = expr.eval().unwrap_or_default();
    Task {
        question,
        expr,
        answer,
        level,
        surface,
    }
}

fn operand<R: Rng>(rng: &mut R, max: i128) -> i128 {
    rng.random_range(1..=max)
}

fn count<R: Rng>(rng: &mut R, max: i128) -> i128 {
    rng.random_range(2..=max.max(2))
}

fn random_tree<R: Rng>(rng: &mut R, s: &Shape, ops: usize) -> Expr {
    if ops == 0 {
        return Expr::Num(operand(rng, s.max_operand));
    }
    let op = s.ops_allowed.choose(rng).copied().unwrap_or(Op::Add);
    if let (Op::Mul, Some(max_factor)) = (op, s.max_factor) {
        let factor = Expr::Num(rng.random_range(2..=max_factor));
        let other = random_tree(rng, s, ops - 1);
        return if rng.random_bool(0.5) {
            Expr::bin(op, other, factor)
        } else {
            Expr::bin(op, factor, other)
        };
    }
    let left_ops = rng.random_range(0..ops);
    let lhs = random_tree(rng, s, left_ops);
    let rhs = random_tree(rng, s, ops - 1 - left_ops);
    Expr::bin(op, lhs, rhs)
}

fn random_word_problem<R: Rng>(rng: &mut R, s: &Shape) -> WordProblem {
    let name = NAMES.choose(rng).copied().unwrap_or("Tom").to_string();
    let item = ITEMS.choose(rng).copied().unwrap_or("apples").to_string();
    let bags = s.ops_allowed.contains(&Op::Mul) && rng.random_bool(0.3);
    let factor_max = s.max_factor.unwrap_or(s.max_operand);
    // Counts start at 2 so no sentence reads "1 apples".
    let (start, mut total) = if bags {
        let a = count(rng, factor_max.min(s.max_operand));
        let b = count(rng, s.max_operand);
        ((a, Some(b)), a * b)
    } else {
        let a = count(rng, s.max_operand);
        ((a, None), a)
    };
    let mut steps = Vec::with_capacity(s.ops);
    for _ in usize::from(bags)..s.ops {
        let mut op = s.ops_allowed.choose(rng).copied().unwrap_or(Op::Add);
        if op == Op::Sub && total < 2 {
            op = Op::Add;
        }
        let n = match op {
            Op::Add => count(rng, s.max_operand),
            Op::Sub => count(rng, s.max_operand.min(total)),
            Op::Mul => count(rng, factor_max),
        };
        total = op.apply(total, n).unwrap_or(total);
        steps.push((op, n));
    }
    WordProblem {
        name,
        item,
        start,
        steps,
    }
}

/// Fixed examples, used only if rejection sampling runs out of tries.
fn fallback(level: Level) -> Expr {
    let n = Expr::Num;
    let b = Expr::bin;
    match level.get() {
        1 => b(Op::Add, n(3), n(4)),
        2 => b(Op::Sub, b(Op::Add, n(7), n(3)), n(4)),
        3 => b(Op::Add, n(7), b(Op::Mul, n(3), n(4))),
        4 => b(Op::Add, b(Op::Mul, b(Op::Sub, n(6), n(8)), n(4)), n(9)),
        5 => b(
            Op::Add,
            b(Op::Mul, b(Op::Sub, n(6), n(8)), n(4)),
            b(Op::Mul, n(9), n(3)),
        ),
        _ => b(Op::Sub, n(47), b(Op::Mul, n(8), n(6))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallbacks_have_their_levels() {
        for level in Level::all() {
            let expr = fallback(level);
            assert_eq!(level_of(&expr), Some(level));
            let task = finish(format!("What is {expr}?"), expr, level, Surface::Expression);
            assert!(short_enough(&task), "{}", task.question);
        }
    }

    #[test]
    fn same_seed_same_tasks() {
        let draw = |seed| {
            let mut g = TaskGenerator::new(seed);
            Level::all()
                .flat_map(|l| [g.expression(l).question, g.word_problem(l).question])
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }
}
