//! `Residual` → `Int8Residual` (the addition's output calibrated, `Int8Add::from_scales`)
//! and `Skip` → `Int8Skip`.

use super::error::QuantizeError;
use super::f32_tensor::F32Tensor;
use super::fusable::Fusable;
use super::quantize::Quantize;
use super::scheme::Range;
use super::walk::{Fold, Next, Takes, Walk};
use crate::layer::Layer;
use crate::layers::{ArrayOf, Residual, Skip};
use crate::quant::{FusedActivation, Int8Add, Int8Residual, Int8Skip, activation_range};

/// The main path and the shortcut quantized in turn from the block's input quantization;
/// the addition `A(F(x) + S(x))` gets its own calibrated output quantization and clamps to
/// `A` (`Identity`, `Relu` or `Relu6`, or an activation layer folded in after the block).
impl<F, S, A> Quantize for Residual<F, S, A>
where
    F: Quantize,
    S: Quantize<Input = F::Input, Output = F::Output>,
    A: Fusable,
    F::Output: F32Tensor,
    Self: Layer<Scalar = f32, Input = F::Input, Output = F::Output>,
{
    type Int8 = Int8Residual<F::Int8, S::Int8>;
    const TENSORS: usize = F::TENSORS + S::TENSORS + 1;

    fn observe(&self, x: &F::Input, ranges: &mut [Range]) -> F::Output {
        let (main, rest) = ranges.split_at_mut(F::TENSORS);
        let (shortcut, sum) = rest.split_at_mut(S::TENSORS);
        let mut y = self.main.observe(x, main);
        let s = self.shortcut.observe(x, shortcut);
        for (y, &s) in y.values_mut().iter_mut().zip(s.values()) {
            *y = self.activation.f(*y + s);
        }
        sum[0].widen(y.values());
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
        walk.clear("Residual")?;
        self.main.quantize_into(walk, Next::END, &mut out.body)?;
        walk.clear("Residual")?;
        let body = walk.input();
        walk.set_input(input);
        self.shortcut
            .quantize_into(walk, Next::END, &mut out.shortcut)?;
        walk.clear("Residual")?;
        let shortcut = walk.input();
        let layer = walk.begin("Residual")?;
        let takes = Takes {
            own: A::FUSED,
            affine: None,
            activations: true,
        };
        let fusion = walk.fuse(layer, "Residual", next, takes, None)?;
        out.add = Int8Add::from_scales(
            shortcut,
            body,
            fusion.output,
            activation_range(fusion.activation, fusion.output),
        );
        Ok(())
    }
}

/// The identity shortcut: its output is its input, quantization included.
impl<X: ArrayOf<Scalar = f32> + F32Tensor> Quantize for Skip<X>
where
    Self: Layer<Scalar = f32, Input = X, Output = X>,
{
    type Int8 = Int8Skip<X::Int8>;
    const TENSORS: usize = 1;

    fn observe(&self, x: &X, ranges: &mut [Range]) -> X {
        ranges[0].widen(x.values());
        *x
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
        let layer = walk.begin("Skip")?;
        let takes = Takes {
            own: FusedActivation::None,
            affine: None,
            activations: false,
        };
        walk.fuse(layer, "Skip", next, takes, Some(input))?;
        out.set(input);
        Ok(())
    }
}
