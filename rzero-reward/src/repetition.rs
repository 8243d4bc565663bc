//! R-Zero's repetition penalty: BLEU distances, clustering, cluster shares.
//!
//! For a batch of B Challenger questions (invalid ones passed as empty
//! strings, as the official code does):
//!
//! ```text
//! d_ij     = 1 − BLEU(reference = q_j, hypothesis = q_i)   for i < j, mirrored; d_ii = 0
//! clusters = average linkage, distance threshold 0.5        (scikit-learn semantics)
//! r_rep(i) = |cluster(i)| / B
//! ```
//!
//! The orientation follows the official `_bleu_distance_matrix`: for `i < j`
//! the later question is the reference and the earlier one the hypothesis,
//! and only that value is used for both (i, j) and (j, i). Identical questions
//! therefore get distance 0 only when they have at least four tokens (shorter
//! ones are smoothed below BLEU 1), and an empty question has BLEU 0 with
//! everything, even another empty one, so each invalid question forms its own
//! cluster with penalty 1/B.
//!
//! The matrix is filled in parallel with rayon, one row per task: an inverted
//! n-gram index gives row i's match counts against all j > i by walking only
//! the lists of i's own n-grams, so the work is the number of shared
//! (n-gram, question) pairs plus one BLEU formula per pair.

use crate::bleu::NgramIndex;
use crate::cluster::{Clusters, DistanceMatrix, average_linkage};
use crate::postings::Postings;

/// The official clustering threshold on BLEU distance.
pub const DISTANCE_THRESHOLD: f64 = 0.5;

/// `d_ij = 1 − BLEU(q_j, q_i)` for `i < j`, mirrored, zero diagonal.
///
/// Parallel over rows; O(B² · L) time for questions of L tokens.
pub fn bleu_distance_matrix<S: AsRef<str> + Sync>(questions: &[S]) -> DistanceMatrix {
    let n = questions.len();
    let index = NgramIndex::new(questions);
    let postings = Postings::new(&index);
    DistanceMatrix::from_upper_par(n, Default::default, |matches, i, row| {
        postings.bleu_row(i, matches, row);
        for d in row.iter_mut() {
            *d = 1.0 - *d;
        }
    })
}

/// Clusters of a batch of questions under the official rule.
pub fn question_clusters<S: AsRef<str> + Sync>(questions: &[S], threshold: f64) -> Clusters {
    average_linkage(bleu_distance_matrix(questions), threshold)
}

/// `r_rep(i) = |cluster(i)| / B` for every question of the batch, in (0, 1].
///
/// ```
/// use rzero_reward::repetition::repetition_penalty;
/// let q = ["what is the sum of the first ten primes", "what is the sum of the first ten primes", "find x"];
/// assert_eq!(repetition_penalty(&q), vec![2.0 / 3.0, 2.0 / 3.0, 1.0 / 3.0]);
/// ```
pub fn repetition_penalty<S: AsRef<str> + Sync>(questions: &[S]) -> Vec<f64> {
    let clusters = question_clusters(questions, DISTANCE_THRESHOLD);
    penalties(&clusters)
}

/// `|cluster(i)| / B` from flat clusters.
pub fn penalties(clusters: &Clusters) -> Vec<f64> {
    let batch = clusters.labels.len() as f64;
    (0..clusters.labels.len())
        .map(|i| clusters.size_of(i) as f64 / batch)
        .collect()
}
