//! `ActivationLayer`: an activation function as a standalone, parameter-free layer (after a norm
//! layer, or `SoftmaxLayer` at the end of a classifier for inference).

use core::marker::PhantomData;

use crate::activations::ActivationFn;
use crate::ctx::TrainCtx;
use crate::layer::Layer;
use crate::named::{Setting, SettingMut};
use crate::params::{Params, TensorShape};
use crate::scalar::Scalar;
use crate::zeros::Zeros;

/// `y = A(x)` over `[T; N]`: the activation `A` as a layer of its own, with no parameters.
///
/// [`Dense`](crate::Dense) fuses its activation already; use this layer where there is no
/// `Dense` to fuse into, e.g. after a [`LayerNorm`](crate::LayerNorm).
///
/// ```
/// use constnet::{ActivationLayer, Dense, Layer, LayerNorm, Relu, seq};
/// type Block = seq![Dense<2, 3, constnet::Identity, f64>, LayerNorm<3, f64>, ActivationLayer<Relu, 3, f64>];
/// let relu = ActivationLayer::<Relu, 3, f64>::new();
/// assert_eq!(relu.forward(&[-1.0, 0.0, 2.0]), [0.0, 0.0, 2.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActivationLayer<A, const N: usize, T = f32> {
    /// The activation function (its settings, e.g. a LeakyRelu slope).
    pub activation: A,
    scalar: PhantomData<T>,
}

/// Softmax over `N` outputs as a layer (the activation function itself is
/// [`Softmax`](crate::Softmax)).
///
/// For training a classifier prefer raw logits and a cross-entropy loss, which fuses the
/// softmax stably; this layer is for inference outputs.
///
/// ```
/// use constnet::{Layer, SoftmaxLayer};
/// let p = SoftmaxLayer::<3, f64>::new().forward(&[1000.0, 1000.0, -1000.0]);
/// assert_eq!(p, [0.5, 0.5, 0.0]);
/// ```
pub type SoftmaxLayer<const N: usize, T = f32> = ActivationLayer<crate::activations::Softmax, N, T>;

/// The old name of [`ActivationLayer`].
#[deprecated(
    since = "0.2.0",
    note = "renamed `ActivationLayer` (one name per concept)"
)]
pub type Activation<A, const N: usize, T = f32> = ActivationLayer<A, N, T>;

/// The old name of [`SoftmaxLayer`].
#[deprecated(
    since = "0.2.0",
    note = "renamed `SoftmaxLayer`: `Softmax` is the activation function"
)]
pub type Softmax<const N: usize, T = f32> = SoftmaxLayer<N, T>;

/// What `ActivationLayer::backward` needs from one sample: the input and the output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActivationCache<const N: usize, T> {
    /// The input `z`.
    pub z: [T; N],
    /// The output `y = A(z)`.
    pub y: [T; N],
}

impl<const N: usize, T: Scalar> Zeros for ActivationCache<N, T> {
    fn zeros() -> Self {
        ActivationCache {
            z: [T::zero(); N],
            y: [T::zero(); N],
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            ActivationCache {
                z: crate::zeros::Zeros::zeros_in_place,
                y: crate::zeros::Zeros::zeros_in_place
            }
        )
    }
}

impl<A: ActivationFn<T>, const N: usize, T: Scalar> ActivationLayer<A, N, T> {
    /// The layer with the activation's default settings (PyTorch's defaults).
    pub fn new() -> Self {
        Self::with_activation(A::default())
    }

    /// The layer with the given activation value (e.g. a custom LeakyRelu slope).
    pub const fn with_activation(activation: A) -> Self {
        ActivationLayer {
            activation,
            scalar: PhantomData,
        }
    }
}

impl<A: ActivationFn<T>, const N: usize, T: Scalar> Default for ActivationLayer<A, N, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: ActivationFn<T>, const N: usize, T: Scalar> Zeros for ActivationLayer<A, N, T> {
    /// No parameters: the same as [`ActivationLayer::new`].
    fn zeros() -> Self {
        Self::new()
    }
}

impl<A: ActivationFn<T>, const N: usize, T: Scalar> Params for ActivationLayer<A, N, T> {
    type Scalar = T;
    const PARAM_COUNT: usize = 0;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        core::iter::empty()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::empty()
    }
    fn shapes() -> impl Iterator<Item = TensorShape> {
        core::iter::empty()
    }
    fn restore_defaults(&mut self) {
        self.activation = A::default();
    }
}

impl<A: ActivationFn<T>, const N: usize, T: Scalar> crate::named::Named
    for ActivationLayer<A, N, T>
{
    /// One module (`nn.ReLU()`, ...), with the activation's settings.
    const MODULES: usize = 1;
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

impl<A: ActivationFn<T>, const N: usize, T: Scalar> Layer for ActivationLayer<A, N, T> {
    type Input = [T; N];
    type Output = [T; N];
    type Cache = ActivationCache<N, T>;
    type BatchCache<const B: usize> = [ActivationCache<N, T>; B];

    #[inline]
    fn forward(&self, x: &[T; N]) -> [T; N] {
        let mut y = [T::zero(); N];
        self.activation.forward(x, &mut y);
        y
    }

    #[inline]
    fn forward_train(&self, x: &[T; N], _ctx: &mut TrainCtx) -> ([T; N], Self::Cache) {
        let y = self.forward(x);
        (y, ActivationCache { z: *x, y })
    }

    #[inline]
    fn backward(&self, cache: &Self::Cache, dy: &[T; N], _grads: &mut Self) -> [T; N] {
        let mut dx = [T::zero(); N];
        self.activation.backward(&cache.z, &cache.y, dy, &mut dx);
        dx
    }

    /// No parameters: nothing to do.
    #[inline]
    fn backward_params(&self, _cache: &Self::Cache, _dy: &[T; N], _grads: &mut Self) {}
}

crate::impl_zero_bits!(unsafe impl[A: crate::ZeroBits, const N: usize, T] for ActivationLayer<A, N, T> { activation, scalar });
crate::impl_zero_bits!(unsafe impl[const N: usize, T: crate::ZeroBits] for ActivationCache<N, T> { z, y });

crate::stream::stateless_stream!(impl[A: ActivationFn<T>, const N: usize, T: Scalar] for ActivationLayer<A, N, T>, [T; N] => [T; N]);
