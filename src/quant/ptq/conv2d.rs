//! `Conv2d` → `Int8Conv2d`: per-output-channel int8 weights (a BatchNorm2d after it folded
//! in), int32 bias, fixed-point multipliers; the geometry (padding included) and the groups
//! (ordinary or depthwise) unchanged.

use std::vec::Vec;

use super::error::QuantizeError;
use super::fusable::Fusable;
use super::quantize::Quantize;
use super::scheme::{Range, max_abs, quantize_bias, quantize_weight, weight_scale};
use super::walk::{Fold, Next, Takes, Walk};
use crate::layer::Layer;
use crate::layers::{Conv2d, Conv2dOptions};
use crate::quant::{FusedActivation, Int8Conv2d, QuantizedMultiplier, activation_range};

/// An ordinary convolution (`CG = C_IN`, one group), a depthwise one (`CG = 1`, any depth
/// multiplier) or a grouped one (`C_IN / CG` groups). Padding is zeros in
/// float and the input zero point (real 0, exactly) in int8.
impl<
    const C_IN: usize,
    const C_OUT: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    A: Fusable,
    O: Conv2dOptions,
    const CG: usize,
> Quantize for Conv2d<C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, A, f32, O, CG>
{
    type Int8 = Int8Conv2d<C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, O, CG>;
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
        let layer = walk.begin("Conv2d")?;
        let takes = Takes {
            own: A::FUSED,
            affine: (A::FUSED == FusedActivation::None).then_some(C_OUT),
            activations: true,
        };
        let fusion = walk.fuse(layer, "Conv2d", next, takes, None)?;
        let affine = |o: usize| fusion.affine.as_ref().map_or((1.0, 0.0), |a| a[o]);
        let () = Self::Int8::SHAPE;
        // Flat index `k` in OHWI order (`c` within the filter's group).
        let weight = |k: usize| {
            let c = k % CG;
            let v = (k / CG) % KW;
            let u = (k / (CG * KW)) % KH;
            let o = k / (CG * KW * KH);
            self.weight(o, c, u, v) as f64 * affine(o).0
        };
        let bias = |o: usize| {
            let (s, t) = affine(o);
            self.bias()[o] as f64 * s + t
        };
        let per_channel = CG * KH * KW;
        let scales = (0..C_OUT)
            .map(|o| {
                let max_abs = max_abs((o * per_channel..(o + 1) * per_channel).map(weight));
                weight_scale(max_abs, bias(o), input.scale)
                    .ok_or_else(|| Walk::not_finite(layer, "Conv2d"))
            })
            .collect::<Result<Vec<f32>, _>>()?;
        let output = fusion.output;
        out.set(
            |k| quantize_weight(weight(k), scales[k / per_channel]),
            |o| quantize_bias(bias(o), input.scale, scales[o]),
            |o| {
                QuantizedMultiplier::from_real(
                    input.scale as f64 * scales[o] as f64 / output.scale as f64,
                )
            },
            input,
            output,
            activation_range(fusion.activation, output),
        );
        Ok(())
    }
}
