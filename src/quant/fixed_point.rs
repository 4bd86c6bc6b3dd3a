//! How an int8 layer brings its int32 accumulators to the output scale: TensorFlow Lite's
//! fixed-point multiplier ([`QuantizedMultiplier`], in the kernel module) or the exact `f64`
//! scale of LiteRT's reference FULLY_CONNECTED ([`ExactScale`]).

use super::Quantization;

pub use crate::kernel::{
    QuantizedMultiplier, rounding_divide_by_pot, saturating_rounding_doubling_high_mul,
};

/// A real scale kept as the `f64` it is (`significand · 2^exponent`, 53-bit significand), applied
/// as LiteRT's reference FULLY_CONNECTED applies it: `round(f64(acc) · scale)` (the product
/// rounded to `f64`, then to an integer half away from zero), emulated exactly with integers
/// only.
///
/// ```
/// use constnet::quant::ExactScale;
/// let s = ExactScale::from_real(0.1);
/// for acc in [-1000, -15, -5, 0, 5, 15, 12345] {
///     assert_eq!(s.apply(acc), (acc as f64 * 0.1).round() as i32);
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExactScale {
    /// The significand (`0` for a zero scale).
    pub significand: i64,
    /// The power of two.
    pub exponent: i32,
}

impl ExactScale {
    /// The scale from its stored integers (as baked into generated source).
    pub const fn new(significand: i64, exponent: i32) -> Self {
        ExactScale {
            significand,
            exponent,
        }
    }

    /// The exact value of a finite, non-negative `f64` (others give zero).
    pub fn from_real(real: f64) -> Self {
        if !(real.is_finite() && real > 0.0) {
            return ExactScale::default();
        }
        let bits = real.to_bits();
        let exponent_bits = ((bits >> 52) & 0x7ff) as i32;
        let fraction = (bits & ((1u64 << 52) - 1)) as i64;
        if exponent_bits == 0 {
            ExactScale::new(fraction, -1074)
        } else {
            ExactScale::new(fraction | (1i64 << 52), exponent_bits - 1075)
        }
    }

    /// `round(f64(acc) · scale)`, saturated to `i32`, with integers only.
    pub const fn apply(self, acc: i32) -> i32 {
        if acc == 0 || self.significand == 0 {
            return 0;
        }
        let negative = acc < 0;
        // The exact product, then rounded to 53 significant bits, ties to even (the f64
        // multiplication).
        let mut magnitude = acc.unsigned_abs() as u128 * self.significand as u128;
        let mut exponent = self.exponent;
        let bits = 128 - magnitude.leading_zeros() as i32;
        if bits > 53 {
            let drop = bits - 53;
            let kept = magnitude >> drop;
            let rest = magnitude & ((1u128 << drop) - 1);
            let half = 1u128 << (drop - 1);
            let up = rest > half || (rest == half && kept & 1 == 1);
            magnitude = kept + up as u128;
            exponent += drop;
        }
        // Then to an integer, half away from zero.
        let integer = if exponent >= 0 {
            if exponent > 40 {
                u128::MAX >> 1
            } else {
                magnitude << exponent
            }
        } else {
            let shift = -exponent;
            if shift > 120 {
                0
            } else {
                let whole = magnitude >> shift;
                let rest = magnitude & ((1u128 << shift) - 1);
                whole + (rest >= (1u128 << (shift - 1))) as u128
            }
        };
        let limit = if negative {
            1u128 << 31
        } else {
            (1u128 << 31) - 1
        };
        let integer = if integer > limit { limit } else { integer } as i64;
        (if negative { -integer } else { integer }) as i32
    }
}

impl ExactScale {
    /// The `f64` this is (its bits rebuilt from the significand and the exponent).
    #[inline(always)]
    pub const fn to_real(self) -> f64 {
        if self.significand == 0 {
            return 0.0;
        }
        if self.exponent == -1074 && self.significand < (1i64 << 52) {
            // Subnormal.
            return f64::from_bits(self.significand as u64);
        }
        let fraction = (self.significand as u64) & ((1u64 << 52) - 1);
        f64::from_bits((((self.exponent + 1075) as u64) << 52) | fraction)
    }

