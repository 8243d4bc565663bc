//! Average-linkage agglomerative clustering on a precomputed distance matrix.
//!
//! Reproduces scikit-learn's
//! `AgglomerativeClustering(n_clusters=None, distance_threshold=t,
//! metric="precomputed", linkage="average")`, which R-Zero uses for its
//! repetition penalty. scikit-learn passes the upper triangle to SciPy's
//! `linkage(method="average")`, i.e. the nearest-neighbour-chain algorithm
//! with the Lance–Williams update
//!
//! ```text
//! d(k, x ∪ y) = (|x|·d(k, x) + |y|·d(k, y)) / (|x| + |y|)
//! ```
//!
//! and then cuts the tree into `#{merges with height ≥ t} + 1` clusters, i.e.
//! keeps exactly the merges with `!(height ≥ t)`. [`average_linkage`] runs
//! the same chain with the same tie rules (the chain's predecessor wins ties,
//! then the lowest index; the merged cluster keeps the larger slot), so
//! labels agree with scikit-learn up to renaming even when distances tie.
//!
//! Cost: O(n²) time and one n×n `f64` matrix (n = 8000 needs 512 MB), which
//! [`average_linkage`] consumes and reuses as its working matrix.

use std::cmp::Ordering;

use rayon::prelude::*;

use crate::RewardError;
pub use crate::linkage::{Merge, nn_chain};

/// A symmetric matrix of pairwise distances, stored square and row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct DistanceMatrix {
    n: usize,
    data: Vec<f64>,
}

impl DistanceMatrix {
    /// Builds from rows, reading only the strict upper triangle (as
    /// scikit-learn does); the lower triangle and diagonal are ignored.
    ///
    /// # Errors
    /// [`RewardError::NotSquare`] for a row of the wrong length,
    /// [`RewardError::NonFiniteDistance`] for NaN or ±∞ in the upper triangle.
    pub fn from_rows<R: AsRef<[f64]>>(rows: &[R]) -> Result<Self, RewardError> {
        let n = rows.len();
        for (row, values) in rows.iter().enumerate() {
            let len = values.as_ref().len();
            if len != n {
                return Err(RewardError::NotSquare {
                    row,
                    len,
                    expected: n,
                });
            }
        }
        let mut matrix = Self::zeros(n);
        for (i, values) in rows.iter().enumerate() {
            for (j, &value) in values.as_ref().iter().enumerate().skip(i + 1) {
                if !value.is_finite() {
                    return Err(RewardError::NonFiniteDistance {
                        row: i,
                        col: j,
                        value,
                    });
                }
                matrix.set(i, j, value);
            }
        }
        Ok(matrix)
    }

    /// An n×n matrix of zeros.
    pub fn zeros(n: usize) -> Self {
        Self {
            n,
            data: vec![0.0; n * n],
        }
    }

    /// Fills the strict upper triangle in parallel, then mirrors it:
    /// `fill_row(scratch, i, row)` writes d(i, j) for j = i+1..n into
    /// `row[j − i − 1]`; each worker thread gets its own `init()` scratch.
    pub(crate) fn from_upper_par<T, I, F>(n: usize, init: I, fill_row: F) -> Self
    where
        I: Fn() -> T + Sync + Send,
        F: Fn(&mut T, usize, &mut [f64]) + Sync + Send,
    {
        let mut matrix = Self::zeros(n);
        if n == 0 {
            return matrix;
        }
        matrix
            .data
            .par_chunks_mut(n)
            .enumerate()
            .for_each_init(init, |scratch, (i, row)| {
                fill_row(scratch, i, &mut row[i + 1..])
            });
        matrix.mirror_upper();
        matrix
    }

