//! The pools → `Int8Pool2d` (the input's quantization kept, TensorFlow Lite's rule) and
//! `GlobalAvgPool2d` → `Int8GlobalAvgPool2d` (its own calibrated output quantization).

use super::error::QuantizeError;
use super::quantize::Quantize;
use super::scheme::Range;
use super::walk::{Fold, Next, Takes, Walk};
use crate::layer::Layer;
use crate::layers::conv2d_options::axis;
use crate::layers::{Conv2dOptions, GlobalAvgPool2d, Pool2d, PoolKind};
use crate::quant::{
    FusedActivation, Int8GlobalAvgPool2d, Int8Pool2d, Int8PoolKind, MeanKernel, activation_range,
};

/// Whether every window lies inside the image (no padding read) on both axes.
fn windows_inside<O: Conv2dOptions>(h: usize, w: usize, kh: usize, kw: usize) -> bool {
    [(0, h, kh), (1, w, kw)].into_iter().all(|(a, n, k)| {
        let geometry = axis::<O>(a, n, k);
        let span = O::DILATION[a] * (k - 1) + 1;
        geometry.before == 0 && (geometry.out == 0 || (geometry.out - 1) * O::STRIDE[a] + span <= n)
    })
}

/// `MaxPool2d` → `Int8MaxPool2d`, `AvgPool2d` → `Int8AvgPool2d`: the output keeps the
/// input's quantization; a `Relu`/`Relu6` layer after it folds into its clamp. An average
/// pool whose windows reach into the padding is refused: PyTorch's `count_include_pad=True`
/// divides by the whole window, TensorFlow Lite by the pixels inside the image.
impl<
    P: PoolKind + Int8PoolKind,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O: Conv2dOptions,
> Quantize for Pool2d<P, C, KH, KW, H, W, H_OUT, W_OUT, f32, O>
where
    Self: Layer<Scalar = f32, Input = [[[f32; C]; W]; H], Output = [[[f32; C]; W_OUT]; H_OUT]>,
{
    type Int8 = Int8Pool2d<P, C, KH, KW, H, W, H_OUT, W_OUT, O>;
    const TENSORS: usize = 1;

    fn observe(&self, x: &Self::Input, ranges: &mut [Range]) -> Self::Output {
        let y = self.forward(x);
        ranges[0].widen(y.as_flattened().as_flattened());
        y
    }

    fn leading_folds(&self, _: &mut dyn FnMut(Fold<'_>) -> bool) -> bool {
        false
    }

    fn quantize_into(
        &self,
        walk: &mut Walk<'_>,
        next: Next<'_>,
        out: &mut Self::Int8,
    ) -> Result<(), QuantizeError> {
        let input = walk.input();
        if P::AVERAGE && !windows_inside::<O>(H, W, KH, KW) {
            return Err(walk.unsupported(
                P::NAME,
                "its windows reach into the padding, which PyTorch's average counts (count_include_pad=True) and TensorFlow Lite's leaves out",
            ));
        }
        let layer = walk.begin(P::NAME)?;
        let takes = Takes {
            own: FusedActivation::None,
            affine: None,
            activations: true,
        };
        let fusion = walk.fuse(layer, P::NAME, next, takes, Some(input))?;
        out.set(input, activation_range(fusion.activation, input));
        Ok(())
    }
}

/// `GlobalAvgPool2d` → `Int8GlobalAvgPool2d` with its own calibrated output quantization and
/// [`MeanKernel::Rescaled`] (the sum less the zero points, requantized with rounding to
/// nearest: closer to the float mean than the shared-quantization kernel, which truncates
/// the raw sum toward zero).
impl<const C: usize, const H: usize, const W: usize> Quantize for GlobalAvgPool2d<C, H, W, f32> {
    type Int8 = Int8GlobalAvgPool2d<C, H, W>;
    const TENSORS: usize = 1;

    fn observe(&self, x: &[[[f32; C]; W]; H], ranges: &mut [Range]) -> [f32; C] {
        let y = self.forward(x);
        ranges[0].widen(&y);
        y
    }

    fn leading_folds(&self, _: &mut dyn FnMut(Fold<'_>) -> bool) -> bool {
        false
    }

    fn quantize_into(
        &self,
        walk: &mut Walk<'_>,
        next: Next<'_>,
        out: &mut Self::Int8,
    ) -> Result<(), QuantizeError> {
        let input = walk.input();
        let layer = walk.begin("GlobalAvgPool2d")?;
        let takes = Takes {
            own: FusedActivation::None,
            affine: None,
            activations: false,
        };
        let fusion = walk.fuse(layer, "GlobalAvgPool2d", next, takes, None)?;
        out.set(Int8GlobalAvgPool2d::new(
            input,
            fusion.output,
            MeanKernel::Rescaled,
        ));
        Ok(())
    }
}
