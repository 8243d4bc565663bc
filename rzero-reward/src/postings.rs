//! BLEU of one hypothesis against every later sentence at once.
//!
//! An inverted index lists, for each n-gram, the sentences holding it and how
//! often. For hypothesis i the clipped match counts against all j > i are
//! accumulated by walking the lists of i's own n-grams only, so the work per
//! row is the number of (n-gram, sentence) pairs actually shared, never the
//! total length of the references. The scores are the same bits as
//! [`NgramIndex::bleu`].

use crate::bleu::{HypPrecisions, MAX_ORDER, NgramIndex, brevity_penalty};

/// For each order, n-gram id → `(sentence, count)` sorted by sentence.
#[derive(Debug, Clone)]
pub struct Postings<'a> {
    index: &'a NgramIndex,
    /// `offsets[n − 1][g]..offsets[n − 1][g + 1]` is gram g's list.
    offsets: [Vec<u32>; MAX_ORDER],
    entries: [Vec<(u32, u32)>; MAX_ORDER],
}

impl<'a> Postings<'a> {
    /// Inverts `index` (two passes of counting sort per order).
    pub fn new(index: &'a NgramIndex) -> Self {
        let mut offsets: [Vec<u32>; MAX_ORDER] = Default::default();
        let mut entries: [Vec<(u32, u32)>; MAX_ORDER] = Default::default();
        for order in 1..=MAX_ORDER {
            let mut start = vec![0u32; index.distinct(order) + 1];
            for s in 0..index.len() {
                for &(id, _) in index.run(s, order) {
                    start[id as usize + 1] += 1;
                }
            }
            for g in 1..start.len() {
                start[g] += start[g - 1];
            }
            let total = start.last().copied().unwrap_or(0) as usize;
            let mut list = vec![(0u32, 0u32); total];
            let mut next = start.clone();
            for s in 0..index.len() {
                for &(id, count) in index.run(s, order) {
                    list[next[id as usize] as usize] = (s as u32, count);
                    next[id as usize] += 1;
                }
            }
            offsets[order - 1] = start;
            entries[order - 1] = list;
        }
        Self {
            index,
            offsets,
            entries,
        }
    }

    fn list(&self, order: usize, id: u32) -> &[(u32, u32)] {
        let offsets = &self.offsets[order - 1];
        let (from, to) = (offsets[id as usize], offsets[id as usize + 1]);
        &self.entries[order - 1][from as usize..to as usize]
    }

    /// `out[k] = sentence_bleu([sentences[hyp + 1 + k]], sentences[hyp])`
    /// for `k < out.len()`; `matches` is scratch space, any contents.
    pub fn bleu_row(&self, hyp: usize, matches: &mut [Vec<u32>; MAX_ORDER], out: &mut [f64]) {
        let start = hyp + 1;
        let width = out.len();
        for (order, acc) in (1..=MAX_ORDER).zip(matches.iter_mut()) {
            acc.clear();
            acc.resize(width, 0);
            for &(id, count) in self.index.run(hyp, order) {
                let list = self.list(order, id);
                let from = list.partition_point(|&(s, _)| (s as usize) < start);
                for &(s, other) in &list[from..] {
                    if let Some(slot) = acc.get_mut(s as usize - start) {
                        *slot += count.min(other);
                    }
                }
            }
        }
        let mut formula = RowFormula::new(self.index.tokens(hyp));
        let [m1, m2, m3, m4] = matches;
        for (k, score) in out.iter_mut().enumerate() {
            let counts = [m1[k], m2[k], m3[k], m4[k]];
            *score = formula.bleu(self.index.tokens(start + k), counts);
        }
    }
}

/// The BLEU formula of one hypothesis, memoized. Most pairs share no
/// trigram, so `exp(fsum(..))` then depends on (m1, m2) alone and the brevity
/// penalty on the reference length alone: each is computed once per row.
/// Cached values are the very same computation, so the bits do not change.
struct RowFormula {
    precisions: HypPrecisions,
    /// m2 takes values `0..stride`.
    stride: usize,
    /// `(m1, m2)` → core when m3 = m4 = 0; NaN until computed. Empty for
    /// hypotheses too long to be worth a table.
    low_order: Vec<f64>,
    /// Reference length → brevity penalty; NaN until computed.
    penalty: Vec<f64>,
}

/// Longest hypothesis (tokens) given a (m1, m2) table; longer ones compute directly.
const TABLE_TOKENS: usize = 256;
/// Longest reference (tokens) whose brevity penalty is cached.
const PENALTY_TOKENS: usize = 4096;

impl RowFormula {
    fn new(hyp_len: usize) -> Self {
        let stride = hyp_len.max(1);
        let cells = if hyp_len <= TABLE_TOKENS {
            (hyp_len + 1) * stride
        } else {
            0
        };
        Self {
            precisions: HypPrecisions::new(hyp_len),
            stride,
            low_order: vec![f64::NAN; cells],
            penalty: Vec::new(),
        }
    }

    fn bleu(&mut self, ref_len: usize, matches: [u32; MAX_ORDER]) -> f64 {
        if matches[0] == 0 {
            return 0.0;
        }
        let core = match self
            .low_order
            .get_mut(matches[0] as usize * self.stride + matches[1] as usize)
        {
            Some(slot) if matches[2] == 0 => {
                if slot.is_nan() {
                    *slot = self.precisions.core(matches);
                }
                *slot
            }
            _ => self.precisions.core(matches),
        };
        self.brevity(ref_len) * core
    }

    fn brevity(&mut self, ref_len: usize) -> f64 {
        let hyp_len = self.precisions.hyp_len();
        if ref_len > PENALTY_TOKENS {
            return brevity_penalty(ref_len, hyp_len);
        }
        if self.penalty.len() <= ref_len {
            self.penalty.resize(ref_len + 1, f64::NAN);
        }
        let slot = &mut self.penalty[ref_len];
        if slot.is_nan() {
            *slot = brevity_penalty(ref_len, hyp_len);
        }
        *slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_equal_pairwise_scores() {
        let sentences = [
            "let x be a prime such that x + 2 is prime",
            "let x be a prime such that x + 4 is prime",
            "",
            "the the the",
            "find x",
            "let x be a prime",
        ];
        let index = NgramIndex::new(&sentences);
        let postings = Postings::new(&index);
        let mut scratch = Default::default();
        for i in 0..sentences.len() {
            let mut row = vec![f64::NAN; sentences.len() - i - 1];
            postings.bleu_row(i, &mut scratch, &mut row);
            for (k, &score) in row.iter().enumerate() {
                assert_eq!(
                    score.to_bits(),
                    index.bleu(i + 1 + k, i).to_bits(),
                    "({i}, {k})"
                );
            }
        }
    }
}
