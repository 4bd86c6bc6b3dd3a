//! `Fusable`: the activations an int8 layer can apply by clamping its output.

use crate::activations::{Identity, Pointwise, Relu, Relu6};
use crate::quant::FusedActivation;

/// An activation that an int8 layer applies by clamping its output (TensorFlow Lite's
/// `fused_activation_function`): [`Identity`], [`Relu`] and [`Relu6`]. Other activations
/// (`Tanh`, `Sigmoid`, `Gelu`, ...) have no int8 form here, so a layer using one does not
/// implement [`Quantize`](super::Quantize): quantizing its network does not compile.
///
/// ```compile_fail
/// use constnet::quant::quantize;
/// use constnet::{Dense, Tanh, Zeros, seq};
/// type Net = seq![Dense<4, 8, Tanh>, Dense<8, 2>];
/// let _ = quantize(&Net::zeros(), &[[0.0; 4]]);
/// ```
/// ```
/// use constnet::quant::quantize;
/// use constnet::{Dense, Relu, Zeros, seq};
/// type Net = seq![Dense<4, 8, Relu>, Dense<8, 2>];
/// let _ = quantize(&Net::zeros(), &[[0.0; 4]]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no int8 form: an int8 layer fuses only Identity, Relu and Relu6",
    label = "this activation cannot be quantized",
    note = "post-training quantization (constnet::quant::quantize) clamps int8 outputs for Relu and Relu6; train with one of them to quantize the network"
)]
pub trait Fusable: Pointwise {
    /// The clamp the int8 layer applies.
    const FUSED: FusedActivation;
}

impl Fusable for Identity {
    const FUSED: FusedActivation = FusedActivation::None;
}

impl Fusable for Relu {
    const FUSED: FusedActivation = FusedActivation::Relu;
}

impl Fusable for Relu6 {
    const FUSED: FusedActivation = FusedActivation::Relu6;
}
