//! `Quantize`: a float layer with an int8 twin, and `quantize`, post-training quantization of
//! a whole network from calibration samples.

use std::boxed::Box;
use std::vec;

use super::error::QuantizeError;
use super::f32_tensor::F32Tensor;
use super::scheme::Range;
use super::walk::{Fold, Folds, Next, Walk};
use crate::layer::Layer;
use crate::quant::Int8Layer;
use crate::zeros::Zeros;

/// A float layer (or network) that [`quantize`] turns into int8: its int8 twin is the type
/// [`Int8`](Quantize::Int8), so `<Net as Quantize>::Int8` names a trained network's int8
/// form.
///
/// Implemented for `f32` layers whose int8 form exists in [`crate::quant`]:
///
/// | float layer | int8 layer |
/// |---|---|
/// | [`Dense`](crate::Dense) (`Identity`, `Relu`, `Relu6`) | [`Int8Dense`](crate::quant::Int8Dense) |
/// | [`Conv2d`](crate::Conv2d) (`CG = C_IN`, or `CG = 1`: [`DepthwiseConv2d`](crate::DepthwiseConv2d); `Identity`, `Relu`, `Relu6`) | [`Int8Conv2d`](crate::quant::Int8Conv2d) ([`Int8DepthwiseConv2d`](crate::quant::Int8DepthwiseConv2d)) |
/// | [`MaxPool2d`](crate::MaxPool2d), [`AvgPool2d`](crate::AvgPool2d) (windows inside the image) | [`Int8MaxPool2d`](crate::quant::Int8MaxPool2d), [`Int8AvgPool2d`](crate::quant::Int8AvgPool2d) |
/// | [`GlobalAvgPool2d`](crate::GlobalAvgPool2d) | [`Int8GlobalAvgPool2d`](crate::quant::Int8GlobalAvgPool2d) |
/// | [`Flatten`](crate::Flatten) before a `Dense` | [`Int8Reshape`](crate::quant::Int8Reshape) |
/// | [`Residual`](crate::Residual) (`Identity`, `Relu`, `Relu6`), [`Skip`](crate::Skip) | [`Int8Residual`](crate::quant::Int8Residual), [`Int8Skip`](crate::quant::Int8Skip) |
/// | [`BatchNorm`](crate::BatchNorm), [`BatchNorm2d`](crate::BatchNorm2d) after a `Dense` or `Conv2d` | [`Folded`](crate::quant::Folded) into its weights and bias |
/// | [`ActivationLayer`](crate::ActivationLayer), [`ActivationMap`](crate::ActivationMap) (`Relu`, `Relu6`) | [`Folded`](crate::quant::Folded) into the output clamp of the layer before |
/// | [`Chain`](crate::Chain) (`seq!`) | its layers' twins chained by [`Then`](crate::quant::Then) |
///
/// Other layers (recurrent, 1-d, `LayerNorm`, ...) and other activations
/// ([`Fusable`](crate::quant::Fusable)) have no int8 form here: a network holding one does not
/// implement `Quantize`. Where a layer stands is checked when quantizing
/// ([`QuantizeError::Unsupported`]).
///
/// The methods are the quantizer's own (hidden): the trait cannot be implemented outside
/// constnet.
pub trait Quantize: Layer<Scalar = f32> {
    /// The int8 twin ([`Folded`](crate::quant::Folded) for a layer folded into the one
    /// before it).
    type Int8: Zeros;

    /// How many tensors the layer writes in forward order (a chain: all its layers').
    #[doc(hidden)]
    const TENSORS: usize;

    /// The float forward of `x`, widening `ranges[..TENSORS]` with every tensor written.
    #[doc(hidden)]
    fn observe(&self, x: &Self::Input, ranges: &mut [Range]) -> Self::Output;

