//! `Flatten` → `Int8Reshape`: the NHWC flatten of an int8 network, whose following `Dense`
//! reads its weight columns reordered from PyTorch's channels-first order.

use super::error::QuantizeError;
use super::f32_tensor::F32Tensor;
use super::quantize::Quantize;
use super::scheme::Range;
use super::walk::{Fold, Next, Takes, Walk};
use crate::layer::Layer;
use crate::layers::{ChannelsLast, Flatten};
use crate::quant::{FusedActivation, Int8Reshape};

/// A [`Flatten`] directly before a [`Dense`](crate::Dense): `Int8Reshape` keeps the values
/// in memory order (NHWC) and the `Dense`'s int8 weight columns are permuted from
/// channels-first to match, so the pair computes what the float pair computes. Anywhere else
/// a `Flatten` is refused.
impl<X: ChannelsLast<Scalar = f32> + F32Tensor, const N: usize> Quantize for Flatten<X, N> {
    type Int8 = Int8Reshape<X::Int8, N>;
    const TENSORS: usize = 1;

    fn observe(&self, x: &X, ranges: &mut [Range]) -> [f32; N] {
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
        let layer = walk.begin("Flatten")?;
        let takes = Takes {
            own: FusedActivation::None,
            affine: None,
            activations: false,
        };
        walk.fuse(layer, "Flatten", next, takes, Some(input))?;
        walk.flattened(X::DIMS);
        out.set(input);
        Ok(())
    }
}
