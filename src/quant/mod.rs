//! Int8 inference with TensorFlow Lite's integer arithmetic, exactly.
//!
//! The layers here are the int8 twins of the float ones, with the semantics of TensorFlow
//! Lite's reference kernels (LiteRT's `BUILTIN_REF`; after
//! [`use_fixed_point`](Int8Layer::use_fixed_point), TensorFlow Lite Micro's, which differ only
//! in how `FULLY_CONNECTED` rounds; both tested value for value): int8 activations with a scale
//! and zero point ([`Quantization`]), int8 weights with zero point 0 (per output channel),
//! int32 biases and accumulators, and requantization by a fixed-point multiplier
//! ([`QuantizedMultiplier`]). Between an int8 input and an int8 output only integers are used,
//! nothing is allocated, and everything works without `std`.
//!
//! | TensorFlow Lite operator | layer |
//! |---|---|
//! | `FULLY_CONNECTED` | [`Int8Dense`] |
//! | `CONV_2D` | [`Int8Conv2d`] |
//! | `DEPTHWISE_CONV_2D` | [`Int8DepthwiseConv2d`] (the [`Int8Conv2d`] with one input channel per group) |
//! | `MAX_POOL_2D`, `AVERAGE_POOL_2D` | [`Int8MaxPool2d`], [`Int8AvgPool2d`] |
//! | `MEAN` over height and width | [`Int8GlobalAvgPool2d`] |
//! | `ADD` of a block and its shortcut | [`Int8Residual`] ([`Int8Add`], [`Int8Skip`]) |
//! | `RESHAPE` | [`Int8Reshape`] |
//! | `QUANTIZE`, `DEQUANTIZE` at a float model's edges | [`Quantization::quantize_slice`] (a NaN is an `Err`), [`Quantization::dequantize_slice`] |
//!
//! Networks are [`Int8Chain`]s, named with [`int8_seq!`](crate::int8_seq); images are
//! channels-last (`[[[i8; C]; W]; H]`), TensorFlow Lite's NHWC order, so a model's flattened
//! input is the network's input as it lies in memory.
//!
//! With `std`, a trained `f32` network becomes one of these by post-training quantization
//! with TensorFlow Lite's scheme: `quantize(&net, &calibration)` returns the boxed
//! `<Net as Quantize>::Int8` (calibrated int8 activations, per-channel int8 weights, BatchNorm
//! and ReLU layers folded in), `to_rust` writes an int8 network as Rust source, and
//! (feature `tflite`) `tflite::to_bytes` as a `.tflite` file.

/// Writes an impl block of [`Int8Conv2d`] with its ten generic parameters (`C_IN, C_OUT, KH,
/// KW, H, W, H_OUT, W_OUT, O: Conv2dOptions, CG`) stated once: `int8_window_impl!(impl[]
/// Int8Conv2d { ... })` for inherent items, `int8_window_impl!(impl[] Trait for Int8Conv2d {
/// ... })` for a trait.
macro_rules! int8_window_impl {
    (impl[$($extra:tt)*] $($tr:ident)::+ for $ty:ident { $($body:tt)* }) => {
        impl<
            const C_IN: usize,
            const C_OUT: usize,
            const KH: usize,
            const KW: usize,
            const H: usize,
            const W: usize,
            const H_OUT: usize,
            const W_OUT: usize,
            O: $crate::layers::Conv2dOptions,
            const CG: usize,
            $($extra)*
        > $($tr)::+ for $ty<C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, O, CG> {
            $($body)*
        }
    };
    (impl[$($extra:tt)*] $ty:ident { $($body:tt)* }) => {
        impl<
            const C_IN: usize,
            const C_OUT: usize,
            const KH: usize,
            const KW: usize,
            const H: usize,
            const W: usize,
            const H_OUT: usize,
            const W_OUT: usize,
            O: $crate::layers::Conv2dOptions,
            const CG: usize,
            $($extra)*
        > $ty<C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, O, CG> {
            $($body)*
        }
    };
}
pub(crate) use int8_window_impl;

mod fixed_point;
mod int8_chain;
mod int8_conv2d;
mod int8_dense;
mod int8_depthwise_conv2d;
mod int8_global_avg_pool2d;
mod int8_layer;
mod int8_pool2d;
mod int8_reshape;
mod int8_residual;
#[cfg(feature = "std")]
mod ptq;
mod quantization;
#[cfg(feature = "std")]
mod rust_source;

pub use fixed_point::{
    ExactScale, QuantizedMultiplier, Requantize, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
};
pub(crate) use fixed_point::{convolution_multiplier, dense_scale};
pub use int8_chain::{Int8Chain, Int8ChainScratch};
pub use int8_conv2d::{Image, Int8Conv2d};
pub use int8_dense::Int8Dense;
pub use int8_depthwise_conv2d::Int8DepthwiseConv2d;
pub use int8_global_avg_pool2d::{Int8GlobalAvgPool2d, MeanKernel};
pub use int8_layer::{Int8Layer, QuantizationMismatch};
pub use int8_pool2d::{Int8AvgPool2d, Int8MaxPool2d, Int8Pool2d, Int8PoolKind};
pub use int8_reshape::{Int8Reshape, Int8Tensor};
pub use int8_residual::{Int8Add, Int8Residual, Int8ResidualScratch, Int8Skip};
#[cfg(feature = "std")]
pub use ptq::{F32Tensor, Folded, Fusable, Quantize, QuantizeError, Then, quantize};
pub(crate) use quantization::clamp_i8;
pub use quantization::{FusedActivation, NanInput, Quantization, activation_range};
#[cfg(feature = "std")]
pub use rust_source::to_rust;

impl crate::zeros::Zeros for Quantization {
    fn zeros() -> Self {
        Quantization::default()
    }
}

impl crate::zeros::Zeros for Requantize {
    fn zeros() -> Self {
        Requantize::default()
    }
}

impl crate::zeros::Zeros for QuantizedMultiplier {
    fn zeros() -> Self {
        QuantizedMultiplier::default()
    }
}

/// `T`'s zero value in a new box, built in place (nothing of `T`'s size on the stack): a
/// large network's [`Scratch`](Int8Layer::Scratch), or the network itself before
/// `tflite::load_into` (feature `tflite`) fills it.
#[cfg(feature = "std")]
pub fn boxed_zeros<T: crate::zeros::Zeros>() -> Box<T> {
    crate::kernel::boxed_zeros()
}