    /// The folds this layer starts with (what the layer before it may fold in).
    #[doc(hidden)]
    fn leading_folds(&self, f: &mut dyn FnMut(Fold<'_>) -> bool) -> bool;

    /// Writes the int8 twin into `out`, the layers `next` following.
    #[doc(hidden)]
    fn quantize_into(
        &self,
        walk: &mut Walk<'_>,
        next: Next<'_>,
        out: &mut Self::Int8,
    ) -> Result<(), QuantizeError>;
}

impl<L: Quantize> Folds for L {
    fn leading_folds(&self, f: &mut dyn FnMut(Fold<'_>) -> bool) -> bool {
        Quantize::leading_folds(self, f)
    }
}

/// Post-training quantization with TensorFlow Lite's scheme: the int8 network computing what
/// the float `net` computes, built on the heap.
///
/// * The float network runs on every `calibration` input ([`Layer::forward`] layer by
///   layer), recording the range of its input and of every tensor between its layers.
/// * Activations: asymmetric int8, [`Quantization::from_range`](crate::quant::Quantization::from_range)
///   of the calibrated range (widened to hold 0, zero point nudged so 0 is exact). A layer
///   with `Relu` or `Relu6` quantizes its output range `[0, max]` and clamps its int8 output
///   ([`FusedActivation`](crate::quant::FusedActivation)).
/// * Weights: symmetric int8 per output channel, `scale = max |w| / 127`, `round(w / scale)`
///   in `[-127, 127]` (a channel without weights gets a tiny positive scale, a channel whose
///   bias would exceed 2³⁰ steps a coarser one); biases int32,
///   `round(b / (input_scale · weight_scale))`. A `BatchNorm` right after a `Dense` or
///   `Conv2d` with the identity activation is folded into its weights and bias first
///   (`w · γ/√(σ² + ε)`, `(b − μ) · γ/√(σ² + ε) + β`), and a `Relu`/`Relu6` layer after it into
///   its clamp.
/// * `Dense` requantizes as LiteRT's reference kernel ([`Requantize::Exact`](crate::quant::Requantize::Exact)),
///   convolutions with fixed-point multipliers, as
///   [`Int8Dense::from_scales`](crate::quant::Int8Dense::from_scales) and
///   [`Int8Conv2d::from_scales`](crate::quant::Int8Conv2d::from_scales) compute them.
/// * Pools keep their input's quantization (TensorFlow Lite's rule); the global average pool
///   has its own calibrated output quantization ([`MeanKernel::Rescaled`](crate::quant::MeanKernel::Rescaled):
///   rounds to nearest, where the shared-quantization kernel truncates toward zero). A
///   residual block's addition gets its own calibrated output
///   ([`Int8Add::from_scales`](crate::quant::Int8Add::from_scales)).
/// * A PyTorch-order [`Flatten`](crate::Flatten) (channels first) and the `Dense` after it
///   become an NHWC [`Int8Reshape`](crate::quant::Int8Reshape) and an `Int8Dense` whose weight
///   columns are reordered, so the function is the same.
///
/// The result passes [`Int8Layer::check`]. Its input quantization
/// ([`Int8Layer::input_quantization`]) is how to quantize the network's inputs
/// ([`F32Tensor::quantize`]).
///
/// ```
/// use constnet::init::{self, Init};
/// use constnet::quant::{F32Tensor, Int8Layer, Quantize, quantize};
/// use constnet::{Dense, Layer, Relu, seq};
/// type Net = seq![Dense<2, 16, Relu>, Dense<16, 1>];
/// let net: Net = init::seeded(Init::HeUniform, 7);
/// let samples: Vec<[f32; 2]> = (0..64).map(|i| [(i % 8) as f32 / 4.0 - 1.0, (i / 8) as f32 / 4.0 - 1.0]).collect();
/// let int8: Box<<Net as Quantize>::Int8> = quantize(&net, &samples).unwrap();
/// let x = [0.3, -0.6];
/// let y = int8.forward(&x.quantize(int8.input_quantization()).unwrap());
/// let y = int8.output_quantization().dequantize(y[0]);
/// assert!((y - net.forward(&x)[0]).abs() < 0.05);
/// ```
pub fn quantize<N>(net: &N, calibration: &[N::Input]) -> Result<Box<N::Int8>, QuantizeError>
where
    N: Quantize,
    N::Input: F32Tensor,
    N::Int8: Int8Layer,
{
    if calibration.is_empty() {
        return Err(QuantizeError::NoCalibration);
    }
    let mut ranges = vec![Range::EMPTY; N::TENSORS + 1];
    for x in calibration {
        ranges[0].widen(x.values());
        net.observe(x, &mut ranges[1..]);
    }
    let mut walk = Walk::new(&ranges)?;
    let mut int8 = crate::quant::boxed_zeros::<N::Int8>();
    net.quantize_into(&mut walk, Next::END, &mut int8)?;
    walk.finish()?;
    int8.check(0).map_err(QuantizeError::Mismatch)?;
    Ok(int8)
}
