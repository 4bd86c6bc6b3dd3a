//! `Dense` → `Int8Dense`: per-channel int8 weights (a BatchNorm after it folded in, the
//! columns reordered after a PyTorch-order `Flatten`), int32 bias, LiteRT's exact
//! requantization.

use std::vec::Vec;

use super::error::QuantizeError;
use super::fusable::Fusable;
use super::quantize::Quantize;
use super::scheme::{Range, max_abs, quantize_bias, quantize_weight, weight_scale};
use super::walk::{Fold, Next, Takes, Walk};
use crate::layer::Layer;
use crate::layers::Dense;
use crate::quant::{FusedActivation, Int8Dense, Requantize, activation_range};

impl<const IN: usize, const OUT: usize, A: Fusable> Quantize for Dense<IN, OUT, A, f32> {
    type Int8 = Int8Dense<IN, OUT>;
    const TENSORS: usize = 1;

    fn observe(&self, x: &[f32; IN], ranges: &mut [Range]) -> [f32; OUT] {
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
        out: &mut Int8Dense<IN, OUT>,
    ) -> Result<(), QuantizeError> {
        let input = walk.input();
        let (layer, flatten) = walk.begin_dense()?;
        let takes = Takes {
            own: A::FUSED,
            affine: (A::FUSED == FusedActivation::None).then_some(OUT),
            activations: true,
        };
        let fusion = walk.fuse(layer, "Dense", next, takes, None)?;
        // The int8 input is in NHWC order where the float one was channels first: int8 column
        // `(y·W + x)·C + c` is float column `c·H·W + y·W + x`.
        let column = |j: usize| match flatten {
            None => j,
            Some([h, w, c]) => (j % c) * h * w + j / c,
        };
        let affine = |o: usize| fusion.affine.as_ref().map_or((1.0, 0.0), |a| a[o]);
        let weight = |o: usize, j: usize| self.weight(o, column(j)) as f64 * affine(o).0;
        let bias = |o: usize| {
            let (s, t) = affine(o);
            self.bias()[o] as f64 * s + t
        };
        let scales = (0..OUT)
            .map(|o| {
                let max_abs = max_abs((0..IN).map(|j| weight(o, j)));
                weight_scale(max_abs, bias(o), input.scale)
                    .ok_or_else(|| Walk::not_finite(layer, "Dense"))
            })
            .collect::<Result<Vec<f32>, _>>()?;
        let output = fusion.output;
        out.set(
            |o, j| quantize_weight(weight(o, j), scales[o]),
            |o| quantize_bias(bias(o), input.scale, scales[o]),
            |o| Requantize::Exact(crate::quant::dense_scale(input, scales[o], output)),
            input,
            output,
            activation_range(fusion.activation, output),
        );
        Ok(())
    }
}
