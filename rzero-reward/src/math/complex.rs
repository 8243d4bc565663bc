//! A small complex `f64` type for numeric evaluation.

use std::ops::{Add, Div, Mul, Neg, Sub};

/// `re + im·i` in `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct C64 {
    /// Real part.
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

impl C64 {
    /// A real number.
    pub const fn real(re: f64) -> Self {
        Self { re, im: 0.0 }
    }

    /// The imaginary unit.
    pub const I: Self = Self { re: 0.0, im: 1.0 };

    /// Not a number (an undefined result).
    pub const NAN: Self = Self::real(f64::NAN);

    /// Whether both parts are finite.
    pub fn is_finite(self) -> bool {
        self.re.is_finite() && self.im.is_finite()
    }

    /// Whether the imaginary part is negligible next to the real part.
    pub fn is_real(self) -> bool {
        self.im.abs() <= 1e-12 * self.re.abs().max(1.0)
    }

    /// Modulus.
    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }

    /// `e^z`.
    pub fn exp(self) -> Self {
        let m = self.re.exp();
        if self.im == 0.0 {
            return Self::real(m);
        }
        Self {
            re: m * self.im.cos(),
            im: m * self.im.sin(),
        }
    }

    /// Principal natural logarithm.
    pub fn ln(self) -> Self {
        if self.im == 0.0 && self.re > 0.0 {
            return Self::real(self.re.ln());
        }
        Self {
            re: self.abs().ln(),
            im: self.im.atan2(self.re),
        }
    }

    /// Principal power `self^exp`, exact repeated products for small integers.
    pub fn pow(self, exp: Self) -> Self {
        if exp.im == 0.0 && exp.re.fract() == 0.0 && exp.re.abs() <= 64.0 {
            let n = exp.re as i32;
            let mut acc = Self::real(1.0);
            for _ in 0..n.unsigned_abs() {
                acc = acc * self;
            }
            return if n < 0 { Self::real(1.0) / acc } else { acc };
        }
        if self.im == 0.0 && exp.im == 0.0 && self.re >= 0.0 {
            return Self::real(self.re.powf(exp.re));
        }
        if self.re == 0.0 && self.im == 0.0 {
            return if exp.re > 0.0 {
                Self::real(0.0)
            } else {
                Self::NAN
            };
        }
        (exp * self.ln()).exp()
    }

    /// Sine.
    pub fn sin(self) -> Self {
        Self {
            re: self.re.sin() * self.im.cosh(),
            im: self.re.cos() * self.im.sinh(),
        }
    }

    /// Cosine.
    pub fn cos(self) -> Self {
        Self {
            re: self.re.cos() * self.im.cosh(),
            im: -self.re.sin() * self.im.sinh(),
        }
    }

    /// Applies a real function when `self` is real, else NaN.
    pub fn real_only(self, f: impl Fn(f64) -> f64) -> Self {
        if self.is_real() {
            Self::real(f(self.re))
        } else {
            Self::NAN
        }
    }
}

impl Add for C64 {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Self {
            re: self.re + o.re,
            im: self.im + o.im,
        }
    }
}

impl Sub for C64 {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        Self {
            re: self.re - o.re,
            im: self.im - o.im,
        }
    }
}

impl Mul for C64 {
    type Output = Self;
    fn mul(self, o: Self) -> Self {
        if self.im == 0.0 && o.im == 0.0 {
            return Self::real(self.re * o.re);
        }
        Self {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }
}

impl Div for C64 {
    type Output = Self;
    fn div(self, o: Self) -> Self {
        if o.im == 0.0 {
            return Self {
                re: self.re / o.re,
                im: self.im / o.re,
            };
        }
        let d = o.re * o.re + o.im * o.im;
        Self {
            re: (self.re * o.re + self.im * o.im) / d,
            im: (self.im * o.re - self.re * o.im) / d,
        }
    }
}

impl Neg for C64 {
    type Output = Self;
    fn neg(self) -> Self {
        Self {
            re: -self.re,
            im: -self.im,
        }
    }
}
