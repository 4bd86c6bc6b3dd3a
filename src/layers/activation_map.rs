//! `ActivationMap`: an elementwise activation as a layer over an array of any shape (an
//! image, a window of frames), where [`ActivationLayer`](crate::ActivationLayer) takes a
//! vector: the ReLU between a BatchNorm2d and the next convolution.

use core::marker::PhantomData;

use crate::activations::Pointwise;
use crate::ctx::TrainCtx;
use crate::layer::Layer;
use crate::named::{Named, Setting, SettingMut};
use crate::params::{Params, TensorShape};
use crate::testing::Scalars;
use crate::zeros::{InPlace, Zeros};

/// `y = A(x)` elementwise over `X` (`[[[T; C]; W]; H]`, `[[T; C]; L]` or `[T; N]`), no
/// parameters; one module in weight files (`nn.ReLU()`, ...).
///
/// ```
/// use constnet::{ActivationMap, Layer, Relu};
/// let relu = ActivationMap::<Relu, [[[f32; 2]; 1]; 1]>::new();
/// assert_eq!(relu.forward(&[[[-1.0, 2.0]]]), [[[0.0, 2.0]]]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActivationMap<A, X> {
    /// The activation function (its settings, e.g. a LeakyRelu slope).
    pub activation: A,
    shape: PhantomData<X>,
}

/// The element type of an array an [`ActivationMap`] runs over.
pub trait ArrayOf: Copy + Zeros {
    /// The element type.
    type Scalar: crate::scalar::Scalar;
}

impl<T: crate::scalar::Scalar, const N: usize> ArrayOf for [T; N] {
    type Scalar = T;
}

impl<T: crate::scalar::Scalar, const N: usize, const M: usize> ArrayOf for [[T; N]; M] {
    type Scalar = T;
}

impl<T: crate::scalar::Scalar, const C: usize, const W: usize, const H: usize> ArrayOf
    for [[[T; C]; W]; H]
{
    type Scalar = T;
}

impl<A: Pointwise, X> ActivationMap<A, X> {
    /// The layer with the activation's default settings.
    pub fn new() -> Self {
        Self::with_activation(A::default())
    }

    /// The layer with the given activation value.
    pub const fn with_activation(activation: A) -> Self {
        ActivationMap {
            activation,
            shape: PhantomData,
        }
    }
}

impl<A: Pointwise, X> Default for ActivationMap<A, X> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Pointwise, X: ArrayOf> Zeros for ActivationMap<A, X> {
    fn zeros() -> Self {
        Self::new()
    }
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        InPlace::write(slot, Self::new())
    }
}

impl<A: Pointwise, X: ArrayOf> Params for ActivationMap<A, X> {
    type Scalar = X::Scalar;
    const PARAM_COUNT: usize = 0;
    fn tensors(&self) -> impl Iterator<Item = &[X::Scalar]> {
        core::iter::empty()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [X::Scalar]> {
        core::iter::empty()
    }
    fn shapes() -> impl Iterator<Item = TensorShape> {
        core::iter::empty()
    }
    fn restore_defaults(&mut self) {
        self.activation = A::default();
    }
}

/// The activation's modules and settings.
impl<A: Pointwise, X: ArrayOf> Named for ActivationMap<A, X> {
    const MODULES: usize = A::MODULES;
    fn visit_settings(&self, module: usize, f: &mut dyn FnMut(usize, &'static str, Setting)) {
        self.activation
            .visit_settings(&mut |name, value| f(module, name, value));
    }
    fn visit_settings_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(usize, &'static str, SettingMut<'_>),
    ) {
        self.activation
            .visit_settings_mut(&mut |name, value| f(module, name, value));
    }
}

crate::impl_zero_bits!(unsafe impl[A: crate::ZeroBits, X] for ActivationMap<A, X> { activation, shape });

impl<A: Pointwise, X: ArrayOf + Scalars<X::Scalar>> Layer for ActivationMap<A, X> {
    type Input = X;
    type Output = X;
    /// The input and the output.
    type Cache = (X, X);
    type BatchCache<const B: usize> = [(X, X); B];

    #[inline]
    fn forward(&self, x: &X) -> X {
        let mut y = *x;
        if let Some((low, high)) = self.activation.clamp_range() {
            // ReLU, ReLU6: the clamp kernel (the loop below made masked stores).
            crate::kernel::clamp_in_place(y.scalars_mut(), low, high);
            return y;
        }
        for v in y.scalars_mut() {
            *v = self.activation.f(*v);
        }
        y
    }

    fn forward_train(&self, x: &X, _ctx: &mut TrainCtx) -> (X, (X, X)) {
        let y = self.forward(x);
        (y, (*x, y))
    }

    fn backward(&self, cache: &(X, X), dy: &X, _grads: &mut Self) -> X {
        let (x, y) = cache;
        let mut dx = *dy;
        for ((d, &xi), &yi) in dx
            .scalars_mut()
            .iter_mut()
            .zip(x.scalars())
            .zip(y.scalars())
        {
            *d *= self.activation.df(xi, yi);
        }
        dx
    }
}
