//! TensorFlow Lite's fixed-point requantization: a real multiplier `M` stored as a 31-bit
//! significand and a power-of-two exponent, applied to an `i32` accumulator with the
//! reference kernels' roundings (a saturating, rounding doubling high multiply, then a
//! rounding right shift). Integers only: this is what runs between an int8 model's input and
//! output. Re-exported by [`crate::quant`].

/// A real multiplier `M ≈ multiplier · 2^(shift − 31)` (TensorFlow Lite's
/// `QuantizeMultiplier`), applied by [`apply`](QuantizedMultiplier::apply) exactly as its
/// `MultiplyByQuantizedMultiplier`.
///
/// ```
/// use constnet::quant::QuantizedMultiplier;
/// let half = QuantizedMultiplier::from_real(0.5);
/// assert_eq!((half.multiplier, half.shift), (1 << 30, 0));
/// // gemmlowp's rounding doubling high multiply: 3.5 → 4, but −3.5 → −3.
/// assert_eq!(half.apply(7), 4);
/// assert_eq!(half.apply(-7), -3);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct QuantizedMultiplier {
    /// The significand in `[2^30, 2^31)` (or 0 for a zero multiplier).
    pub multiplier: i32,
    /// The power of two: positive shifts left before the multiply, negative shifts right after.
    pub shift: i32,
}

impl QuantizedMultiplier {
    /// A multiplier from its stored integers (as baked into generated source).
    pub const fn new(multiplier: i32, shift: i32) -> Self {
        QuantizedMultiplier { multiplier, shift }
    }

    /// TensorFlow Lite's `QuantizeMultiplier(double, ...)`: the significand of `real` rounded
    /// to 31 bits (half away from zero), a significand that rounds up to `2^31` halved with the
    /// exponent raised, exponents below −31 flushed to zero and above 30 saturated. Not finite
    /// or negative multipliers give zero (the importers refuse them before asking).
    pub fn from_real(real: f64) -> Self {
        if real.is_nan() || real <= 0.0 || real.is_infinite() {
            return QuantizedMultiplier::default();
        }
        let (fraction, mut shift) = frexp(real);
        let mut fixed = libm_crate::round(fraction * (1u64 << 31) as f64) as i64;
        if fixed == 1i64 << 31 {
            fixed /= 2;
            shift += 1;
        }
        if shift < -31 {
            shift = 0;
            fixed = 0;
        }
        if shift > 30 {
            shift = 30;
            fixed = (1i64 << 31) - 1;
        }
        QuantizedMultiplier {
            multiplier: fixed as i32,
            shift,
        }
    }

    /// `round(x · M)` as TensorFlow Lite's reference kernels compute it:
    /// `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x · 2^left, multiplier), right)`.
    #[inline(always)]
    pub const fn apply(self, x: i32) -> i32 {
        let left = if self.shift > 0 { self.shift } else { 0 };
        // Shifts beyond 31 (which `from_real` never makes) act as 31.
        let right = if self.shift > 0 {
            0
        } else if self.shift < -31 {
            31
        } else {
            -self.shift
        };
        rounding_divide_by_pot(
            saturating_rounding_doubling_high_mul(
                x.wrapping_mul(1i32.wrapping_shl(left as u32)),
                self.multiplier,
            ),
            right,
        )
    }
}

/// [`QuantizedMultiplier::apply`] written without branches, so a loop of it vectorizes (the
/// same results, tested).
#[inline(always)]
pub(crate) fn apply_branch_free(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = if shift > 0 { shift } else { 0 };
    let right = if shift > 0 {
        0
    } else if shift < -31 {
        31
    } else {
        -shift
    };
    let a = x.wrapping_shl(left as u32);
    let product = a as i64 * multiplier as i64;
    let nudge = if product >= 0 {
        1i64 << 30
    } else {
        1 - (1i64 << 30)
    };
    let sum = product + nudge;
    // Division by 2^31 truncating toward zero.
    let high = ((sum + ((sum >> 63) & ((1i64 << 31) - 1))) >> 31) as i32;
    let high = if a == i32::MIN && multiplier == i32::MIN {
        i32::MAX
    } else {
        high
    };
    let mask = ((1i64 << right) - 1) as i32;
    let remainder = high & mask;
    let threshold = (mask >> 1) + (high < 0) as i32;
    (high >> right) + (remainder > threshold) as i32
}

