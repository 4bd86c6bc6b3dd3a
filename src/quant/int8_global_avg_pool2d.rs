//! `Int8GlobalAvgPool2d`: TensorFlow Lite's int8 MEAN over height and width.

use core::marker::PhantomData;

use super::int8_conv2d::Image;
use super::{Int8Layer, Quantization, QuantizedMultiplier, clamp_i8};
use crate::zeros::Zeros;

/// Which of TensorFlow Lite's integer MEAN kernels an [`Int8GlobalAvgPool2d`] reproduces.
/// LiteRT's reference kernels (the contract the importer follows) always use
/// [`Rescaled`](MeanKernel::Rescaled); the other two are the special cases of older
/// TensorFlow Lite reference code, which other runtimes derived from it may still take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MeanKernel {
    /// The sum minus the zero points, requantized by `input_scale / output_scale` with the
    /// `1 / count` folded into the multiplier (LiteRT's `QuantizedMeanOrSum`).
    #[default]
    Rescaled,
    /// Input and output share their quantization: the sum of the raw values divided by the
    /// count, truncated toward zero.
    SameQuantization,
    /// The 4-D `keep_dims` kernel: the sum minus the zero points, requantized by
    /// `input_scale / output_scale`, then divided by the count with rounding half away from
    /// zero.
    KeepDims,
}

/// TensorFlow Lite's int8 `MEAN` over the height and width of a channels-last image (Keras's
/// `GlobalAveragePooling2D`), output `[i8; C]`.
///
/// ```
/// use constnet::quant::{Int8GlobalAvgPool2d, Int8Layer, MeanKernel, Quantization};
/// let q = Quantization::new(0.1, 0);
/// let pool = Int8GlobalAvgPool2d::<1, 2, 2>::new(q, q, MeanKernel::Rescaled);
/// assert_eq!(pool.forward(&[[[1], [-4]], [[7], [3]]]), [2]); // 7 / 4 rounded
/// let older = Int8GlobalAvgPool2d::<1, 2, 2>::new(q, q, MeanKernel::SameQuantization);
/// assert_eq!(older.forward(&[[[1], [-4]], [[7], [3]]]), [1]); // 7 / 4 truncated
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Int8GlobalAvgPool2d<const C: usize, const H: usize, const W: usize> {
    input: Quantization,
    output: Quantization,
    kernel: MeanKernel,
    multiplier: QuantizedMultiplier,
    shape: PhantomData<[(); C]>,
}

impl<const C: usize, const H: usize, const W: usize> Int8GlobalAvgPool2d<C, H, W> {
    /// The mean from its input and output quantization and the kernel to reproduce; the
    /// multiplier `input_scale / output_scale` is computed in `f64` as TensorFlow Lite does.
    pub fn new(input: Quantization, output: Quantization, kernel: MeanKernel) -> Self {
        let multiplier = QuantizedMultiplier::from_real(input.scale as f64 / output.scale as f64);
        Self::with_multiplier(input, output, kernel, multiplier)
    }

    /// The mean with its multiplier given (as baked into generated source).
    pub const fn with_multiplier(
        input: Quantization,
        output: Quantization,
        kernel: MeanKernel,
        multiplier: QuantizedMultiplier,
    ) -> Self {
        Int8GlobalAvgPool2d {
            input,
            output,
            kernel,
            multiplier,
            shape: PhantomData,
        }
    }

    /// The kernel this mean reproduces.
    pub fn kernel(&self) -> MeanKernel {
        self.kernel
    }

    /// The requantization multiplier `input_scale / output_scale`.
    pub fn multiplier(&self) -> QuantizedMultiplier {
        self.multiplier
    }

    #[cfg_attr(not(feature = "tflite"), allow(dead_code))]
    #[cfg_attr(not(feature = "tflite"), allow(dead_code))]
    pub(crate) fn set(&mut self, other: Self) {
        *self = other;
    }
}

impl<const C: usize, const H: usize, const W: usize> Zeros for Int8GlobalAvgPool2d<C, H, W> {
    fn zeros() -> Self {
        Self::with_multiplier(
            Quantization::default(),
            Quantization::default(),
            MeanKernel::default(),
            QuantizedMultiplier::default(),
        )
    }
}

impl<const C: usize, const H: usize, const W: usize> Int8Layer for Int8GlobalAvgPool2d<C, H, W> {
    type Input = Image<C, W, H>;
    type Output = [i8; C];
    type Scratch = ();

    fn input_quantization(&self) -> Quantization {
        self.input
    }

    fn output_quantization(&self) -> Quantization {
        self.output
    }

    fn forward_into(&self, x: &Self::Input, y: &mut [i8; C], _: &mut ()) {
        let mut sums = [0i32; C];
        for pixel in x.as_flattened() {
            for (s, &p) in sums.iter_mut().zip(pixel) {
                *s = s.wrapping_add(p as i32);
            }
        }
        let count = (H * W) as i64;
        let zero_in = self.input.zero_point;
        let zero_out = self.output.zero_point;
        match self.kernel {
            MeanKernel::SameQuantization => {
                for (out, &s) in y.iter_mut().zip(&sums) {
                    *out = if count == 0 {
                        0
                    } else {
                        (s as i64 / count) as i8
                    };
                }
            }
            MeanKernel::Rescaled => {
                // TensorFlow Lite folds 1 / count into the multiplier.
                let m = self.multiplier;
                let mut shift = 63 - (count.max(1) as u64).leading_zeros() as i32;
                shift = shift.min(32).min(31 + m.shift);
                let folded = QuantizedMultiplier::new(
                    (((m.multiplier as i64) << shift) / count.max(1)) as i32,
                    m.shift - shift,
                );
                for (out, &s) in y.iter_mut().zip(&sums) {
                    let shifted = (s as i64 - zero_in as i64 * count) as i32;
                    *out = clamp_i8(folded.apply(shifted).wrapping_add(zero_out));
                }
            }
            MeanKernel::KeepDims => {
                let n = count.max(1) as i32;
                for (out, &s) in y.iter_mut().zip(&sums) {
                    let acc = self
                        .multiplier
                        .apply(s.wrapping_sub(zero_in.wrapping_mul(n)));
                    let acc = if acc > 0 {
                        (acc + n / 2) / n
                    } else {
                        (acc - n / 2) / n
                    };
                    *out = clamp_i8(acc.wrapping_add(zero_out));
                }
            }
        }
    }
}
