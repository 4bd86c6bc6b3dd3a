//! `Chain` → its layers' int8 twins chained by `Then` (folded layers left out).

use super::error::QuantizeError;
use super::folded::Then;
use super::quantize::Quantize;
use super::scheme::Range;
use super::walk::{Fold, Link, Next, Walk};
use crate::chain::Chain;
use crate::chain_layer::{Follows, Meets};

/// The first layer quantized with the second (and what follows the chain) after it, so a
/// layer sees the BatchNorm or ReLU it folds in across chain boundaries; then the second.
impl<A, B> Quantize for Chain<A, B>
where
    A: Quantize,
    B: Quantize,
    A::Output: Meets<B::Input>,
    B: Follows<A>,
    A::Int8: Then<B::Int8>,
{
    type Int8 = <A::Int8 as Then<B::Int8>>::Output;
    const TENSORS: usize = A::TENSORS + B::TENSORS;

    fn observe(&self, x: &A::Input, ranges: &mut [Range]) -> B::Output {
        let (first, second) = ranges.split_at_mut(A::TENSORS);
        let hidden = self.first.observe(x, first);
        self.second.observe(&hidden, second)
    }

    fn leading_folds(&self, f: &mut dyn FnMut(Fold<'_>) -> bool) -> bool {
        Quantize::leading_folds(&self.first, f) && Quantize::leading_folds(&self.second, f)
    }

    fn quantize_into(
        &self,
        walk: &mut Walk<'_>,
        next: Next<'_>,
        out: &mut Self::Int8,
    ) -> Result<(), QuantizeError> {
        let link = Link::new(&self.second, next);
        <A::Int8 as Then<B::Int8>>::parts(out, |first, second| {
            self.first.quantize_into(walk, Next::at(&link), first)?;
            self.second.quantize_into(walk, next, second)
        })
    }
}
