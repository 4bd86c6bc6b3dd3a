//! TensorFlow Lite's post-training quantization scheme, in numbers: asymmetric int8
//! activations from a calibrated range, symmetric int8 weights per output channel, int32
//! biases in the product of the input and weight scales.

use crate::quant::Quantization;

/// The smallest and largest value a tensor took over the calibration samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// The smallest value seen (`+∞` before any).
    pub min: f32,
    /// The largest value seen (`−∞` before any).
    pub max: f32,
    /// Whether a NaN or an infinity was seen.
    pub not_finite: bool,
}

impl Range {
    /// No value seen yet.
    pub const EMPTY: Range = Range {
        min: f32::INFINITY,
        max: f32::NEG_INFINITY,
        not_finite: false,
    };

    /// Takes `values` in.
    pub fn widen(&mut self, values: &[f32]) {
        for &v in values {
            if v.is_finite() {
                self.min = self.min.min(v);
                self.max = self.max.max(v);
            } else {
                self.not_finite = true;
            }
        }
    }
}

/// The largest magnitude a quantized bias may have: a channel whose bias would exceed it
/// gets a coarser weight scale (TensorFlow Lite's converter does the same), so the int32
/// bias and the accumulator keep their headroom.
const BIAS_LIMIT: f64 = (1u32 << 30) as f64;

impl Quantization {
    /// TensorFlow Lite's int8 activation quantization of the calibrated range
    /// `[min, max]`: the range widened to hold 0, `scale = (max − min) / 255`, and the zero
    /// point `round(−128 − min / scale)` clamped to `[-128, 127]`, so real 0 is exactly a
    /// step ("nudged"). An empty range (all zeros) gets the scale of `[0, 1]`.
    ///
    /// ```
    /// use constnet::quant::Quantization;
    /// let q = Quantization::from_range(-1.0, 3.0);
    /// assert_eq!((q.scale, q.zero_point), (4.0 / 255.0, -64));
    /// assert_eq!(q.dequantize(q.quantize(0.0).unwrap()), 0.0);
    /// assert_eq!(Quantization::from_range(0.5, 2.0).zero_point, -128); // widened to [0, 2]
    /// ```
    pub fn from_range(min: f32, max: f32) -> Quantization {
        let (min, max) = (min.min(0.0), max.max(0.0));
        let mut scale = ((max as f64 - min as f64) / 255.0) as f32;
        if !(scale >= f32::MIN_POSITIVE && scale.is_finite()) {
            scale = 1.0 / 255.0;
        }
        let zero_point = (-128.0 - min as f64 / scale as f64).round();
        Quantization::new(scale, zero_point.clamp(-128.0, 127.0) as i32)
    }
}

/// The symmetric scale of one output channel's weights: `max |w| / 127`, coarsened if the
/// channel's bias would not fit [`BIAS_LIMIT`] steps of `input_scale · scale`; never 0 (an
/// all-zero channel without bias gets the smallest normal `f32`). `None` if a weight or the
/// bias is not finite.
pub(crate) fn weight_scale(max_abs: f64, bias: f64, input_scale: f32) -> Option<f32> {
    if !(max_abs.is_finite() && bias.is_finite()) {
        return None;
    }
    let mut scale = (max_abs / 127.0).max(bias.abs() / (input_scale as f64 * BIAS_LIMIT)) as f32;
    if scale < f32::MIN_POSITIVE {
        scale = f32::MIN_POSITIVE;
    }
    // Rounded to `f32`, the scale may be a little small for the bias.
    while (bias.abs() / (input_scale as f64 * scale as f64)).round() > BIAS_LIMIT {
        scale = scale.next_up();
    }
    Some(scale)
}

/// The largest magnitude of `values`; NaN if one is not finite.
pub(crate) fn max_abs(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, |m: f64, v| {
        if v.is_finite() && m.is_finite() {
            m.max(v.abs())
        } else {
            f64::NAN
        }
    })
}

/// `round(w / scale)` (half away from zero) clamped to `[-127, 127]`.
pub(crate) fn quantize_weight(w: f64, scale: f32) -> i8 {
    (w / scale as f64).round().clamp(-127.0, 127.0) as i8
}

/// `round(b / (input_scale · weight_scale))` (half away from zero), saturated to `i32`.
pub(crate) fn quantize_bias(b: f64, input_scale: f32, weight_scale: f32) -> i32 {
    (b / (input_scale as f64 * weight_scale as f64))
        .round()
        .clamp(i32::MIN as f64, i32::MAX as f64) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_exact_and_the_range_is_covered() {
        for (min, max) in [
            (-1.0, 1.0),
            (0.0, 6.0),
            (-3.0, -1.0),
            (-0.01, 100.0),
            (2.0, 2.0),
        ] {
            let q = Quantization::from_range(min, max);
            assert!(q.scale > 0.0 && (-128..=127).contains(&q.zero_point));
            assert_eq!(q.dequantize(q.quantize(0.0).unwrap()), 0.0, "{min} {max}");
            let low = q.dequantize(-128);
            let high = q.dequantize(127);
            assert!(low <= min.min(0.0) + q.scale && high >= max.max(0.0) - q.scale);
        }
        assert_eq!(Quantization::from_range(0.0, 0.0).scale, 1.0 / 255.0);
    }

    #[test]
    fn weight_scales_are_never_zero_and_hold_the_bias() {
        assert_eq!(weight_scale(12.7, 0.0, 1.0), Some(0.1));
        assert_eq!(weight_scale(0.0, 0.0, 1.0), Some(f32::MIN_POSITIVE));
        let scale = weight_scale(0.0, 5.0, 0.01).unwrap();
        assert!(quantize_bias(5.0, 0.01, scale).unsigned_abs() <= 1 << 30);
        assert_eq!(weight_scale(f64::NAN, 0.0, 1.0), None);
        assert_eq!(quantize_weight(-1.0, 0.001), -127);
        // Halves round away from zero.
        assert_eq!(
            (quantize_weight(0.75, 0.5), quantize_weight(-0.75, 0.5)),
            (2, -2)
        );
    }
}
