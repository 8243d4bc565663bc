//! Sentence BLEU, bit-for-bit NLTK's `sentence_bleu` with smoothing method 1.
//!
//! R-Zero measures how alike two Challenger questions are with
//! `sentence_bleu([reference.split()], hypothesis.split(),
//! smoothing_function=SmoothingFunction().method1)` from NLTK 3.x. This module
//! reproduces that call, edge cases included:
//!
//! ```text
//! p_n  = Σ_g min(c_hyp(g), c_ref(g)) / max(1, Σ_g c_hyp(g))   over n-grams g, n = 1..4
//! p_n  = 0.1 / max(1, Σ_g c_hyp(g))                           when the numerator is 0 (method1)
//! BP   = 1 if |hyp| > |ref|, 0 if |hyp| = 0, exp(1 − |ref|/|hyp|) otherwise
//! BLEU = 0 if no unigram matches, else BP · exp(fsum_n ¼·ln p_n)
//! ```
//!
//! Tokens are Python's `str.split()` pieces (runs of Unicode whitespace plus
//! the ASCII separators U+001C–U+001F). The sum is correctly rounded like
//! Python's `math.fsum`, and each `ln` takes the same `f64` quotient Python
//! does, so results agree with NLTK to the last bit on the same libm. BLEU is
//! not symmetric: swapping the sentences changes the brevity penalty and the
//! denominators.
//!
//! [`NgramIndex`] is the fast path for many sentences: tokens and n-grams are
//! interned once as `u32`, so one pair costs at most four merges of sorted
//! count lists (and [`crate::repetition`] inverts the index to score a whole
//! row at once).

use std::collections::HashMap;

use crate::fsum::fsum;

/// Highest n-gram order (uniform weights ¼ over orders 1..=4, as NLTK's default).
pub const MAX_ORDER: usize = 4;
const WEIGHT: f64 = 0.25;
/// NLTK `SmoothingFunction().method1` epsilon.
const EPSILON: f64 = 0.1;

/// Splits like Python's `str.split()` with no argument.
pub fn python_split(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_python_space)
        .filter(|piece| !piece.is_empty())
}

/// Python's `str.isspace` is Rust's `char::is_whitespace` plus U+001C–U+001F.
pub(crate) fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// NLTK `sentence_bleu([reference.split()], hypothesis.split())` with method1.
///
/// ```
/// let s = rzero_reward::bleu::sentence_bleu("a b c d", "a b c d");
/// assert_eq!(s, 1.0);
/// ```
pub fn sentence_bleu(reference: &str, hypothesis: &str) -> f64 {
    let index = NgramIndex::new(&[reference, hypothesis]);
    index.bleu(0, 1)
}

/// Interned n-gram counts of a set of sentences, for many BLEU pairs.
///
/// Building costs O(total tokens); [`NgramIndex::bleu`] then costs
/// O(|ref| + |hyp|) with no allocation.
#[derive(Debug, Clone)]
pub struct NgramIndex {
    /// `(n-gram id, count)` sorted by id; one run per sentence and order.
    grams: Vec<(u32, u32)>,
    /// `spans[s * MAX_ORDER + n - 1]` = range of sentence s, order n in `grams`.
    spans: Vec<(u32, u32)>,
    lengths: Vec<usize>,
    /// Number of distinct n-grams of each order (ids are `0..distinct`).
    distinct: [usize; MAX_ORDER],
}

impl NgramIndex {
    /// Tokenizes and interns every sentence.
    pub fn new<S: AsRef<str>>(sentences: &[S]) -> Self {
        // An order-n gram is interned as (id of its (n−1)-prefix, last token id).
        let mut tokens_seen: HashMap<&str, u32> = HashMap::new();
        let mut grams_seen: Vec<HashMap<(u32, u32), u32>> = vec![HashMap::new(); MAX_ORDER - 1];
        let mut grams = Vec::new();
        let mut spans = Vec::with_capacity(sentences.len() * MAX_ORDER);
        let mut lengths = Vec::with_capacity(sentences.len());
        let mut tokens: Vec<u32> = Vec::new();
        let mut ids: Vec<u32> = Vec::new();
        for sentence in sentences {
            tokens.clear();
            for token in python_split(sentence.as_ref()) {
                let next = tokens_seen.len() as u32;
                tokens.push(*tokens_seen.entry(token).or_insert(next));
            }
            lengths.push(tokens.len());
            ids.clear();
            ids.extend_from_slice(&tokens);
            for order in 1..=MAX_ORDER {
                if order > 1 {
                    // ids held the (n−1)-gram ids; turn them into n-gram ids in place.
                    let count = tokens.len().saturating_sub(order - 1);
                    let table = &mut grams_seen[order - 2];
                    for slot in 0..count {
                        let key = (ids[slot], tokens[slot + order - 1]);
                        let next = table.len() as u32;
                        ids[slot] = *table.entry(key).or_insert(next);
                    }
                    ids.truncate(count);
                }
                let start = grams.len();
                grams.extend(ids.iter().map(|&id| (id, 1u32)));
                let run = &mut grams[start..];
                run.sort_unstable_by_key(|&(id, _)| id);
                let kept = dedup_counts(run);
                grams.truncate(start + kept);
                spans.push((start as u32, grams.len() as u32));
            }
        }
        let mut distinct = [tokens_seen.len(); MAX_ORDER];
        for (slot, table) in distinct[1..].iter_mut().zip(&grams_seen) {
            *slot = table.len();
        }
        Self {
            grams,
            spans,
            lengths,
            distinct,
        }
    }

