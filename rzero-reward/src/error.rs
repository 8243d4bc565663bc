//! The crate's one error type.

/// Everything that can go wrong in rzero-reward, saying where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RewardError {
    /// A distance matrix row has the wrong number of entries.
    #[error("distance matrix row {row} has {len} entries, expected {expected}")]
    NotSquare {
        /// Row index.
        row: usize,
        /// Entries found in that row.
        len: usize,
        /// Number of rows (the expected row length).
        expected: usize,
    },
    /// A distance is NaN or infinite.
    #[error("distance matrix entry ({row}, {col}) is not finite: {value}")]
    NonFiniteDistance {
        /// Row index.
        row: usize,
        /// Column index.
        col: usize,
        /// The offending value.
        value: f64,
    },
}
