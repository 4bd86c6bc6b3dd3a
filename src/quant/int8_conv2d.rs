//! `Int8Conv2d`: TensorFlow Lite's int8 CONV_2D with per-channel weights.

use core::marker::PhantomData;

use super::int8_dense::{fold_bias, requantize, row_sums};
use super::{Int8Layer, Quantization, QuantizedMultiplier};
use crate::layers::conv2d_options::{Conv2dOptions, Valid, axis};
use crate::zeros::{InPlace, Zeros};

/// TensorFlow Lite's int8 `CONV_2D` on a channels-last `H × W × C_IN` image: `C_OUT` filters
/// of `KH × KW × C_IN` int8 weights (TensorFlow Lite's `OHWI` order, one scale per output
/// channel), int32 bias, stride, dilation and padding from `O` ([`Same`](crate::layers::Same)
/// for `padding="SAME"`, [`Valid`] for `"VALID"`), the output clamp of its fused activation.
/// Padding contributes nothing, as in TensorFlow Lite's reference kernel. `H_OUT × W_OUT` is
/// checked at compile time.
///
/// ```
/// use constnet::layers::Same;
/// use constnet::quant::{Int8Conv2d, Int8Layer, Quantization, QuantizedMultiplier};
/// let q = Quantization::new(1.0, 0);
/// // A 3×3 SAME box filter on a 3×3 image of ones, multiplier 1.
/// let conv = Int8Conv2d::<1, 1, 3, 3, 3, 3, 3, 3, Same>::new(
///     [[[[1]; 3]; 3]], [0], [QuantizedMultiplier::new(1 << 30, 1)], q, q, [-128, 127]);
/// let y = conv.forward(&[[[1]; 3]; 3]);
/// assert_eq!(y, [[[4], [6], [4]], [[6], [9], [6]], [[4], [6], [4]]]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Int8Conv2d<
    const C_IN: usize,
    const C_OUT: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O = Valid,
> {
    weights: [[[[i8; C_IN]; KW]; KH]; C_OUT],
    bias: [i32; C_OUT],
    multipliers: [QuantizedMultiplier; C_OUT],
    input: Quantization,
    output: Quantization,
    range: [i8; 2],
    /// `bias[o] − z_x · Σ w[o]` (padding reads as the zero point, so it adds nothing).
    folded_bias: [i32; C_OUT],
    /// `Σ w[o]`, which the VNNI kernel needs.
    weight_sums: [i32; C_OUT],
    options: PhantomData<O>,
}

/// An image `[[[i8; C]; W]; H]`.
pub type Image<const C: usize, const W: usize, const H: usize> = [[[i8; C]; W]; H];

impl<
    const C_IN: usize,
    const C_OUT: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O: Conv2dOptions,
> Int8Conv2d<C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, O>
{
    const SHAPE: () = {
        let (rows, columns) = (axis::<O>(0, H, KH), axis::<O>(1, W, KW));
        assert!(
            rows.out == H_OUT && columns.out == W_OUT,
            "Int8Conv2d: H_OUT × W_OUT differs from what the input size, kernel, stride, dilation and padding give"
        );
    };

    /// The layer from its integers: `weights[o][u][v][c]` (TensorFlow Lite's `OHWI`), the
    /// int32 bias, one multiplier per output channel, the input and output quantization and
    /// the output clamp `[min, max]`.
    pub const fn new(
        weights: [[[[i8; C_IN]; KW]; KH]; C_OUT],
        bias: [i32; C_OUT],
        multipliers: [QuantizedMultiplier; C_OUT],
        input: Quantization,
        output: Quantization,
        range: [i8; 2],
    ) -> Self {
        let () = Self::SHAPE;
        let weight_sums = row_sums(weights.as_flattened().as_flattened().as_flattened());
        let folded_bias = fold_bias(&weight_sums, &bias, input.zero_point);
        Int8Conv2d {
            weights,
            bias,
            multipliers,
            input,
            output,
            range,
            folded_bias,
            weight_sums,
            options: PhantomData,
        }
    }
}

impl<
    const C_IN: usize,
    const C_OUT: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O: Conv2dOptions,