    /// [`apply`](ExactScale::apply) by the fastest exact means: on targets whose FPU computes
    /// `f64` in hardware (x86-64, AArch64) the product and the rounding themselves (IEEE 754
    /// operations, so the very bits the integer emulation reproduces, tested), elsewhere the
    /// integer emulation, so cores without a double-precision FPU run integers only.
    #[inline(always)]
    pub fn apply_fast(self, acc: i32) -> i32 {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        {
            libm_crate::round(acc as f64 * self.to_real()) as i32
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            self.apply(acc)
        }
    }
}

/// How an int32 accumulator is brought to an output's scale: TensorFlow Lite's fixed-point
/// multiplier (its convolutions, and TensorFlow Lite Micro's FULLY_CONNECTED), or the exact
/// `f64` product LiteRT's reference FULLY_CONNECTED rounds (emulated with integers). The two
/// differ by one unit on a small fraction of values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requantize {
    /// [`QuantizedMultiplier::apply`].
    FixedPoint(QuantizedMultiplier),
    /// [`ExactScale::apply`].
    Exact(ExactScale),
}

impl Default for Requantize {
    fn default() -> Self {
        Requantize::FixedPoint(QuantizedMultiplier::default())
    }
}

impl Requantize {
    /// The accumulator in the output's scale (before the output zero point).
    #[inline(always)]
    pub fn apply(self, acc: i32) -> i32 {
        match self {
            Requantize::FixedPoint(m) => m.apply(acc),
            Requantize::Exact(s) => s.apply_fast(acc),
        }
    }

    /// The fixed-point form (TensorFlow Lite Micro's): an exact scale's multiplier as
    /// `QuantizeMultiplier` computes it from the same `f64`.
    pub fn to_fixed_point(self) -> Self {
        match self {
            Requantize::Exact(s) => {
                Requantize::FixedPoint(QuantizedMultiplier::from_real(s.to_real()))
            }
            fixed => fixed,
        }
    }
}

/// A fully connected layer's scale for one output as LiteRT's reference kernel uses it: the
/// exact `f64` of `input_scale · weight_scale / output_scale`.
pub(crate) fn dense_scale(
    input: Quantization,
    weight_scale: f32,
    output: Quantization,
) -> ExactScale {
    ExactScale::from_real(input.scale as f64 * weight_scale as f64 / output.scale as f64)
}

/// A convolution's multiplier for one output channel (TensorFlow Lite's
/// `PopulateConvolutionQuantizationParams` for int8, per channel or with the one weight scale
/// for every channel): `input_scale · weight_scale / output_scale` in `f64`.
pub(crate) fn convolution_multiplier(
    input: Quantization,
    weight_scale: f32,
    output: Quantization,
) -> QuantizedMultiplier {
    QuantizedMultiplier::from_real(input.scale as f64 * weight_scale as f64 / output.scale as f64)
}

/// `out[o] = clamp(M_o(acc[o] + bias[o]) + zero_point)`: a layer's requantization of all its
/// output channels (16 per step with AVX-512).
#[inline]
pub(crate) fn requantize_channels(
    acc: &[i32],
    bias: &[i32],
    multipliers: &[QuantizedMultiplier],
    zero_point: i32,
    range: [i8; 2],
    out: &mut [i8],
) {
    crate::kernel::int8_requantize(acc, bias, multipliers, zero_point, range, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_scale_matches_f64_arithmetic() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let scale = f64::from_bits(
                next() % (0x3ff0_0000_0000_0000 - 0x3c00_0000_0000_0000) + 0x3c00_0000_0000_0000,
            );
            let acc = (next() as i32) >> (next() % 31);
            let s = ExactScale::from_real(scale);
            let expected = (acc as f64 * scale).round();
            let expected = expected.clamp(i32::MIN as f64, i32::MAX as f64) as i32;
            assert_eq!(s.apply(acc), expected, "acc {acc} scale {scale:e}");
            assert_eq!(
                s.apply_fast(acc),
                expected,
                "fast: acc {acc} scale {scale:e}"
            );
            assert_eq!(s.to_real(), scale);
        }
        // Ties: 2.5 → 3, -2.5 → -3.
        assert_eq!(ExactScale::from_real(0.5).apply(5), 3);
        assert_eq!(ExactScale::from_real(0.5).apply(-5), -3);
    }
}
