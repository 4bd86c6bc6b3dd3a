//! # constnet
//!
//! Neural networks whose shapes are checked at compile time.
//!
//! Layers are generic over their sizes (`Dense<IN, OUT, Activation, Scalar>`), weights live in
//! plain fixed-size arrays, and a network only type-checks when each layer's output size is the
//! next one's input size. Gradients and optimizer state have the model's own type, so an
//! optimizer built for another network is a compile error too.
//!
//! Weights go in and out through [`io`]: a checked own format (also without `std`),
//! training checkpoints, PyTorch's safetensors (feature `safetensors`) and Rust source for
//! networks baked into a binary. [`memory`] lists what every value costs in bytes.
//!
//! ```
//! use constnet::{Dense, Layer, Tanh, Zeros, seq};
//! type Net = seq![Dense<2, 8, Tanh, f64>, Dense<8, 1, constnet::Identity, f64>];
//! let net = Net::zeros();
//! let y: [f64; 1] = net.forward(&[0.5, -0.5]);
//! assert_eq!(y, [0.0]);
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![forbid(unsafe_op_in_unsafe_fn)]

#[cfg(feature = "std")]
extern crate alloc;

#[cfg(not(any(feature = "std", feature = "libm")))]
compile_error!(
    "constnet needs floating-point math: enable the `std` feature (default) or, without std, the `libm` feature"
);

pub mod activations;
mod chain;
mod chain_layer;
#[cfg(feature = "std")]
pub mod cpu;
mod ctx;
pub mod fit;
pub mod init;
pub mod io;
#[allow(unsafe_code)] // the only module whose source has `unsafe`: see its docs
mod kernel;
mod layer;
pub mod layers;
pub mod loss;
pub mod memory;
mod named;
pub mod optim;
#[cfg(feature = "std")]
pub mod parallel;
mod params;
pub mod prelude;
pub mod quant;
mod rng;
mod scalar;
pub mod shape_errors;
mod stream;
pub mod testing;
mod zeros;

pub use activations::{
    ActivationFn, Elu, Gelu, GeluTanh, Identity, LeakyRelu, Pointwise, Relu, Relu6, Sigmoid, Silu,
    Softmax, Softplus, Tanh,
};
pub use chain::Chain;
pub use chain_layer::{ChainCache, Follows, Meets};
pub use ctx::TrainCtx;
#[cfg(feature = "safetensors")]
pub use io::safetensors;
#[cfg(feature = "tflite")]
pub use io::tflite;
pub use kernel::ZeroBits;
#[cfg(feature = "std")]
pub use kernel::zeroed_box;
pub use kernel::{SimdLevel, simd_level};
pub use layer::{Layer, SampleCaches};
#[allow(deprecated)]
pub use layers::Activation;
pub use layers::{
    ActivationCache, ActivationLayer, ActivationMap, AvgPool2d, BatchNorm, BatchNorm2d,
    BatchNormCache, CausalConv1d, Conv1d, Conv1dCache, Conv1dHistory, Conv1dStream, Conv2d,
    Conv2dCache, Conv2dOptions, Dense, DenseBatchCache, DenseCache, DepthwiseConv1d,
    DepthwiseConv2d, Dropout, DropoutCache, Flatten, GlobalAvgPool1d, GlobalAvgPool2d,
    GlobalMaxPool1d, LastFrame, LayerNorm, LayerNormCache, MaxPool2d, NoBias, Padded, Residual,
    Same, Skip, SoftmaxLayer, Valid,
};
pub use layers::{AllStates, Gru, GruSequence, GruState, LastState, Lstm, LstmSequence, LstmState};
pub use named::{Layout, Named, Setting, SettingMut, Shape, TensorInfo};
pub use params::{Params, TensorKind, TensorShape};
pub use rng::TrainRng;
pub use scalar::Scalar;
pub use stream::Stream;
pub use zeros::{InPlace, Zeros};

/// What the crate's macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    #[allow(deprecated)]
    pub use crate::kernel::{impl_zero_bits_without_unsafe, require_zero_bits};
}

/// The README's code blocks, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