    /// Copies the upper triangle into the lower one, in cache-sized blocks.
    fn mirror_upper(&mut self) {
        const BLOCK: usize = 64;
        let n = self.n;
        for bi in (0..n).step_by(BLOCK) {
            for bj in (bi..n).step_by(BLOCK) {
                for i in bi..(bi + BLOCK).min(n) {
                    for j in bj.max(i + 1)..(bj + BLOCK).min(n) {
                        self.data[j * n + i] = self.data[i * n + j];
                    }
                }
            }
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True for a 0×0 matrix.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// d(i, j).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.n + j]
    }

    /// The size and the row-major square storage.
    pub(crate) fn into_raw(self) -> (usize, Vec<f64>) {
        (self.n, self.data)
    }

    /// Sets d(i, j) and d(j, i).
    pub fn set(&mut self, i: usize, j: usize, value: f64) {
        self.data[i * self.n + j] = value;
        self.data[j * self.n + i] = value;
    }
}

/// Flat clusters: a label per point, numbered by first appearance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clusters {
    /// `labels[i]` = cluster of point i; point 0 is in cluster 0.
    pub labels: Vec<usize>,
    /// `sizes[c]` = number of points in cluster c.
    pub sizes: Vec<usize>,
}

impl Clusters {
    /// Size of the cluster holding point `i`.
    pub fn size_of(&self, i: usize) -> usize {
        self.sizes[self.labels[i]]
    }
}

/// Flat average-linkage clusters whose merges all have height below
/// `threshold` (scikit-learn's `distance_threshold`: a merge at exactly the
/// threshold is not made; a NaN threshold makes every merge, as in sklearn).
pub fn average_linkage(matrix: DistanceMatrix, threshold: f64) -> Clusters {
    let n = matrix.len();
    let merges = nn_chain(matrix);
    let mut sets = UnionFind::new(n);
    // sklearn cuts off merges with `height >= threshold`; NaN compares as neither.
    let below = |m: &&Merge| {
        !matches!(
            m.height.partial_cmp(&threshold),
            Some(Ordering::Greater | Ordering::Equal)
        )
    };
    for merge in merges.iter().filter(below) {
        sets.union(merge.absorbed, merge.kept);
    }
    sets.into_clusters()
}

/// Disjoint sets over points, for cutting the dendrogram.
struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        self.parent[ra.max(rb)] = ra.min(rb);
    }

    fn into_clusters(mut self) -> Clusters {
        let n = self.parent.len();
        let mut label_of_root = vec![usize::MAX; n];
        let mut labels = Vec::with_capacity(n);
        let mut sizes = Vec::new();
        for i in 0..n {
            let root = self.find(i);
            if label_of_root[root] == usize::MAX {
                label_of_root[root] = sizes.len();
                sizes.push(0);
            }
            labels.push(label_of_root[root]);
            sizes[label_of_root[root]] += 1;
        }
        Clusters { labels, sizes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: &[&[f64]]) -> DistanceMatrix {
        DistanceMatrix::from_rows(rows).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn tie_at_first_step_follows_the_chain() {
        // d(0,1) = d(1,2) = 0.2: the chain 0 → 1 merges {0,1} first, leaving
        // d({0,1}, 2) = 0.5, which is not below the threshold.
        let m = matrix(&[&[0.0, 0.2, 0.8], &[0.2, 0.0, 0.2], &[0.8, 0.2, 0.0]]);
        let clusters = average_linkage(m, 0.5);
        assert_eq!(clusters.labels, [0, 0, 1]);
        assert_eq!(clusters.sizes, [2, 1]);
    }

    #[test]
    fn merge_at_exact_threshold_is_not_made() {
        let m = matrix(&[&[0.0, 0.5], &[0.5, 0.0]]);
        assert_eq!(average_linkage(m.clone(), 0.5).sizes, [1, 1]);
        assert_eq!(average_linkage(m, f64::NAN).sizes, [2]);
    }

    #[test]
    fn rejects_ragged_and_non_finite_matrices() {
        let ragged: [&[f64]; 2] = [&[0.0, 1.0], &[1.0]];
        assert!(matches!(
            DistanceMatrix::from_rows(&ragged),
            Err(RewardError::NotSquare {
                row: 1,
                len: 1,
                expected: 2
            })
        ));
        let nan: [&[f64]; 2] = [&[0.0, f64::NAN], &[0.0, 0.0]];
        assert!(matches!(
            DistanceMatrix::from_rows(&nan),
            Err(RewardError::NonFiniteDistance { row: 0, col: 1, .. })
        ));
    }

    #[test]
    fn empty_and_single_point() {
        assert!(
            average_linkage(DistanceMatrix::zeros(0), 0.5)
                .labels
                .is_empty()
        );
        assert_eq!(average_linkage(DistanceMatrix::zeros(1), 0.5).sizes, [1]);
    }
}
