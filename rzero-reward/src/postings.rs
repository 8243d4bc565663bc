//! BLEU of one hypothesis against every later sentence at once.
//!
//! An inverted index lists, for each n-gram, the sentences holding it and how
//! often. For hypothesis i the clipped match counts against all j > i are
//! accumulated by walking the lists of i's own n-grams only, so the work per
//! row is the number of (n-gram, sentence) pairs actually shared, never the
//! total length of the references. The scores are the same bits as
//! [`NgramIndex::bleu`].

use crate::bleu::{HypPrecisions, MAX_ORDER, NgramIndex};

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
        let precisions = HypPrecisions::new(self.index.tokens(hyp));
        let [m1, m2, m3, m4] = matches;
        for (k, score) in out.iter_mut().enumerate() {
            let counts = [m1[k], m2[k], m3[k], m4[k]];
            *score = precisions.bleu(self.index.tokens(start + k), counts);
        }
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
