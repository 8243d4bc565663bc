//! Synthetic Challenger questions for the repetition-penalty benches.
//!
//! Deterministic from a seed with SplitMix64 and integer arithmetic only, so
//! `benches/peers/reward_rep.py` regenerates the very same strings for the
//! NLTK + scikit-learn timing. About 30 whitespace tokens per question; 3 %
//! are exact copies and 12 % near-copies (1–3 words replaced) of an earlier one.

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "let", "find", "the", "number", "of", "integers", "x", "such", "that", "sum", "all", "real",
    "roots", "polynomial", "triangle", "area", "circle", "radius", "probability", "a", "is", "be",
    "positive", "prime", "n", "and", "in", "with", "its", "value", "smallest", "largest",
    "possible", "how", "many", "ways", "can", "we", "choose", "from", "set", "sequence", "defined",
    "by", "for", "every", "divisible", "remainder", "when", "divided", "digits", "perimeter",
    "square", "side", "length", "point", "on", "line", "function", "satisfies", "equation",
    "compute", "expected", "random", "chosen", "uniformly", "interval", "at", "most", "least",
    "distinct", "ordered", "pairs", "(a,b)", "where", "$x^2$", "$n!$", "mod", "7", "12", "2024",
    "100", "3", "5", "if", "then", "what", "determine", "minimum", "maximum", "product",
    "coefficients", "matrix", "determinant", "angle", "degrees", "inscribed", "tangent",
];

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, seedable, easy to port.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish index below `n` (modulo bias is irrelevant here).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// `n` synthetic questions from `seed`.
pub fn synthetic_questions(n: usize, seed: u64) -> Vec<String> {
    let mut rng = SplitMix64::new(seed);
    let mut out: Vec<String> = Vec::with_capacity(n);
    while out.len() < n {
        let roll = rng.below(100);
        if !out.is_empty() && roll < 3 {
            let copy = out[rng.below(out.len())].clone();
            out.push(copy);
        } else if !out.is_empty() && roll < 15 {
            let mut tokens: Vec<String> = out[rng.below(out.len())]
                .split(' ')
                .map(str::to_owned)
                .collect();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(tokens.len());
                tokens[at] = WORDS[rng.below(WORDS.len())].to_owned();
            }
            out.push(tokens.join(" "));
        } else {
            let len = 20 + rng.below(21);
            let tokens: Vec<&str> = (0..len).map(|_| WORDS[rng.below(WORDS.len())]).collect();
            out.push(tokens.join(" "));
        }
    }
    out
}