> Int8Conv2d<C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, O>
{
    /// The layer with its multipliers computed from the per-channel weight scales (or one
    /// scale for all) as TensorFlow Lite does: `input_scale · weight_scale / output_scale` in
    /// `f64`.
    pub fn from_scales(
        weights: [[[[i8; C_IN]; KW]; KH]; C_OUT],
        bias: [i32; C_OUT],
        input: Quantization,
        weight_scales: &[f32],
        output: Quantization,
        range: [i8; 2],
    ) -> Self {
        let multipliers = core::array::from_fn(|o| {
            let scale = weight_scales[if weight_scales.len() == 1 { 0 } else { o }];
            QuantizedMultiplier::from_real(input.scale as f64 * scale as f64 / output.scale as f64)
        });
        Self::new(weights, bias, multipliers, input, output, range)
    }

    /// `weights[o][u][v][c]`.
    pub fn weights(&self) -> &[[[[i8; C_IN]; KW]; KH]; C_OUT] {
        &self.weights
    }

    /// The int32 bias.
    pub fn bias(&self) -> &[i32; C_OUT] {
        &self.bias
    }

    /// The requantization multiplier of each output channel.
    pub fn multipliers(&self) -> &[QuantizedMultiplier; C_OUT] {
        &self.multipliers
    }

    /// The output clamp `[min, max]`.
    pub fn range(&self) -> [i8; 2] {
        self.range
    }

    /// Replaces every value (the importers' write, after every check passed); `weights` is
    /// read in `OHWI` order.
    #[cfg_attr(not(feature = "tflite"), allow(dead_code))]
    pub(crate) fn set(
        &mut self,
        weights: impl Fn(usize) -> i8,
        bias: impl Fn(usize) -> i32,
        multipliers: impl Fn(usize) -> QuantizedMultiplier,
        input: Quantization,
        output: Quantization,
        range: [i8; 2],
    ) {
        let flat = self
            .weights
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut();
        for (k, w) in flat.iter_mut().enumerate() {
            *w = weights(k);
        }
        for o in 0..C_OUT {
            self.bias[o] = bias(o);
            self.multipliers[o] = multipliers(o);
        }
        self.input = input;
        self.output = output;
        self.range = range;
        self.weight_sums = row_sums(self.weights.as_flattened().as_flattened().as_flattened());
        self.folded_bias = fold_bias(&self.weight_sums, &self.bias, input.zero_point);
    }
}

impl<
    const C_IN: usize,
    const C_OUT: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O: Conv2dOptions,
> Zeros for Int8Conv2d<C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, O>
{
    fn zeros() -> Self {
        Int8Conv2d {
            weights: Zeros::zeros(),
            bias: Zeros::zeros(),
            multipliers: Zeros::zeros(),
            input: Quantization::default(),
            output: Quantization::default(),
            range: [-128, 127],
            folded_bias: Zeros::zeros(),
            weight_sums: Zeros::zeros(),
            options: PhantomData,
        }
    }

    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Int8Conv2d {
                weights: Zeros::zeros_in_place,
                bias: Zeros::zeros_in_place,
                multipliers: Zeros::zeros_in_place,
                input: Zeros::zeros_in_place,
                output: Zeros::zeros_in_place,
                range: super::quantization::full_range,
                folded_bias: Zeros::zeros_in_place,
                weight_sums: Zeros::zeros_in_place,
                options: Zeros::zeros_in_place,
            }
        )
    }
}

/// Where a window starts on one axis, and whether the whole window is inside the image.
#[inline(always)]
pub(crate) fn window_start(out: usize, stride: usize, before: usize) -> isize {
    (out * stride) as isize - before as isize
}

impl<
    const C_IN: usize,
    const C_OUT: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O: Conv2dOptions,
> Int8Layer for Int8Conv2d<C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, O>
{
    type Input = Image<C_IN, W, H>;
    type Output = Image<C_OUT, W_OUT, H_OUT>;
    type Scratch = ();

    fn input_quantization(&self) -> Quantization {
        self.input
    }

    fn output_quantization(&self) -> Quantization {
        self.output
    }

    fn forward_into(&self, x: &Self::Input, y: &mut Self::Output, _: &mut ()) {
        let () = Self::SHAPE;
        let (rows, columns) = (axis::<O>(0, H, KH), axis::<O>(1, W, KW));
        let [sh, sw] = O::STRIDE;
        let [dh, dw] = O::DILATION;
        let zero = super::clamp_i8(self.input.zero_point);
        let weights = self.weights.as_flattened().as_flattened().as_flattened();
        let mut patch = [[[zero; C_IN]; KW]; KH];
        let mut acc = [0i32; C_OUT];
        for (oy, out_row) in y.iter_mut().enumerate() {
            let y0 = window_start(oy, sh, rows.before);
            for (ox, out) in out_row.iter_mut().enumerate() {
                let x0 = window_start(ox, sw, columns.before);
                let pixel: &[i8] = if KH == 1
                    && KW == 1
                    && y0 >= 0
                    && x0 >= 0
                    && (y0 as usize) < H
                    && (x0 as usize) < W
                {
                    &x[y0 as usize][x0 as usize]
                } else {
                    for (u, patch_row) in patch.iter_mut().enumerate() {
                        let iy = y0 + (u * dh) as isize;
                        for (v, tap) in patch_row.iter_mut().enumerate() {
                            let ix = x0 + (v * dw) as isize;
                            *tap = if iy >= 0 && ix >= 0 && (iy as usize) < H && (ix as usize) < W {
                                x[iy as usize][ix as usize]
                            } else {
                                [zero; C_IN]
                            };
                        }
                    }
                    patch.as_flattened().as_flattened()
                };
                crate::kernel::int8_matvec(pixel, weights, &self.weight_sums, &mut acc);
                for o in 0..C_OUT {
                    let total = acc[o].wrapping_add(self.folded_bias[o]);
                    out[o] = requantize(
                        total,
                        self.multipliers[o],
                        self.output.zero_point,
                        self.range,
                    );
                }
            }
        }
    }
}
