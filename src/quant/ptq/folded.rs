//! `Folded`, the int8 form of a float layer that disappears into the layer before it, and
//! `Then`, which chains int8 layers at the type level leaving `Folded` out.

use crate::quant::{Int8Chain, Int8Layer};
use crate::zeros::Zeros;

/// What a float layer becomes when it is folded into the int8 layer before it: a
/// [`BatchNorm`](crate::BatchNorm) or [`BatchNorm2d`](crate::BatchNorm2d) (into the weights and
/// bias of a `Dense` or `Conv2d`), an [`ActivationLayer`](crate::ActivationLayer) or
/// [`ActivationMap`](crate::ActivationMap) of `Relu` or `Relu6` (into its output clamp).
/// Not an int8 layer: [`Then`] leaves it out of the chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Folded;

impl Zeros for Folded {
    fn zeros() -> Self {
        Folded
    }
}

/// The int8 chain of `Self` then `Y`, with [`Folded`] left out: `Int8Chain<Self, Y>` for two
/// int8 layers, the other one when either is `Folded`. This is how a float
/// [`Chain`](crate::Chain) names its int8 type ([`Quantize::Int8`](super::Quantize::Int8)).
///
/// ```
/// use constnet::quant::{Folded, Int8Chain, Int8Dense, Then};
/// fn same<A, B>() -> bool where A: 'static, B: 'static {
///     core::any::TypeId::of::<A>() == core::any::TypeId::of::<B>()
/// }
/// type Two = <Int8Dense<4, 8> as Then<Int8Dense<8, 2>>>::Output;
/// assert!(same::<Two, Int8Chain<Int8Dense<4, 8>, Int8Dense<8, 2>>>());
/// assert!(same::<<Int8Dense<4, 8> as Then<Folded>>::Output, Int8Dense<4, 8>>());
/// ```
pub trait Then<Y>: Sized {
    /// The chain.
    type Output: Zeros;

    /// Calls `f` with the two parts of `out` (a `Folded` part is a fresh `Folded`).
    fn parts<R>(out: &mut Self::Output, f: impl FnOnce(&mut Self, &mut Y) -> R) -> R;
}

impl<X: Int8Layer, Y: Int8Layer> Then<Y> for X {
    type Output = Int8Chain<X, Y>;
    fn parts<R>(out: &mut Int8Chain<X, Y>, f: impl FnOnce(&mut X, &mut Y) -> R) -> R {
        f(&mut out.first, &mut out.second)
    }
}

impl<X: Int8Layer> Then<Folded> for X {
    type Output = X;
    fn parts<R>(out: &mut X, f: impl FnOnce(&mut X, &mut Folded) -> R) -> R {
        f(out, &mut Folded)
    }
}

impl<Y: Int8Layer> Then<Y> for Folded {
    type Output = Y;
    fn parts<R>(out: &mut Y, f: impl FnOnce(&mut Folded, &mut Y) -> R) -> R {
        f(&mut Folded, out)
    }
}

impl Then<Folded> for Folded {
    type Output = Folded;
    fn parts<R>(_: &mut Folded, f: impl FnOnce(&mut Folded, &mut Folded) -> R) -> R {
        f(&mut Folded, &mut Folded)
    }
}
