//! `Int8DepthwiseConv2d`: TensorFlow Lite's int8 DEPTHWISE_CONV_2D.

use core::marker::PhantomData;

use super::int8_conv2d::Image;
use super::{Int8Layer, Quantization, QuantizedMultiplier};
use crate::layers::conv2d_options::{Valid, axis};
use crate::zeros::{InPlace, Zeros};

/// TensorFlow Lite's int8 `DEPTHWISE_CONV_2D`: output channel `o` filters input channel
/// `o / M` (depth multiplier `M = C_OUT / C_IN`) with its own `KH × KW` int8 weights
/// (TensorFlow Lite's `[1, KH, KW, C_OUT]` order, one scale per output channel), int32 bias,
/// geometry from `O`, the output clamp of its fused activation.
///
/// ```
/// use constnet::layers::Same;
/// use constnet::quant::{Int8DepthwiseConv2d, Int8Layer, Quantization, QuantizedMultiplier};
/// let q = Quantization::new(1.0, 0);
/// let one = QuantizedMultiplier::new(1 << 30, 1);
/// // Channel 0 sums its 3×3 window, channel 1 keeps the centre.
/// let mut weights = [[[1, 0]; 3]; 3];
/// weights[1][1] = [1, 1];
/// let conv = Int8DepthwiseConv2d::<2, 2, 3, 3, 2, 2, 2, 2, Same>::new(
///     weights, [0, 0], [one; 2], q, q, [-128, 127]);
/// let y = conv.forward(&[[[1, 5], [2, 6]], [[3, 7], [4, 8]]]);
/// assert_eq!(y, [[[10, 5], [10, 6]], [[10, 7], [10, 8]]]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Int8DepthwiseConv2d<
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
    weights: [[[i8; C_OUT]; KW]; KH],
    bias: [i32; C_OUT],
    multipliers: [QuantizedMultiplier; C_OUT],
    input: Quantization,
    output: Quantization,
    range: [i8; 2],
    /// `bias[o] − z_x · Σ_taps w[·][·][o]`.
    folded_bias: [i32; C_OUT],
    options: PhantomData<O>,
}

/// `bias[o] − zero_point · Σ_{u,v} w[u][v][o]`.
const fn fold_depthwise<const C_OUT: usize, const KW: usize, const KH: usize>(
    weights: &[[[i8; C_OUT]; KW]; KH],
    bias: &[i32; C_OUT],
    zero_point: i32,
) -> [i32; C_OUT] {
    let mut folded = *bias;
    let mut o = 0;
    while o < C_OUT {
        let mut sum = 0i32;
        let mut u = 0;
        while u < KH {
            let mut v = 0;
            while v < KW {
                sum = sum.wrapping_add(weights[u][v][o] as i32);
                v += 1;
            }
            u += 1;
        }
        folded[o] = bias[o].wrapping_sub(zero_point.wrapping_mul(sum));
        o += 1;
    }
    folded
}

crate::quant::int8_window_impl!(impl[] Int8DepthwiseConv2d {
    const SHAPE: () = {
        let (rows, columns) = (axis::<O>(0, H, KH), axis::<O>(1, W, KW));
        assert!(
            rows.out == H_OUT && columns.out == W_OUT,
            "Int8DepthwiseConv2d: H_OUT × W_OUT differs from what the input size, kernel, stride, dilation and padding give"
        );
        assert!(
            C_IN > 0 && C_OUT.is_multiple_of(C_IN),
            "Int8DepthwiseConv2d: C_OUT must be a multiple of C_IN (the depth multiplier)"
        );
    };

    /// The layer from its integers: `weights[u][v][o]` (TensorFlow Lite's `[1, KH, KW,
    /// C_OUT]`), the int32 bias, one multiplier per output channel, the input and output
    /// quantization and the output clamp `[min, max]`.
    pub const fn new(
        weights: [[[i8; C_OUT]; KW]; KH],
        bias: [i32; C_OUT],
        multipliers: [QuantizedMultiplier; C_OUT],
        input: Quantization,
        output: Quantization,
        range: [i8; 2],
    ) -> Self {
        let () = Self::SHAPE;
        let folded_bias = fold_depthwise(&weights, &bias, input.zero_point);
        Int8DepthwiseConv2d {
            weights,
            bias,
            multipliers,
            input,
            output,
            range,
            folded_bias,
            options: PhantomData,
        }
    }

    /// `weights[u][v][o]`.
    pub fn weights(&self) -> &[[[i8; C_OUT]; KW]; KH] {
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

    /// Replaces every value (the importers' write); `weights` is read in `[KH, KW, C_OUT]`
    /// order.
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
        for (k, w) in self
            .weights
            .as_flattened_mut()
            .as_flattened_mut()
            .iter_mut()
            .enumerate()
        {
            *w = weights(k);
        }
        for o in 0..C_OUT {
            self.bias[o] = bias(o);
            self.multipliers[o] = multipliers(o);
        }
        self.input = input;
        self.output = output;
        self.range = range;
        self.folded_bias = fold_depthwise(&self.weights, &self.bias, input.zero_point);
    }
});

crate::quant::int8_window_impl!(impl[] Zeros for Int8DepthwiseConv2d {
    fn zeros() -> Self {
        Int8DepthwiseConv2d {
            weights: Zeros::zeros(),
            bias: Zeros::zeros(),
            multipliers: Zeros::zeros(),
            input: Quantization::default(),
            output: Quantization::default(),
            range: [-128, 127],
            folded_bias: Zeros::zeros(),
            options: PhantomData,
        }
    }

    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Int8DepthwiseConv2d {
                weights: Zeros::zeros_in_place,
                bias: Zeros::zeros_in_place,
                multipliers: Zeros::zeros_in_place,
                input: Zeros::zeros_in_place,
                output: Zeros::zeros_in_place,
                range: super::quantization::full_range,
                folded_bias: Zeros::zeros_in_place,
                options: Zeros::zeros_in_place,
            }
        )
    }
});

crate::quant::int8_window_impl!(impl[] Int8Layer for Int8DepthwiseConv2d {
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
        let padding = [super::clamp_i8(self.input.zero_point); C_IN];
        let image = crate::kernel::DepthwiseImage {
            image: x.as_flattened().as_flattened(),
            padding: &padding,
            height: H,
            width: W,
            out_width: W_OUT,
            outputs: H_OUT * W_OUT,
            stride: O::STRIDE,
            dilation: O::DILATION,
            before: [rows.before, columns.before],
        };
        let outputs = y.as_flattened_mut();
        let mut acc = [[0i32; C_OUT]; crate::kernel::DEPTHWISE_SPAN];
        // The kernel's span of output pixels (row-major, across rows) at a time, requantized
        // together.
        crate::kernel::int8_depthwise::<C_IN, C_OUT, KH, KW>(
            &image,
            &self.weights,
            &mut acc,
            |first, span| {
                super::fixed_point::requantize_channels(
                    span.as_flattened(),
                    &self.folded_bias,
                    &self.multipliers,
                    self.output.zero_point,
                    self.range,
                    outputs[first..first + span.len()].as_flattened_mut(),
                );
            },
        );
    }
});
