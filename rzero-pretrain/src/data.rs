//! Tokenized documents and the deterministic batch order.
//!
//! The order of step `s` is a pure function of `(seed, s)`: each epoch is a
//! seeded permutation of the documents, cut into windows of 64 batches whose
//! documents are sorted by length (little padding) and whose batches are then
//! shuffled. Resuming therefore needs only the step number.

use burn::prelude::*;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::config::LossTokens;

/// One document's token ids; the first `prompt_len` are the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizedDoc {
    /// Prompt ids followed by completion ids.
    pub ids: Vec<u32>,
    /// Number of prompt ids.
    pub prompt_len: usize,
}

impl TokenizedDoc {
    /// Number of target positions the loss counts for this document.
    pub fn loss_tokens(&self, which: LossTokens) -> usize {
        let n = self.ids.len().saturating_sub(1);
        match which {
            LossTokens::All => n,
            LossTokens::Completion => self.ids.len().saturating_sub(self.prompt_len.max(1)),
        }
    }
}

/// Batches per sorted window.
const WINDOW: usize = 64;

/// The batch order over a set of documents.
#[derive(Debug, Clone)]
pub struct BatchOrder {
    seed: u64,
    batch_size: usize,
    num_docs: usize,
    epoch: Option<(u64, Vec<Vec<usize>>)>,
}

impl BatchOrder {
    /// The order of `batch_size`-document batches over `num_docs` documents
    /// (the last partial batch of an epoch is dropped).
    pub fn new(seed: u64, batch_size: usize, num_docs: usize) -> Self {
        Self {
            seed,
            batch_size,
            num_docs,
            epoch: None,
        }
    }

    /// Batches per epoch.
    pub fn batches_per_epoch(&self) -> u64 {
        (self.num_docs / self.batch_size.max(1)) as u64
    }

    /// Document indices of step `step`'s batch, sorted by length within its
    /// window; `lengths[i]` is document `i`'s token count.
    pub fn batch(&mut self, step: u64, lengths: &[usize]) -> &[usize] {
        let per_epoch = self.batches_per_epoch().max(1);
        let (epoch, index) = (step / per_epoch, (step % per_epoch) as usize);
        if self.epoch.as_ref().is_none_or(|(e, _)| *e != epoch) {
            self.epoch = Some((epoch, self.plan_epoch(epoch, lengths)));
        }
        self.epoch
            .as_ref()
            .and_then(|(_, batches)| batches.get(index))
            .map_or(&[], Vec::as_slice)
    }

    fn plan_epoch(&self, epoch: u64, lengths: &[usize]) -> Vec<Vec<usize>> {
        let mut rng =
            ChaCha8Rng::seed_from_u64(self.seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut docs: Vec<usize> = (0..self.num_docs).collect();
        docs.shuffle(&mut rng);
        let usable = docs.len() - docs.len() % self.batch_size.max(1);
        let mut batches = Vec::with_capacity(usable / self.batch_size.max(1));
        for window in docs[..usable].chunks(self.batch_size * WINDOW) {
            let mut window = window.to_vec();
            window.sort_by_key(|&i| (lengths.get(i).copied().unwrap_or(0), i));
            let mut group: Vec<Vec<usize>> = window
                .chunks(self.batch_size)
                .map(<[usize]>::to_vec)
                .collect();
            group.shuffle(&mut rng);
            batches.extend(group);
        }
        batches
    }
}

/// One step's tensors.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Input ids, `[batch, seq]` (right-padded with id 0).
    pub inputs: Tensor<2, Int>,
    /// Positions `0..seq` per row, `[batch, seq]`.
    pub positions: Tensor<2, Int>,
    /// Next-token targets, `[batch, seq]`.
    pub targets: Tensor<2, Int>,
    /// 1 where the target counts in the loss, `[batch, seq]`.
    pub mask: Tensor<2>,
    /// Number of counted targets.
    pub loss_tokens: usize,
}

/// Builds the tensors of `docs` on `device`: inputs are `ids[..n-1]`,
/// targets `ids[1..]`, right-padded to the longest document.
pub fn make_batch(docs: &[&TokenizedDoc], which: LossTokens, device: &Device) -> Batch {
    let rows = docs.len();
    let seq = docs
        .iter()
        .map(|d| d.ids.len().saturating_sub(1))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut inputs = vec![0i64; rows * seq];
    let mut targets = vec![0i64; rows * seq];
    let mut mask = vec![0f32; rows * seq];
    let mut loss_tokens = 0;
    for (r, doc) in docs.iter().enumerate() {
        let first = match which {
            LossTokens::All => 0,
            LossTokens::Completion => doc.prompt_len.saturating_sub(1),
        };
        for t in 0..doc.ids.len().saturating_sub(1) {
            let at = r * seq + t;
            inputs[at] = i64::from(doc.ids[t]);
            targets[at] = i64::from(doc.ids[t + 1]);
            if t >= first {
                mask[at] = 1.0;
                loss_tokens += 1;
            }
        }
    }
    let positions: Vec<i64> = (0..rows).flat_map(|_| 0..seq as i64).collect();
    let int = |v: Vec<i64>| Tensor::<2, Int>::from_data(TensorData::new(v, [rows, seq]), device);
    Batch {
        inputs: int(inputs),
        positions: int(positions),
        targets: int(targets),
        mask: Tensor::from_data(TensorData::new(mask, [rows, seq]), device),
        loss_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_a_function_of_seed_and_step() {
        let lengths: Vec<usize> = (0..1000).map(|i| 10 + i % 37).collect();
        let mut a = BatchOrder::new(5, 8, 1000);
        let mut b = BatchOrder::new(5, 8, 1000);
        let late = b.batch(300, &lengths).to_vec();
        assert_eq!(a.batch(300, &lengths), late.as_slice());
        let (b0, b1) = (a.batch(0, &lengths).to_vec(), a.batch(1, &lengths).to_vec());
        assert_ne!(b0, b1);
        // One epoch visits every usable document once.
        let mut seen: Vec<usize> = (0..125)
            .flat_map(|s| a.batch(s, &lengths).to_vec())
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn completion_mask_starts_at_last_prompt_token() {
        let doc = TokenizedDoc {
            ids: vec![5, 6, 7, 8, 9],
            prompt_len: 3,
        };
        let short = TokenizedDoc {
            ids: vec![1, 2],
            prompt_len: 1,
        };
        let batch = make_batch(&[&doc, &short], LossTokens::Completion, &Device::flex());
        let mask = batch
            .mask
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(mask, vec![0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
        assert_eq!(batch.loss_tokens, 3);
        assert_eq!(doc.loss_tokens(LossTokens::Completion), 2);
        let targets = batch
            .targets
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap();
        assert_eq!(targets, vec![6, 7, 8, 9, 2, 0, 0, 0]);
    }
}