    /// Number of sentences.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// True when no sentences were indexed.
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// Token count of sentence `s`.
    pub fn tokens(&self, s: usize) -> usize {
        self.lengths[s]
    }

    /// Number of distinct n-grams of `order` (ids are below it).
    pub(crate) fn distinct(&self, order: usize) -> usize {
        self.distinct[order - 1]
    }

    /// `(id, count)` of sentence `s`'s n-grams of `order`, sorted by id.
    pub(crate) fn run(&self, s: usize, order: usize) -> &[(u32, u32)] {
        let (start, end) = self.spans[s * MAX_ORDER + order - 1];
        &self.grams[start as usize..end as usize]
    }

    /// Clipped n-gram matches of `hyp` against `reference` for orders 1..=4.
    ///
    /// Stops early: no n-gram match implies no (n+1)-gram match.
    pub fn matches(&self, reference: usize, hyp: usize) -> [u32; MAX_ORDER] {
        let mut out = [0; MAX_ORDER];
        for (order, slot) in (1..=MAX_ORDER).zip(out.iter_mut()) {
            *slot = clipped_matches(self.run(hyp, order), self.run(reference, order));
            if *slot == 0 {
                break;
            }
        }
        out
    }

    /// `sentence_bleu([sentences[reference]], sentences[hyp])`, NLTK method1.
    pub fn bleu(&self, reference: usize, hyp: usize) -> f64 {
        let precisions = HypPrecisions::new(self.lengths[hyp]);
        precisions.bleu(self.lengths[reference], self.matches(reference, hyp))
    }
}

/// Merges equal neighbours of a sorted run, summing counts; returns the new length.
fn dedup_counts(run: &mut [(u32, u32)]) -> usize {
    let mut kept = 0;
    for read in 0..run.len() {
        if kept > 0 && run[kept - 1].0 == run[read].0 {
            run[kept - 1].1 += run[read].1;
        } else {
            run[kept] = run[read];
            kept += 1;
        }
    }
    kept
}

/// Σ min(count_hyp, count_ref) over ids present in both sorted runs.
fn clipped_matches(hyp: &[(u32, u32)], reference: &[(u32, u32)]) -> u32 {
    let (mut i, mut j, mut total) = (0, 0, 0);
    while i < hyp.len() && j < reference.len() {
        let (a, b) = (hyp[i], reference[j]);
        if a.0 < b.0 {
            i += 1;
        } else if a.0 > b.0 {
            j += 1;
        } else {
            total += a.1.min(b.1);
            i += 1;
            j += 1;
        }
    }
    total
}

/// Everything of one hypothesis that does not depend on the reference:
/// its length and the weighted log-precision tables ¼·ln(k / d_n).
#[derive(Debug, Clone)]
pub struct HypPrecisions {
    hyp_len: usize,
    /// `tables[n - 1][k]` = ¼·ln(p_n) when k n-grams match (k = 0 is smoothed).
    tables: [Vec<f64>; MAX_ORDER],
}

impl HypPrecisions {
    /// Precomputes the tables for a hypothesis of `hyp_len` tokens.
    pub fn new(hyp_len: usize) -> Self {
        let tables = std::array::from_fn(|n| {
            let denominator = hyp_len.saturating_sub(n).max(1);
            let d = denominator as f64;
            let mut table = Vec::with_capacity(denominator + 1);
            table.push(WEIGHT * (EPSILON / d).ln());
            table.extend((1..=denominator).map(|k| WEIGHT * (k as f64 / d).ln()));
            table
        });
        Self { hyp_len, tables }
    }

    /// BLEU from clipped match counts and the reference length.
    pub fn bleu(&self, ref_len: usize, matches: [u32; MAX_ORDER]) -> f64 {
        if matches[0] == 0 {
            return 0.0;
        }
        brevity_penalty(ref_len, self.hyp_len) * self.core(matches)
    }

    /// `exp(fsum_n ¼·ln p_n)`, the part of BLEU before the brevity penalty.
    pub(crate) fn core(&self, matches: [u32; MAX_ORDER]) -> f64 {
        let terms: [f64; MAX_ORDER] = std::array::from_fn(|n| self.tables[n][matches[n] as usize]);
        fsum(&terms).exp()
    }

    /// Tokens in the hypothesis.
    pub(crate) fn hyp_len(&self) -> usize {
        self.hyp_len
    }
}

/// NLTK's brevity penalty for one reference.
pub(crate) fn brevity_penalty(ref_len: usize, hyp_len: usize) -> f64 {
    if hyp_len > ref_len {
        1.0
    } else if hyp_len == 0 {
        0.0
    } else {
        (1.0 - ref_len as f64 / hyp_len as f64).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_split_matches_str_split_on_separators() {
        let pieces: Vec<&str> = python_split("a\u{1c}b\u{a0} c\u{200b}d  ").collect();
        assert_eq!(pieces, ["a", "b", "c\u{200b}d"]);
    }

    #[test]
    fn short_identical_sentences_are_smoothed_below_one() {
        // Two tokens: p3 = p4 = 0.1 → BLEU = 0.1^½.
        let s = sentence_bleu("a b", "a b");
        assert!((s - 0.1f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn empty_sides_score_zero() {
        assert_eq!(sentence_bleu("", "a b"), 0.0);
        assert_eq!(sentence_bleu("a b", ""), 0.0);
        assert_eq!(sentence_bleu("", ""), 0.0);
    }

    #[test]
    fn repeated_hypothesis_words_are_clipped() {
        let index = NgramIndex::new(&["the cat", "the the the"]);
        assert_eq!(index.matches(0, 1), [1, 0, 0, 0]);
    }
}
