//! `Int8DepthwiseConv2d`: TensorFlow Lite's int8 DEPTHWISE_CONV_2D, the [`Int8Conv2d`] with
//! one input channel per filter, and its forward pass.

use super::int8_conv2d::{Image, Int8Conv2d};
use crate::layers::conv2d_options::{Valid, axis};

/// TensorFlow Lite's int8 `DEPTHWISE_CONV_2D`: output channel `o` filters input channel
/// `o / M` (depth multiplier `M = C_OUT / C_IN`) with its own `KH × KW` int8 weights (one
/// scale per output channel), int32 bias, geometry from `O`, the output clamp of its fused
/// activation. It is the [`Int8Conv2d`] with `CG = 1`, as the float
/// [`DepthwiseConv2d`](crate::DepthwiseConv2d) is the [`Conv2d`](crate::Conv2d) with `CG = 1`:
/// its weights are given and read in `OHWI` order (`weights[o][u][v][0]`, TensorFlow Lite's
/// `[1, KH, KW, C_OUT]` transposed) and kept in TensorFlow Lite's order, the channels of a
/// tap side by side for the depthwise kernel.
///
/// ```
/// use constnet::layers::Same;
/// use constnet::quant::{Int8DepthwiseConv2d, Int8Layer, Quantization, QuantizedMultiplier};
/// let q = Quantization::new(1.0, 0);
/// let one = QuantizedMultiplier::new(1 << 30, 1);
/// // Channel 0 sums its 3×3 window, channel 1 keeps the centre.
/// let weights = [[[[1]; 3]; 3], [[[0]; 3], [[0], [1], [0]], [[0]; 3]]];
/// let conv = Int8DepthwiseConv2d::<2, 2, 3, 3, 2, 2, 2, 2, Same>::new(
///     weights, [0, 0], [one; 2], q, q, [-128, 127]);
/// let y = conv.forward(&[[[1, 5], [2, 6]], [[3, 7], [4, 8]]]);
/// assert_eq!(y, [[[10, 5], [10, 6]], [[10, 7], [10, 8]]]);
/// ```
pub type Int8DepthwiseConv2d<
    const C_IN: usize,
    const C_OUT: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O = Valid,
> = Int8Conv2d<C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, O, 1>;

crate::quant::int8_window_impl!(impl[] Int8Conv2d {
    /// The forward pass of a depthwise convolution (`CG = 1`, `C_IN > 1`): the depthwise
    /// kernel's span of output pixels (row-major, across rows) at a time, requantized
    /// together.
    pub(super) fn depthwise_forward(
        &self,
        x: &Image<C_IN, W, H>,
        y: &mut Image<C_OUT, W_OUT, H_OUT>,
    ) {
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
        // The weights as kept: `KH × KW` taps of `C_OUT` channels.
        let flat = self.weights.as_flattened().as_flattened().as_flattened();
        let (taps, _) = flat.as_chunks::<C_OUT>();
        let (tap_rows, _) = taps.as_chunks::<KW>();
        let Ok(weights) = <&[[[i8; C_OUT]; KW]; KH]>::try_from(tap_rows) else {
            unreachable!("KH·KW·C_OUT weights make KH rows of KW taps")
        };
        let outputs = y.as_flattened_mut();
        let mut acc = [[0i32; C_OUT]; crate::kernel::DEPTHWISE_SPAN];
        crate::kernel::int8_depthwise::<C_IN, C_OUT, KH, KW>(
            &image,
            weights,
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
