//! BLEU against NLTK's `sentence_bleu` (method1) on a committed fixture.

use proptest::prelude::*;
use rzero_reward::bleu::{NgramIndex, sentence_bleu};
use rzero_reward::repetition::bleu_distance_matrix;
use serde::Deserialize;

const TOLERANCE: f64 = 1e-9;

#[derive(Deserialize)]
struct Pair {
    reference: String,
    hypothesis: String,
    bleu: f64,
}

#[derive(Deserialize)]
struct Fixture {
    pairs: Vec<Pair>,
}

fn fixture() -> Fixture {
    let text = include_str!("../fixtures/bleu/pairs.json");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad bleu fixture: {e}"))
}

#[test]
fn sentence_bleu_matches_nltk_on_fixture_pairs() {
    let pairs = fixture().pairs;
    assert!(pairs.len() >= 200, "fixture has {} pairs", pairs.len());
    let mut worst = (0.0f64, 0);
    for (k, pair) in pairs.iter().enumerate() {
        let diff = (sentence_bleu(&pair.reference, &pair.hypothesis) - pair.bleu).abs();
        if diff > worst.0 {
            worst = (diff, k);
        }
    }
    let pair = &pairs[worst.1];
    assert!(
        worst.0 <= TOLERANCE,
        "pair {} ({:?} vs {:?}) differs by {}",
        worst.1,
        pair.reference,
        pair.hypothesis,
        worst.0
    );
}

#[test]
fn shared_index_gives_the_same_scores_as_single_pairs() {
    let pairs = fixture().pairs;
    let sentences: Vec<&str> = pairs
        .iter()
        .flat_map(|p| [p.reference.as_str(), p.hypothesis.as_str()])
        .collect();
    let index = NgramIndex::new(&sentences);
    for (k, pair) in pairs.iter().enumerate() {
        let shared = index.bleu(2 * k, 2 * k + 1);
        assert!(
            (shared - pair.bleu).abs() <= TOLERANCE,
            "pair {k}: {shared} vs {}",
            pair.bleu
        );
    }
}

#[test]
fn distance_matrix_rows_equal_pairwise_bleu_bit_for_bit() {
    // The matrix goes through the inverted index and memoized formula; the
    // pairwise path does neither.
    let pairs = fixture().pairs;
    let sentences: Vec<&str> = pairs
        .iter()
        .flat_map(|p| [p.reference.as_str(), p.hypothesis.as_str()])
        .collect();
    let index = NgramIndex::new(&sentences);
    let matrix = bleu_distance_matrix(&sentences);
    for i in 0..sentences.len() {
        for j in i + 1..sentences.len() {
            let expected = 1.0 - index.bleu(j, i);
            assert_eq!(matrix.get(i, j).to_bits(), expected.to_bits(), "({i}, {j})");
        }
    }
}

fn sentence(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<&'static str>> {
    const WORDS: [&str; 10] = [
        "the", "a", "x", "is", "prime", "sum", "of", "2", "find", "n",
    ];
    prop::collection::vec(prop::sample::select(&WORDS[..]), len)
}

proptest! {
    #[test]
    fn bleu_is_symmetric_for_equal_lengths(
        (a, b) in (0usize..30).prop_flat_map(|n| (sentence(n..n + 1), sentence(n..n + 1)))
    ) {
        // Equal lengths: same denominators, brevity penalty 1, and min() is symmetric.
        let (a, b) = (a.join(" "), b.join(" "));
        prop_assert_eq!(sentence_bleu(&a, &b), sentence_bleu(&b, &a));
    }

    #[test]
    fn identical_sentences_of_four_or_more_tokens_score_one(words in sentence(4..60)) {
        let s = words.join(" ");
        prop_assert_eq!(sentence_bleu(&s, &s), 1.0);
    }

    #[test]
    fn bleu_lies_in_unit_interval(a in sentence(0..40), b in sentence(0..40)) {
        let s = sentence_bleu(&a.join(" "), &b.join(" "));
        prop_assert!((0.0..=1.0).contains(&s), "bleu {}", s);
    }
}
