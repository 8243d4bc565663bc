//! R-Zero's uncertainty reward for the Challenger.
//!
//! p̂ is the Solver's self-consistency on a question (see [`crate::vote`]).
//! The reward peaks when the Solver is right half the time:
//!
//! ```text
//! official: r_unc = min(p̂, 1 − p̂)       ∈ [0, ½]   (= ½·paper)
//! paper:    r_unc = 1 − 2·|p̂ − ½|        ∈ [0, 1]
//! ```

/// Which form of the uncertainty reward to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UncertaintyForm {
    /// `min(p̂, 1 − p̂)`, as the official code computes it.
    #[default]
    Official,
    /// `1 − 2·|p̂ − ½|`, as the paper writes it.
    Paper,
}

/// The uncertainty reward of consistency `p̂` (clamped into [0, 1]; NaN gives 0).
///
/// ```
/// use rzero_reward::uncertainty::{UncertaintyForm, uncertainty_reward};
/// assert_eq!(uncertainty_reward(0.3, UncertaintyForm::Official), 0.3);
/// assert_eq!(uncertainty_reward(0.5, UncertaintyForm::Paper), 1.0);
/// ```
pub fn uncertainty_reward(consistency: f64, form: UncertaintyForm) -> f64 {
    if consistency.is_nan() {
        return 0.0;
    }
    let p = consistency.clamp(0.0, 1.0);
    match form {
        UncertaintyForm::Official => p.min(1.0 - p),
        UncertaintyForm::Paper => 1.0 - 2.0 * (p - 0.5).abs(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_is_half_the_paper_form() {
        for k in 0..=10 {
            let p = f64::from(k) / 10.0;
            let official = uncertainty_reward(p, UncertaintyForm::Official);
            let paper = uncertainty_reward(p, UncertaintyForm::Paper);
            assert!((2.0 * official - paper).abs() < 1e-12, "p̂ = {p}");
        }
    }

    #[test]
    fn certain_and_invalid_consistency_give_zero() {
        assert_eq!(uncertainty_reward(1.0, UncertaintyForm::Paper), 0.0);
        assert_eq!(uncertainty_reward(0.0, UncertaintyForm::Official), 0.0);
        assert_eq!(uncertainty_reward(f64::NAN, UncertaintyForm::Official), 0.0);
    }
}
