//! A tensor's affine quantization (`real = scale · (q − zero_point)`) and the clamps a fused
//! activation gives an int8 output.

/// The affine quantization of an int8 tensor: `real = scale · (q − zero_point)`.
///
/// ```
/// use constnet::quant::Quantization;
/// let q = Quantization::new(0.5, -10);
/// assert_eq!(q.quantize(1.0), Some(-8));
/// assert_eq!(q.dequantize(-8), 1.0);
/// assert_eq!(q.quantize(1000.0), Some(127)); // saturates
/// assert_eq!(q.quantize(f32::NAN), None); // a NaN has no int8 value
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Quantization {
    /// The real value of one step.
    pub scale: f32,
    /// The integer that stands for real zero.
    pub zero_point: i32,
}

impl Quantization {
    /// A quantization from its scale and zero point.
    pub const fn new(scale: f32, zero_point: i32) -> Self {
        Quantization { scale, zero_point }
    }

    /// TensorFlow Lite's QUANTIZE for int8: `zero_point + round(x / scale)` (half away from
    /// zero, in `f32`), saturated to `[-128, 127]`; `None` for a NaN, which has no int8 value
    /// (TensorFlow Lite's cast of a NaN is undefined: constnet never turns one into a number).
    pub fn quantize(self, x: f32) -> Option<i8> {
        let q = libm_crate::roundf(x / self.scale);
        if q.is_nan() {
            return None;
        }
        let q = q.clamp(-1.0e9, 1.0e9);
        Some(clamp_i8(self.zero_point.saturating_add(q as i32)))
    }

    /// [`quantize`](Quantization::quantize) of every value of `x` into `out` (TensorFlow
    /// Lite's QUANTIZE at a float model's input); `Err` names the first NaN, and `out` is then
    /// only partly written. Panics when the lengths differ.
    ///
    /// ```
    /// use constnet::quant::{NanInput, Quantization};
    /// let q = Quantization::new(0.5, 0);
    /// let mut out = [0i8; 3];
    /// q.quantize_slice(&[1.0, -2.0, 100.0], &mut out).unwrap();
    /// assert_eq!(out, [2, -4, 127]);
    /// assert_eq!(q.quantize_slice(&[0.0, f32::NAN, 1.0], &mut out), Err(NanInput { index: 1 }));
    /// ```
    pub fn quantize_slice(self, x: &[f32], out: &mut [i8]) -> Result<(), NanInput> {
        assert_eq!(x.len(), out.len(), "quantize_slice: lengths differ");
        for (index, (o, &v)) in out.iter_mut().zip(x).enumerate() {
            *o = self.quantize(v).ok_or(NanInput { index })?;
        }
        Ok(())
    }

    /// [`dequantize`](Quantization::dequantize) of every value (TensorFlow Lite's DEQUANTIZE at
    /// a float model's output). Panics when the lengths differ.
    pub fn dequantize_slice(self, q: &[i8], out: &mut [f32]) {
        assert_eq!(q.len(), out.len(), "dequantize_slice: lengths differ");
        for (o, &v) in out.iter_mut().zip(q) {
            *o = self.dequantize(v);
        }
    }

    /// TensorFlow Lite's DEQUANTIZE: `scale · (q − zero_point)` in `f32`.
    pub fn dequantize(self, q: i8) -> f32 {
        (q as i32 - self.zero_point) as f32 * self.scale
    }

    /// Same bits (scale compared bit for bit, as TensorFlow Lite compares tensors' parameters).
    pub fn same_as(self, other: Quantization) -> bool {
        self.scale.to_bits() == other.scale.to_bits() && self.zero_point == other.zero_point
    }
}

/// A NaN in a float tensor to quantize: int8 has no value for it, so it is refused rather
/// than turned into a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NanInput {
    /// Where the (first) NaN is.
    pub index: usize,
}

impl core::fmt::Display for NanInput {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "input value {} is NaN, which has no int8 value",
            self.index
        )
    }
}

/// `x` saturated to `i8`.
#[inline(always)]
pub(crate) const fn clamp_i8(x: i32) -> i8 {
    if x < -128 {
        -128
    } else if x > 127 {
        127
    } else {
        x as i8
    }
}

/// The activation fused into an int8 operator's output, as TensorFlow Lite's
/// `fused_activation_function`: it only narrows the output's clamp.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FusedActivation {
    /// Clamp to `[-128, 127]`.
    #[default]
    None,
    /// Clamp below at the zero point (real 0).
    Relu,
    /// Clamp to the quantized `[0, 6]`.
    Relu6,
}

/// The inclusive `[min, max]` an int8 output is clamped to (TensorFlow Lite's
/// `CalculateActivationRangeQuantized`: `zero_point + round(v / scale)` in `f32`, half away
/// from zero, intersected with `[-128, 127]`).
///
/// ```
/// use constnet::quant::{FusedActivation, Quantization, activation_range};
/// let out = Quantization::new(0.05, -128);
/// assert_eq!(activation_range(FusedActivation::Relu6, out), [-128, -8]);
/// assert_eq!(activation_range(FusedActivation::None, out), [-128, 127]);
/// ```
pub fn activation_range(activation: FusedActivation, output: Quantization) -> [i8; 2] {
    let quantize = |v: f32| {
        let q = libm_crate::roundf(v / output.scale);
        let q = if q.is_nan() {
            0.0
        } else {
            q.clamp(-1.0e9, 1.0e9)
        };
        output.zero_point.saturating_add(q as i32)
    };
    match activation {
        FusedActivation::None => [-128, 127],
        FusedActivation::Relu => [clamp_i8(quantize(0.0).max(-128)), 127],
        FusedActivation::Relu6 => [
            clamp_i8(quantize(0.0).max(-128)),
            clamp_i8(quantize(6.0).min(127)),
        ],
    }
}

/// Writes the unclamped range `[-128, 127]` in place (a layer's `zeros_in_place`).
pub(crate) fn full_range(
    slot: &mut core::mem::MaybeUninit<[i8; 2]>,
) -> crate::zeros::InPlace<'_, [i8; 2]> {
    crate::zeros::InPlace::write(slot, [-128, 127])
}
