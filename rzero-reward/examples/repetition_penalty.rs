//! Repetition penalty of a batch of questions, with timings.
//!
//! Run with: `cargo run --release -p rzero-reward --example repetition_penalty [-- questions.txt]`
//! (one question per line; a small built-in batch without an argument).
#![expect(clippy::print_stdout, reason = "an example reports on stdout")]

use std::time::Instant;

use rzero_reward::cluster::average_linkage;
use rzero_reward::repetition::{DISTANCE_THRESHOLD, bleu_distance_matrix, penalties};

const DEMO: [&str; 5] = [
    "Find the number of positive integers n below 100 such that n^2 + 1 is prime",
    "Find the number of positive integers n below 200 such that n^2 + 1 is prime",
    "A circle of radius 3 is inscribed in a square; find the area outside the circle",
    "",
    "Find the number of positive integers n below 100 such that n^2 + 1 is prime",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let questions: Vec<String> = match std::env::args().nth(1) {
        Some(path) => std::fs::read_to_string(path)?
            .lines()
            .map(str::to_owned)
            .collect(),
        None => DEMO.iter().map(|q| (*q).to_owned()).collect(),
    };
    let start = Instant::now();
    let matrix = bleu_distance_matrix(&questions);
    let bleu_s = start.elapsed().as_secs_f64();
    let clusters = average_linkage(matrix, DISTANCE_THRESHOLD);
    let total_s = start.elapsed().as_secs_f64();
    let r_rep = penalties(&clusters);
    let mut sizes = clusters.sizes.clone();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    println!(
        "B={}: bleu {bleu_s:.3} s, cluster {:.3} s, total {total_s:.3} s, {} clusters, largest {:?}",
        questions.len(),
        total_s - bleu_s,
        sizes.len(),
        &sizes[..sizes.len().min(5)]
    );
    // (cluster size, how many clusters have it), largest first.
    let mut histogram: Vec<(usize, usize)> = Vec::new();
    for &size in &sizes {
        match histogram.last_mut() {
            Some((s, count)) if *s == size => *count += 1,
            _ => histogram.push((size, 1)),
        }
    }
    println!("cluster sizes (size, count): {histogram:?}");
    if questions.len() <= 10 {
        for (q, r) in questions.iter().zip(&r_rep) {
            println!("r_rep = {r:.3}  {q:?}");
        }
    }
    Ok(())
}
