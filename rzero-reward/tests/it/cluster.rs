//! Clustering and repetition penalty against scikit-learn, a naive
//! O(n³) average-linkage oracle, and the penalty's invariants.

use proptest::prelude::*;
use rzero_reward::cluster::{Clusters, DistanceMatrix, average_linkage};
use rzero_reward::repetition::{
    DISTANCE_THRESHOLD, bleu_distance_matrix, penalties, question_clusters, repetition_penalty,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct QuestionCase {
    questions: Vec<String>,
    upper: Vec<f64>,
    labels: Vec<usize>,
}

#[derive(Deserialize)]
struct MatrixCase {
    rows: Vec<Vec<f64>>,
    labels: Vec<usize>,
}

#[derive(Deserialize)]
struct DigitCase {
    n: usize,
    digits: String,
    labels: Vec<usize>,
}

#[derive(Deserialize)]
struct Fixture {
    threshold: f64,
    questions: Vec<QuestionCase>,
    matrices: Vec<MatrixCase>,
    digit_matrices: Vec<DigitCase>,
}

fn fixture() -> Fixture {
    let text = include_str!("../fixtures/cluster/clusters.json");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad cluster fixture: {e}"))
}

/// Renames labels by first appearance so partitions compare with `==`.
fn canonical(labels: &[usize]) -> Vec<usize> {
    let mut seen: Vec<usize> = Vec::new();
    labels
        .iter()
        .map(|l| match seen.iter().position(|s| s == l) {
            Some(p) => p,
            None => {
                seen.push(*l);
                seen.len() - 1
            }
        })
        .collect()
}

#[test]
fn labels_match_sklearn_on_tied_grid_matrices() {
    let fixture = fixture();
    for (k, case) in fixture.matrices.iter().enumerate() {
        let matrix = DistanceMatrix::from_rows(&case.rows).unwrap_or_else(|e| panic!("{e}"));
        let ours = average_linkage(matrix, fixture.threshold);
        assert_eq!(ours.labels, canonical(&case.labels), "matrix case {k}");
    }
}

#[test]
fn labels_match_sklearn_on_large_tied_matrices() {
    // Large enough that the working matrix gets compacted several times.
    let fixture = fixture();
    for case in &fixture.digit_matrices {
        let mut matrix = DistanceMatrix::zeros(case.n);
        let mut digits = case.digits.bytes();
        for i in 0..case.n {
            for j in i + 1..case.n {
                let digit = digits.next().map_or(f64::NAN, |d| f64::from(d - b'0'));
                matrix.set(i, j, (digit + 1.0) / 10.0);
            }
        }
        let ours = average_linkage(matrix, fixture.threshold);
        assert_eq!(ours.labels, canonical(&case.labels), "{} points", case.n);
    }
}

#[test]
fn question_batches_match_official_matrix_and_sklearn_labels() {
    let fixture = fixture();
    for (k, case) in fixture.questions.iter().enumerate() {
        let n = case.questions.len();
        let matrix = bleu_distance_matrix(&case.questions);
        let mut upper = case.upper.iter();
        for i in 0..n {
            for j in i + 1..n {
                let expected = upper.next().copied().unwrap_or(f64::NAN);
                let got = matrix.get(i, j);
                assert!(
                    (got - expected).abs() <= 1e-12,
                    "batch {k} d({i},{j}) {got} vs {expected}"
                );
                assert_eq!(got, matrix.get(j, i));
            }
        }
        let ours = question_clusters(&case.questions, fixture.threshold);
        assert_eq!(ours.labels, canonical(&case.labels), "question batch {k}");
    }
}

#[test]
fn invalid_questions_are_each_their_own_cluster() {
    let batch = ["", "", "what is the sum of all primes below ten", ""];
    assert_eq!(repetition_penalty(&batch), vec![0.25; 4]);
}

#[test]
fn duplicate_can_lower_a_penalty_under_average_linkage() {
    // Documented behaviour, not a wish: a copy of k drags the average of k's
    // cluster towards k, so y (close to j, far from k) no longer joins.
    let rows = |dup: bool| -> Vec<Vec<f64>> {
        let base = vec![
            vec![0.0, 0.1, 0.75],
            vec![0.1, 0.0, 0.2],
            vec![0.75, 0.2, 0.0],
        ];
        if !dup {
            return base;
        }
        let mut rows: Vec<Vec<f64>> = base
            .iter()
            .map(|r| [r.clone(), vec![r[0]]].concat())
            .collect();
        rows.push(vec![0.0, 0.1, 0.75, 0.0]);
        rows
    };
    let before = average_linkage(
        DistanceMatrix::from_rows(&rows(false)).unwrap_or_else(|e| panic!("{e}")),
        0.5,
    );
    let after = average_linkage(
        DistanceMatrix::from_rows(&rows(true)).unwrap_or_else(|e| panic!("{e}")),
        0.5,
    );
    assert_eq!(penalties(&before)[0], 1.0);
    assert_eq!(penalties(&after)[0], 0.75);
}

/// Greedy average linkage straight from the definition: merge the two
/// clusters with the smallest mean pairwise distance while it is below t.
fn naive_average_linkage(d: &DistanceMatrix, threshold: f64) -> Vec<usize> {
    let mut clusters: Vec<Vec<usize>> = (0..d.len()).map(|i| vec![i]).collect();
    loop {
        let mut best: Option<(f64, usize, usize)> = None;
        for a in 0..clusters.len() {
            for b in a + 1..clusters.len() {
                let sum: f64 = clusters[a]
                    .iter()
                    .flat_map(|&i| clusters[b].iter().map(move |&j| d.get(i, j)))
                    .sum();
                let mean = sum / (clusters[a].len() * clusters[b].len()) as f64;
                if best.is_none_or(|(m, _, _)| mean < m) {
                    best = Some((mean, a, b));
                }
            }
        }
        match best {
            Some((mean, a, b)) if mean < threshold => {
                let moved = clusters.remove(b);
                clusters[a].extend(moved);
            }
            _ => break,
        }
    }
    let mut labels = vec![0; d.len()];
    for (c, members) in clusters.iter().enumerate() {
        for &i in members {
            labels[i] = c;
        }
    }
    canonical(&labels)
}

/// A random n×n matrix; [`DistanceMatrix::from_rows`] reads its upper triangle.
fn symmetric_matrix() -> impl Strategy<Value = DistanceMatrix> {
    (2usize..14).prop_flat_map(|n| {
        prop::collection::vec(prop::collection::vec(0.0f64..1.0, n), n)
            .prop_map(|rows| DistanceMatrix::from_rows(&rows).unwrap_or_else(|e| panic!("{e}")))
    })
}

/// Questions that share no word with each other unless copied.
fn separated_batch() -> impl Strategy<Value = Vec<String>> {
    (1usize..12, 0usize..4).prop_map(|(distinct, copies)| {
        let mut batch: Vec<String> = (0..distinct)
            .map(|q| {
                (0..8)
                    .map(|w| format!("q{q}w{w}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        for c in 0..copies.min(distinct) {
            batch.push(batch[c].clone());
        }
        batch
    })
}

/// Overlapping questions of 4..20 tokens from a ten-word vocabulary.
fn small_vocab_batch() -> impl Strategy<Value = Vec<String>> {
    const WORDS: [&str; 10] = [
        "the", "a", "x", "is", "prime", "sum", "of", "2", "find", "n",
    ];
    let question =
        prop::collection::vec(prop::sample::select(&WORDS[..]), 4..20).prop_map(|w| w.join(" "));
    prop::collection::vec(question, 1..16)
}

fn check_penalty_sums(clusters: &Clusters, r: &[f64]) -> Result<(), TestCaseError> {
    let b = r.len() as f64;
    for (c, &size) in clusters.sizes.iter().enumerate() {
        let members: Vec<usize> = (0..r.len()).filter(|&i| clusters.labels[i] == c).collect();
        prop_assert_eq!(members.len(), size);
        let sum: f64 = members.iter().map(|&i| r[i]).sum();
        prop_assert!((sum - (size * size) as f64 / b).abs() < 1e-9);
    }
    prop_assert_eq!(clusters.sizes.iter().sum::<usize>(), r.len());
    Ok(())
}

#[test]
fn nn_chain_equals_naive_average_linkage_on_two_hundred_points() {
    // A fixed pseudo-random matrix (LCG), past the compaction size.
    let n = 200;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut matrix = DistanceMatrix::zeros(n);
    for i in 0..n {
        for j in i + 1..n {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            matrix.set(i, j, 0.2 + 0.6 * (state >> 11) as f64 / (1u64 << 53) as f64);
        }
    }
    let naive = naive_average_linkage(&matrix, 0.45);
    let ours = average_linkage(matrix, 0.45);
    assert!(ours.sizes.len() > 1 && ours.sizes.len() < n);
    assert_eq!(ours.labels, naive);
}

proptest! {
    #[test]
    fn nn_chain_equals_naive_average_linkage(matrix in symmetric_matrix(), threshold in 0.05f64..0.95) {
        let naive = naive_average_linkage(&matrix, threshold);
        prop_assert_eq!(average_linkage(matrix, threshold).labels, naive);
    }

    #[test]
    fn penalties_sum_to_size_squared_over_batch_per_cluster(matrix in symmetric_matrix()) {
        let n = matrix.len();
        let clusters = average_linkage(matrix, DISTANCE_THRESHOLD);
        let r = penalties(&clusters);
        for (i, &ri) in r.iter().enumerate() {
            prop_assert_eq!(ri, clusters.size_of(i) as f64 / n as f64);
        }
        check_penalty_sums(&clusters, &r)?;
    }

    #[test]
    fn a_duplicate_raises_the_penalty_of_its_original(batch in separated_batch(), pick in any::<prop::sample::Index>()) {
        let k = pick.index(batch.len());
        let before = repetition_penalty(&batch);
        let mut grown = batch.clone();
        grown.push(batch[k].clone());
        let after = repetition_penalty(&grown);
        let (b, c) = (batch.len() as f64, (before[k] * batch.len() as f64).round());
        prop_assert!((after[k] - (c + 1.0) / (b + 1.0)).abs() < 1e-12);
        prop_assert_eq!(after[k], after[batch.len()]);
        if c < b {
            prop_assert!(after[k] > before[k]);
        }
    }

    #[test]
    fn a_copy_of_a_long_question_shares_its_cluster(batch in small_vocab_batch(), pick in any::<prop::sample::Index>()) {
        let k = pick.index(batch.len());
        let mut grown = batch.clone();
        grown.push(batch[k].clone());
        let clusters = question_clusters(&grown, DISTANCE_THRESHOLD);
        prop_assert_eq!(clusters.labels[k], clusters.labels[batch.len()]);
    }
}
