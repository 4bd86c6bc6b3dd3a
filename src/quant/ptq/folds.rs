//! The layers that fold into the layer before them and have no int8 layer of their own:
//! `BatchNorm`/`BatchNorm2d` (into a `Dense`'s or `Conv2d`'s weights and bias),
//! `ActivationLayer`/`ActivationMap` of `Relu` or `Relu6` (into an output clamp).

use super::error::QuantizeError;
use super::f32_tensor::F32Tensor;
use super::folded::Folded;
use super::fusable::Fusable;
use super::quantize::Quantize;
use super::scheme::Range;
use super::walk::{Fold, Next, Walk};
use crate::layer::Layer;
use crate::layers::{ActivationLayer, ActivationMap, ArrayOf, BatchNorm, BatchNorm2d};

/// Why a BatchNorm was not folded.
const NORM_REASON: &str = "a BatchNorm is quantized by folding it into the weights and bias of the Dense or Conv2d right before it, which must have the Identity activation";

/// Why an activation layer was not folded.
const ACTIVATION_REASON: &str = "an activation layer is quantized by folding it into the output clamp of the Dense, Conv2d, MaxPool2d, AvgPool2d or Residual right before it";

/// `(scale, shift)` of channel `j` of a BatchNorm in inference: `γ/√(σ² + ε)` and
/// `β − μ · scale`, in `f64`.
fn scale_shift<const N: usize>(norm: &BatchNorm<N, f32>, j: usize) -> (f64, f64) {
    let scale = norm.weight[j] as f64 / (norm.running_var()[j] as f64 + norm.eps).sqrt();
    (
        scale,
        norm.bias[j] as f64 - norm.running_mean()[j] as f64 * scale,
    )
}

impl<const N: usize> Quantize for BatchNorm<N, f32> {
    type Int8 = Folded;
    const TENSORS: usize = 1;

    fn observe(&self, x: &[f32; N], ranges: &mut [Range]) -> [f32; N] {
        let y = self.forward(x);
        ranges[0].widen(&y);
        y
    }

    fn leading_folds(&self, f: &mut dyn FnMut(Fold<'_>) -> bool) -> bool {
        f(Fold::Affine {
            channels: N,
            scale_shift: &|j| scale_shift(self, j),
        })
    }

    fn quantize_into(
        &self,
        walk: &mut Walk<'_>,
        _: Next<'_>,
        _: &mut Folded,
    ) -> Result<(), QuantizeError> {
        walk.folded("BatchNorm", NORM_REASON)
    }
}

impl<const C: usize, const H: usize, const W: usize> Quantize for BatchNorm2d<C, H, W, f32> {
    type Int8 = Folded;
    const TENSORS: usize = 1;

    fn observe(&self, x: &Self::Input, ranges: &mut [Range]) -> Self::Output {
        let y = self.forward(x);
        ranges[0].widen(y.as_flattened().as_flattened());
        y
    }

    fn leading_folds(&self, f: &mut dyn FnMut(Fold<'_>) -> bool) -> bool {
        f(Fold::Affine {
            channels: C,
            scale_shift: &|j| scale_shift(self, j),
        })
    }

    fn quantize_into(
        &self,
        walk: &mut Walk<'_>,
        _: Next<'_>,
        _: &mut Folded,
    ) -> Result<(), QuantizeError> {
        walk.folded("BatchNorm2d", NORM_REASON)
    }
}

impl<A: Fusable, const N: usize> Quantize for ActivationLayer<A, N, f32> {
    type Int8 = Folded;
    const TENSORS: usize = 1;

    fn observe(&self, x: &[f32; N], ranges: &mut [Range]) -> [f32; N] {
        let y = self.forward(x);
        ranges[0].widen(&y);
        y
    }

    fn leading_folds(&self, f: &mut dyn FnMut(Fold<'_>) -> bool) -> bool {
        f(Fold::Activation(A::FUSED))
    }

    fn quantize_into(
        &self,
        walk: &mut Walk<'_>,
        _: Next<'_>,
        _: &mut Folded,
    ) -> Result<(), QuantizeError> {
        walk.folded("ActivationLayer", ACTIVATION_REASON)
    }
}

impl<A: Fusable, X: ArrayOf<Scalar = f32> + F32Tensor> Quantize for ActivationMap<A, X>
where
    Self: Layer<Scalar = f32, Input = X, Output = X>,
{
    type Int8 = Folded;
    const TENSORS: usize = 1;

    fn observe(&self, x: &X, ranges: &mut [Range]) -> X {
        let y = self.forward(x);
        ranges[0].widen(y.values());
        y
    }

    fn leading_folds(&self, f: &mut dyn FnMut(Fold<'_>) -> bool) -> bool {
        f(Fold::Activation(A::FUSED))
    }

    fn quantize_into(
        &self,
        walk: &mut Walk<'_>,
        _: Next<'_>,
        _: &mut Folded,
    ) -> Result<(), QuantizeError> {
        walk.folded("ActivationMap", ACTIVATION_REASON)
    }
}