/// `(a · b · 2 + 2^31) >> 32` with gemmlowp's rounding (the nudge toward zero for negative
/// products, division truncating toward zero) and the one overflowing case saturated.
#[inline(always)]
pub const fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let product = a as i64 * b as i64;
    let nudge: i64 = if product >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    ((product + nudge) / (1i64 << 31)) as i32
}

/// `x / 2^exponent` rounded to nearest, ties away from zero (gemmlowp's
/// `RoundingDivideByPOT`), for `exponent` in `0..=31`.
#[inline(always)]
pub const fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + if x < 0 { 1 } else { 0 };
    (x >> exponent) + if remainder > threshold { 1 } else { 0 }
}

/// `(fraction, exponent)` with `x = fraction · 2^exponent`, `fraction` in `[0.5, 1)`, for a
/// positive finite `x` (C's `frexp`).
fn frexp(x: f64) -> (f64, i32) {
    let bits = x.to_bits();
    let exponent_bits = ((bits >> 52) & 0x7ff) as i32;
    if exponent_bits == 0 {
        // Subnormal: scale into the normal range first.
        let (fraction, exponent) = frexp(x * (1u64 << 54) as f64);
        return (fraction, exponent - 54);
    }
    let fraction = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (fraction, exponent_bits - 1022)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference arithmetic written out in i64 (no saturation, no wrapping needed for
    /// these inputs).
    fn reference(x: i32, m: QuantizedMultiplier) -> i32 {
        let left = m.shift.max(0);
        let right = (-m.shift).max(0);
        let scaled = x as i64 * (1i64 << left);
        let product = scaled * m.multiplier as i64;
        let nudge = if product >= 0 {
            1i64 << 30
        } else {
            1 - (1i64 << 30)
        };
        let high = (product + nudge) / (1i64 << 31);
        // Round half away from zero.
        let divisor = 1i64 << right;
        let q = high.div_euclid(divisor);
        let r = high.rem_euclid(divisor);
        let twice = 2 * r;
        let up = if high < 0 {
            twice > divisor
        } else {
            twice >= divisor
        };
        (q + up as i64) as i32
    }

    #[test]
    fn multiplier_matches_frexp_rounding() {
        assert_eq!(
            QuantizedMultiplier::from_real(1.0),
            QuantizedMultiplier::new(1 << 30, 1)
        );
        assert_eq!(
            QuantizedMultiplier::from_real(0.75),
            QuantizedMultiplier::new(3 << 29, 0)
        );
        // A significand that rounds up to 2^31 is halved.
        let almost_one = 1.0 - 1e-12;
        assert_eq!(
            QuantizedMultiplier::from_real(almost_one),
            QuantizedMultiplier::new(1 << 30, 1)
        );
        assert_eq!(QuantizedMultiplier::from_real(1e-12).multiplier, 0);
        assert_eq!(
            QuantizedMultiplier::from_real(0.0),
            QuantizedMultiplier::default()
        );
        assert_eq!(
            QuantizedMultiplier::from_real(f64::NAN),
            QuantizedMultiplier::default()
        );
    }

    #[test]
    fn apply_matches_the_reference_arithmetic() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let real =
                (next() % 1_000_000) as f64 / 1_000_000.0 * 2f64.powi((next() % 20) as i32 - 16);
            let m = QuantizedMultiplier::from_real(real);
            let x = (next() as i32) >> (next() % 16);
            if m.shift > 0 && (x as i64).abs() > (i32::MAX as i64 >> m.shift) {
                continue;
            }
            assert_eq!(m.apply(x), reference(x, m), "x {x} m {m:?}");
        }
    }

    #[test]
    fn the_branch_free_form_equals_apply() {
        let mut state = 0x5eed_1234_abcd_ef01u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..500_000 {
            let m = QuantizedMultiplier::new((next() as i32) & i32::MAX, (next() % 40) as i32 - 33);
            let x = (next() as i32) >> (next() % 31);
            assert_eq!(
                apply_branch_free(x, m.multiplier, m.shift),
                m.apply(x),
                "x {x} m {m:?}"
            );
        }
        let extreme = QuantizedMultiplier::new(i32::MIN, 0);
        assert_eq!(
            apply_branch_free(i32::MIN, i32::MIN, 0),
            extreme.apply(i32::MIN)
        );
    }

    #[test]
    fn rounding_divide_ties_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(4, 1), 2);
        assert_eq!(rounding_divide_by_pot(-6, 2), -2);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
    }
}
