//! Exact numbers: big rationals that remember whether a decimal was written.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// Largest exact number kept, in bits of numerator plus denominator; beyond
/// it arithmetic gives up (the caller then falls back to floating point).
pub const MAX_BITS: u64 = 4096;

/// An exact rational value; `float` is set when a decimal literal took part,
/// which switches comparison to math-verify's 6-decimal rounding rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Exact {
    /// The value.
    pub value: BigRational,
    /// Whether a decimal (floating-point) literal contributed to it.
    pub float: bool,
}

impl Exact {
    /// An exact integer.
    pub fn int(n: i64) -> Self {
        Self {
            value: BigRational::from_integer(BigInt::from(n)),
            float: false,
        }
    }

    /// Parses digits with an optional decimal part and exponent
    /// (`12`, `1.25`, `.5`, `1.5e3`); a `.` or an exponent marks a float.
    pub fn parse(text: &str) -> Option<Self> {
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(at) => (&text[..at], text[at + 1..].parse::<i64>().ok()?),
            None => (text, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits = format!("{int_part}{frac_part}");
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let scale = exponent.checked_sub(i64::try_from(frac_part.len()).ok()?)?;
        if scale.unsigned_abs() > 2000 {
            return None;
        }
        let numer: BigInt = digits.parse().ok()?;
        let ten = BigRational::from_integer(BigInt::from(10));
        let value = BigRational::from_integer(numer) * pow_rational(&ten, scale)?;
        let float = mantissa.contains('.') || text.len() != mantissa.len();
        Some(Self { value, float })
    }

    /// Sum, or `None` past [`MAX_BITS`].
    pub fn add(&self, other: &Self) -> Option<Self> {
        Self::checked(&self.value + &other.value, self.float || other.float)
    }

    /// Product, or `None` past [`MAX_BITS`].
    pub fn mul(&self, other: &Self) -> Option<Self> {
        Self::checked(&self.value * &other.value, self.float || other.float)
    }

    /// Reciprocal; `None` for zero.
    pub fn recip(&self) -> Option<Self> {
        (!self.value.is_zero()).then(|| Self {
            value: self.value.recip(),
            float: self.float,
        })
    }

    /// `self ^ exp` when the result is rational and small enough:
    /// integer exponents, and `p/q` exponents of perfect `q`-th powers.
    pub fn pow(&self, exp: &Self) -> Option<Self> {
        let float = self.float || exp.float;
        if let Some(value) = self.trivial_pow(exp) {
            return Some(Self { value, float });
        }
        let numer = exp.value.numer().to_i64()?;
        let denom = exp.value.denom().to_u32()?;
        let base = if denom == 1 {
            self.value.clone()
        } else {
            exact_root(&self.value, denom)?
        };
        let bits = bits(&base).max(1);
        if bits.saturating_mul(numer.unsigned_abs()) > MAX_BITS {
            return None;
        }
        Self::checked(pow_rational(&base, numer)?, float)
    }

    /// `0^x`, `1^x`, `(-1)^n` for any size of exponent.
    fn trivial_pow(&self, exp: &Self) -> Option<BigRational> {
        let one = BigRational::one();
        if self.value.is_zero() && exp.value.is_positive() {
            return Some(BigRational::zero());
        }
        if self.value == one {
            return Some(one);
        }
        if self.value == -one.clone() && exp.value.is_integer() {
            let odd = exp.value.to_integer() % BigInt::from(2) != BigInt::zero();
            return Some(if odd { -one } else { one });
        }
        None
    }

    /// `n!` for a small non-negative integer.
    pub fn factorial(&self) -> Option<Self> {
        if !self.value.is_integer() {
            return None;
        }
        let n = self.value.to_integer().to_u32()?;
        if n > 400 {
            return None;
        }
        let product = (2..=n).fold(BigInt::one(), |acc, k| acc * BigInt::from(k));
        Some(Self {
            value: BigRational::from_integer(product),
            float: self.float,
        })
    }

    /// Nearest `f64` (may be infinite for huge values).
    pub fn to_f64(&self) -> f64 {
        self.value.to_f64().unwrap_or(f64::NAN)
    }

    /// The value rounded to `places` decimals, as an exact integer count of
    /// `10^-places` units (half away from zero).
    pub fn round_units(&self, places: u32) -> BigInt {
        let scale = BigRational::from_integer(BigInt::from(10).pow(places));
        (&self.value * scale).round().to_integer()
    }

    fn checked(value: BigRational, float: bool) -> Option<Self> {
        (bits(&value) <= MAX_BITS).then_some(Self { value, float })
    }
}

/// Size of a rational in bits (numerator plus denominator).
pub fn bits(value: &BigRational) -> u64 {
    value.numer().bits() + value.denom().bits()
}

fn pow_rational(base: &BigRational, exp: i64) -> Option<BigRational> {
    let magnitude = i32::try_from(exp.unsigned_abs()).ok()?;
    if exp < 0 && base.is_zero() {
        return None;
    }
    let raised = num_traits::pow(base.clone(), usize::try_from(magnitude).ok()?);
    Some(if exp < 0 { raised.recip() } else { raised })
}

/// The exact `n`-th root of a rational, when there is one.
fn exact_root(value: &BigRational, n: u32) -> Option<BigRational> {
    if n == 0 || n > 64 || (value.is_negative() && n.is_multiple_of(2)) {
        return None;
    }
    let root_int = |x: &BigInt| {
        let r = x.nth_root(n);
        (num_traits::pow(r.clone(), n as usize) == *x).then_some(r)
    };
    let numer = root_int(value.numer())?;
    let denom = root_int(value.denom())?;
    Some(BigRational::new(numer, denom))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    #[test]
    fn parses_decimals_and_scientific_notation() {
        let cases = [
            ("12", ratio(12, 1), false),
            ("1.25", ratio(5, 4), true),
            (".5", ratio(1, 2), true),
            ("1.5e3", ratio(1500, 1), true),
            ("2E-2", ratio(1, 50), true),
        ];
        for (text, value, float) in cases {
            assert_eq!(Exact::parse(text), Some(Exact { value, float }), "{text}");
        }
        assert_eq!(Exact::parse("1e99999"), None);
        assert_eq!(Exact::parse("."), None);
    }

    #[test]
    fn powers_stay_exact_or_give_up() {
        let eight = Exact::int(8);
        let third = Exact {
            value: ratio(1, 3),
            float: false,
        };
        assert_eq!(eight.pow(&third), Some(Exact::int(2)));
        assert_eq!(
            Exact::int(2).pow(&Exact {
                value: ratio(1, 2),
                float: false
            }),
            None
        );
        assert_eq!(Exact::int(10).pow(&Exact::int(10_000_000_000)), None);
        assert_eq!(
            Exact::int(2).pow(&Exact::int(-2)).map(|e| e.value),
            Some(ratio(1, 4))
        );
        assert_eq!(Exact::int(0).pow(&Exact::int(-1)), None);
    }

    #[test]
    fn factorial_is_bounded() {
        assert_eq!(Exact::int(5).factorial(), Some(Exact::int(120)));
        assert_eq!(Exact::int(1_000_000).factorial(), None);
    }
}
