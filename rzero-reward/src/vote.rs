//! Majority vote over sampled answers (R-Zero's pseudo-label and p̂).
//!
//! m answers are grouped into equivalence classes in order of first
//! appearance. Each non-empty answer is compared with the first member of
//! every existing class, oldest class first: cheap string equality, then the
//! checker in both directions, `equivalent(class, answer) ||
//! equivalent(answer, class)`. It joins the first class that matches or opens
//! a new one. Empty answers (nothing but whitespace: no `\boxed{}` found)
//! join no class but **count in the denominator**:
//!
//! ```text
//! p̂ = |largest class| / m        pseudo-label = first member of the largest class
//! ```
//!
//! Ties between classes go to the class seen first. With no non-empty answer
//! p̂ = 0 and there is no pseudo-label.
//!
//! Cost: at most 2·m·k checker calls for k classes (≤ m(m−1) in the worst
//! case, m = 9 or 10 in R-Zero), plus string comparisons; O(m) memory.
//!
//! Deliberate difference: some official scripts also merge any two answers
//! that both contain `"no "` (lower-cased); that rule is not applied here.
//! Wrap the checker with [`both_say_no`] to get it back.

/// One equivalence class of answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerClass {
    /// Indices into the answer list, in order; `members[0]` is the class's face.
    pub members: Vec<usize>,
}

impl AnswerClass {
    /// Number of answers in the class.
    pub fn size(&self) -> usize {
        self.members.len()
    }
}

/// Result of a majority vote.
#[derive(Debug, Clone, PartialEq)]
pub struct Vote<'a> {
    /// First-seen member of the largest class; `None` when every answer is empty.
    pub pseudo_label: Option<&'a str>,
    /// p̂ = |largest class| / m, in [1/m, 1] when some answer is non-empty, else 0.
    pub consistency: f64,
    /// Classes in order of first appearance.
    pub classes: Vec<AnswerClass>,
    /// Index of the largest class in `classes` (earliest on ties).
    pub majority: Option<usize>,
    /// m, the number of answers including empty ones.
    pub total: usize,
}

impl Vote<'_> {
    /// Class sizes in order of first appearance.
    pub fn class_sizes(&self) -> Vec<usize> {
        self.classes.iter().map(AnswerClass::size).collect()
    }
}

/// Majority vote with any equivalence checker `equivalent(gold, pred)`.
///
/// ```
/// use rzero_reward::vote::majority_vote_with;
/// let answers = ["2", "", "3", "2", "3"];
/// let vote = majority_vote_with(&answers, |a, b| a == b);
/// assert_eq!(vote.pseudo_label, Some("2")); // tie 2–2: "2" was seen first
/// assert_eq!(vote.consistency, 0.4);       // the empty answer counts in m = 5
/// assert_eq!(vote.class_sizes(), vec![2, 2]);
/// ```
pub fn majority_vote_with<'a, S, F>(answers: &'a [S], equivalent: F) -> Vote<'a>
where
    S: AsRef<str>,
    F: Fn(&str, &str) -> bool,
{
    let mut classes: Vec<AnswerClass> = Vec::new();
    for (index, answer) in answers.iter().enumerate() {
        let answer = answer.as_ref();
        if answer.trim().is_empty() {
            continue;
        }
        let joined = classes.iter_mut().find(|class| {
            let face = answers[class.members[0]].as_ref();
            face == answer || equivalent(face, answer) || equivalent(answer, face)
        });
        match joined {
            Some(class) => class.members.push(index),
            None => classes.push(AnswerClass {
                members: vec![index],
            }),
        }
    }
    let mut majority: Option<usize> = None;
    for (c, class) in classes.iter().enumerate() {
        if majority.is_none_or(|best| class.size() > classes[best].size()) {
            majority = Some(c);
        }
    }
    let total = answers.len();
    let (pseudo_label, consistency) = match majority {
        Some(c) => {
            let class = &classes[c];
            (
                Some(answers[class.members[0]].as_ref()),
                class.size() as f64 / total as f64,
            )
        }
        None => (None, 0.0),
    };
    Vote {
        pseudo_label,
        consistency,
        classes,
        majority,
        total,
    }
}

/// Majority vote with this crate's math checker, [`crate::equivalent`].
pub fn majority_vote<S: AsRef<str>>(answers: &[S]) -> Vote<'_> {
    majority_vote_with(answers, crate::equivalent)
}

/// The official scripts' extra rule: two answers that both contain `"no "`
/// (case-insensitive) are one class. Combine it with a checker:
/// `|a, b| both_say_no(a, b) || equivalent(a, b)`.
pub fn both_say_no(a: &str, b: &str) -> bool {
    a.to_lowercase().contains("no ") && b.to_lowercase().contains("no ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checker_runs_in_both_directions() {
        // A one-way checker: "x=2" as gold accepts "2", not the reverse.
        let one_way = |gold: &str, pred: &str| gold.trim_start_matches("x=") == pred;
        let vote = majority_vote_with(&["2", "x=2"], one_way);
        assert_eq!(vote.class_sizes(), vec![2]);
        assert_eq!(vote.pseudo_label, Some("2"));
    }

    #[test]
    fn all_empty_gives_no_label() {
        let vote = majority_vote_with(&["", "  "], |a, b| a == b);
        assert_eq!(vote.pseudo_label, None);
        assert_eq!(vote.consistency, 0.0);
        assert!(vote.classes.is_empty());
    }

    #[test]
    fn later_larger_class_wins() {
        let vote = majority_vote_with(&["1", "2", "2"], |a, b| a == b);
        assert_eq!(vote.pseudo_label, Some("2"));
        assert_eq!(vote.majority, Some(1));
        assert!((vote.consistency - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn no_rule_helper() {
        assert!(both_say_no("No solution", "there is no answer"));
        assert!(!both_say_no("none", "no solution"));
    }
}
