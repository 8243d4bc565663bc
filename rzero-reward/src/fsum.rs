//! Python's `math.fsum`: the correctly rounded sum (Shewchuk's algorithm).
//!
//! NLTK sums the weighted log-precisions with `math.fsum`; summing them the
//! same way keeps BLEU bit-identical instead of merely close.

/// Correctly rounded sum of finite values, step for step as CPython's `fsum`.
pub(crate) fn fsum<const N: usize>(values: &[f64; N]) -> f64 {
    // Never more partials than values seen.
    let mut partials = [0.0f64; N];
    let mut len = 0;
    for &value in values {
        let mut x = value;
        let mut kept = 0;
        for j in 0..len {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        len = kept;
        // CPython keeps the running sum only when it is non-zero.
        if x != 0.0 {
            partials[len] = x;
            len += 1;
        }
    }
    round_partials(&partials[..len])
}

/// CPython's last step: add partials from the top, fixing half-way rounding.
fn round_partials(partials: &[f64]) -> f64 {
    let Some((&top, rest)) = partials.split_last() else {
        return 0.0;
    };
    let mut hi = top;
    let mut lo = 0.0;
    let mut n = rest.len();
    while n > 0 {
        let x = hi;
        n -= 1;
        let y = partials[n];
        hi = x + y;
        lo = y - (hi - x);
        if lo != 0.0 {
            break;
        }
    }
    if n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)) {
        let y = lo * 2.0;
        let x = hi + y;
        if y == x - hi {
            hi = x;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::fsum;

    #[test]
    fn fsum_is_exact_where_naive_sum_is_not() {
        assert_eq!(fsum(&[1e100, 1.0, -1e100, 1e-100]), 1.0);
        assert_eq!(fsum(&[0.1; 10]), 1.0);
        assert_eq!(fsum::<0>(&[]), 0.0);
    }

    #[test]
    fn fsum_rounds_half_way_cases_like_python() {
        // math.fsum([1.0, 1e-16, 1e-16]) == 1.0000000000000002 in CPython.
        assert_eq!(fsum(&[1.0, 1e-16, 1e-16]), 1.0000000000000002);
        assert_eq!(fsum(&[1e16, 1.0, 1e-16]), 1.0000000000000002e16);
    }
}
