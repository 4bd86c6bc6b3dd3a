//! `Residual`: `y = act(F(x) + S(x))`, a residual block around any two layers with the same
//! input and output types (ResNet's basic block), and `Skip`, the identity shortcut.

use core::marker::PhantomData;

use crate::activations::{Identity, Pointwise};
use crate::ctx::TrainCtx;
use crate::layer::{Layer, SampleCaches};
use crate::layers::activation_map::ArrayOf;
use crate::layers::parameter_free::parameter_free;
use crate::named::{Named, Setting, SettingMut, TensorInfo};
use crate::params::{Params, TensorShape};
use crate::testing::Scalars;
use crate::zeros::{InPlace, Zeros};

/// `y = A(F(x) + S(x))`: the main path `F` and the shortcut `S` (a [`Skip`] for the identity,
/// or a projection such as a strided 1×1 convolution and a BatchNorm) see the same input and
/// must give outputs of the same type; `A` is an elementwise activation (ResNet: `Relu`).
/// It is a layer like any other: it nests, goes in `seq!`, trains (batch statistics
/// included: the batched passes run both paths' batched methods).
///
/// Parameters walk the main path's, then the shortcut's; in weight files the main path's
/// modules come first, then the shortcut's, numbered on from them.
///
/// ```
/// use constnet::init::{self, Init};
/// use constnet::{Dense, Layer, Relu, Residual, Skip, seq};
/// // relu(x + W₂·relu(W₁·x + b₁) + b₂)
/// type Block = Residual<seq![Dense<4, 8, Relu>, Dense<8, 4>], Skip<[f32; 4]>, Relu>;
/// let block: Block = init::seeded(Init::HeUniform, 0);
/// let y = block.forward(&[1.0, -2.0, 3.0, 0.5]);
/// assert!(y.iter().all(|&v| v >= 0.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Residual<F, S, A = Identity> {
    /// The main path `F`.
    pub main: F,
    /// The shortcut `S`.
    pub shortcut: S,
    /// The activation after the sum.
    pub activation: A,
}

/// The identity as a layer over `X` (PyTorch's `nn.Identity()`): a [`Residual`]'s shortcut
/// when the input already has the output's shape. No parameters, no module in weight files.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Skip<X> {
    shape: PhantomData<X>,
}

impl<X> Skip<X> {
    /// The layer.
    pub const fn new() -> Self {
        Skip { shape: PhantomData }
    }
}

parameter_free!(
    impl[X: ArrayOf] for Skip<X>,
    scalar X::Scalar,
    modules 0,
    "No module (PyTorch's `nn.Identity()` has no parameters and no key)."
);

impl<X: ArrayOf> Layer for Skip<X> {
    type Input = X;
    type Output = X;
    type Cache = ();
    type BatchCache<const B: usize> = [(); B];
    const IDENTITY: bool = true;

    #[inline(always)]
    fn forward(&self, x: &X) -> X {
        *x
    }
    fn forward_train(&self, x: &X, _ctx: &mut TrainCtx) -> (X, ()) {
        (*x, ())
    }
    fn backward(&self, _cache: &(), dy: &X, _grads: &mut Self) -> X {
        *dy
    }
}

/// A [`Residual`]'s batch cache: both paths' caches, their outputs, the sum before the
/// activation, its gradient and the shortcut's input gradient (all caller-owned).
#[derive(Clone, Copy, Debug)]
pub struct ResidualCache<FC, SC, Y, X> {
    /// The main path's batch cache.
    pub main: FC,
    /// The shortcut's batch cache.
    pub shortcut: SC,
    /// The main path's outputs, `[Y; B]`.
    pub main_out: Y,
    /// The shortcut's outputs, `[Y; B]`.
    pub shortcut_out: Y,
    /// The sums `F(x) + S(x)`, then (in backward) their gradients.
    pub z: Y,
    /// The shortcut's input gradients, `[X; B]`.
    pub shortcut_dx: X,
}

impl<FC: Zeros, SC: Zeros, Y: Zeros, X: Zeros> Zeros for ResidualCache<FC, SC, Y, X> {
    fn zeros() -> Self {
        ResidualCache {
            main: Zeros::zeros(),
            shortcut: Zeros::zeros(),
            main_out: Zeros::zeros(),
            shortcut_out: Zeros::zeros(),
            z: Zeros::zeros(),
            shortcut_dx: Zeros::zeros(),
        }
    }

    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            ResidualCache {
                main: Zeros::zeros_in_place,
                shortcut: Zeros::zeros_in_place,
                main_out: Zeros::zeros_in_place,
                shortcut_out: Zeros::zeros_in_place,
                z: Zeros::zeros_in_place,
                shortcut_dx: Zeros::zeros_in_place,
            }
        )
    }
}

/// Not one cache per sample: the block implements its batched methods itself.
impl<FC, SC, Y, X, C, const B: usize> SampleCaches<C, B> for ResidualCache<FC, SC, Y, X> {}

crate::impl_zero_bits!(
    unsafe impl[FC: crate::ZeroBits, SC: crate::ZeroBits, Y: crate::ZeroBits, X: crate::ZeroBits]
    for ResidualCache<FC, SC, Y, X> { main, shortcut, main_out, shortcut_out, z, shortcut_dx }
);
crate::impl_zero_bits!(
    unsafe impl[F: crate::ZeroBits, S: crate::ZeroBits, A: crate::ZeroBits]
    for Residual<F, S, A> { main, shortcut, activation }
);

/// `y = A(z)` elementwise.
#[inline]
fn activate<A: Pointwise, T: crate::scalar::Scalar, Y: Scalars<T>>(
    activation: &A,
    z: &Y,
    y: &mut Y,
) {
    for (yi, &zi) in y.scalars_mut().iter_mut().zip(z.scalars()) {
        *yi = activation.f(zi);
    }
}

/// `dz = dy·A'(z)` elementwise (written over `z`).
#[inline]
fn activation_grad<A: Pointwise, T: crate::scalar::Scalar, Y: Scalars<T>>(
    activation: &A,
    z: &mut Y,
    y: &Y,
    dy: &Y,
) {
    for ((zi, &yi), &di) in z
        .scalars_mut()
        .iter_mut()
        .zip(y.scalars())
        .zip(dy.scalars())
    {
        *zi = di * activation.df(*zi, yi);
    }
}

/// `a += b` elementwise.
#[inline]
fn add_into<T: crate::scalar::Scalar, Y: Scalars<T>>(a: &mut Y, b: &Y) {
    for (ai, &bi) in a.scalars_mut().iter_mut().zip(b.scalars()) {
        *ai += bi;
    }
}

impl<F, S, A> Zeros for Residual<F, S, A>
where
    F: Layer,
    S: Layer<Scalar = F::Scalar, Input = F::Input, Output = F::Output>,
    A: Pointwise,
{
    fn zeros() -> Self {
        Residual {
            main: F::zeros(),
            shortcut: S::zeros(),
            activation: A::default(),
        }
    }

    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Residual {
                main: F::zeros_in_place,
                shortcut: S::zeros_in_place,
                activation: |s| InPlace::write(s, A::default()),
            }
        )
    }
}

impl<F, S, A> Params for Residual<F, S, A>
where
    F: Layer,
    S: Layer<Scalar = F::Scalar, Input = F::Input, Output = F::Output>,
    A: Pointwise,
{
    type Scalar = F::Scalar;
    const PARAM_COUNT: usize = F::PARAM_COUNT + S::PARAM_COUNT;
    fn tensors(&self) -> impl Iterator<Item = &[Self::Scalar]> {
        self.main.tensors().chain(self.shortcut.tensors())
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [Self::Scalar]> {
        self.main.tensors_mut().chain(self.shortcut.tensors_mut())
    }
    fn shapes() -> impl Iterator<Item = TensorShape> {
        F::shapes().chain(S::shapes())
    }
    fn restore_defaults(&mut self) {
        self.main.restore_defaults();
        self.shortcut.restore_defaults();
        self.activation = A::default();
    }
}

/// The main path's modules, then the shortcut's, then the activation's.
impl<F, S, A> Named for Residual<F, S, A>
where
    F: Layer + Named,
    S: Layer<Scalar = F::Scalar, Input = F::Input, Output = F::Output> + Named,
    A: Pointwise,
{
    const MODULES: usize = F::MODULES + S::MODULES + A::MODULES;
    fn visit_tensors(&self, module: usize, f: &mut dyn FnMut(TensorInfo, &[Self::Scalar])) {
        self.main.visit_tensors(module, f);
        self.shortcut.visit_tensors(module + F::MODULES, f);
    }
    fn visit_tensors_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(TensorInfo, &mut [Self::Scalar]),
    ) {
        self.main.visit_tensors_mut(module, f);
        self.shortcut.visit_tensors_mut(module + F::MODULES, f);
    }
    fn visit_settings(&self, module: usize, f: &mut dyn FnMut(usize, &'static str, Setting)) {
        self.main.visit_settings(module, f);
        self.shortcut.visit_settings(module + F::MODULES, f);
        let last = module + F::MODULES + S::MODULES;
        self.activation
            .visit_settings(&mut |name, value| f(last, name, value));
    }
    fn visit_settings_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(usize, &'static str, SettingMut<'_>),
    ) {
        self.main.visit_settings_mut(module, f);
        self.shortcut.visit_settings_mut(module + F::MODULES, f);
        let last = module + F::MODULES + S::MODULES;
        self.activation
            .visit_settings_mut(&mut |name, value| f(last, name, value));
    }
}

impl<F, S, A> Layer for Residual<F, S, A>
where
    F: Layer,
    S: Layer<Scalar = F::Scalar, Input = F::Input, Output = F::Output>,
    A: Pointwise,
    F::Input: Scalars<F::Scalar>,
    F::Output: Scalars<F::Scalar>,
{
    const WIDE: bool = F::WIDE || S::WIDE;
    type Input = F::Input;
    type Output = F::Output;
    /// Both paths' caches, the sum and the output.
    type Cache = (F::Cache, S::Cache, F::Output, F::Output);
    type BatchCache<const B: usize> =
        ResidualCache<F::BatchCache<B>, S::BatchCache<B>, [F::Output; B], [F::Input; B]>;
    const MIN_TRAIN_ROWS: usize = if F::MIN_TRAIN_ROWS > S::MIN_TRAIN_ROWS {
        F::MIN_TRAIN_ROWS
    } else {
        S::MIN_TRAIN_ROWS
    };

    fn forward(&self, x: &Self::Input) -> Self::Output {
        let mut z = self.main.forward(x);
        add_into(&mut z, &self.shortcut.forward(x));
        let mut y = z;
        activate(&self.activation, &z, &mut y);
        y
    }

    #[inline(always)]
    fn forward_with<K: crate::kernel::Kernels>(&self, x: &Self::Input) -> Self::Output {
        let mut y = Self::Output::zeros();
        self.forward_into_with::<K>(x, &mut y);
        y
    }

    /// The main path into `y`, then the shortcut added and the activation applied in one
    /// pass (an identity shortcut read straight from `x`): the same operations as
    /// [`forward`](Layer::forward).
    #[inline(always)]
    fn forward_into_with<K: crate::kernel::Kernels>(&self, x: &Self::Input, y: &mut Self::Output) {
        self.main.forward_into_with::<K>(x, y);
        let mut add = |s: &[F::Scalar]| {
            for (yi, &si) in y.scalars_mut().iter_mut().zip(s) {
                *yi = self.activation.f(*yi + si);
            }
        };
        if S::IDENTITY {
            add(x.scalars());
        } else {
            add(self.shortcut.forward_with::<K>(x).scalars());
        }
    }

    fn forward_train(&self, x: &Self::Input, ctx: &mut TrainCtx) -> (Self::Output, Self::Cache) {
        let (mut z, main) = self.main.forward_train(x, ctx);
        let (s, shortcut) = self.shortcut.forward_train(x, ctx);
        add_into(&mut z, &s);
        let mut y = z;
        activate(&self.activation, &z, &mut y);
        (y, (main, shortcut, z, y))
    }

    fn backward(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) -> Self::Input {
        let (main, shortcut, mut dz, y) = (&cache.0, &cache.1, cache.2, &cache.3);
        activation_grad(&self.activation, &mut dz, y, dy);
        let mut dx = self.main.backward(main, &dz, &mut grads.main);
        add_into(
            &mut dx,
            &self.shortcut.backward(shortcut, &dz, &mut grads.shortcut),
        );
        dx
    }

    fn backward_params(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) {
        let (main, shortcut, mut dz, y) = (&cache.0, &cache.1, cache.2, &cache.3);
        activation_grad(&self.activation, &mut dz, y, dy);
        self.main.backward_params(main, &dz, &mut grads.main);
        self.shortcut
            .backward_params(shortcut, &dz, &mut grads.shortcut);
    }

    fn forward_batch<const B: usize>(
        &self,
        x: &[Self::Input; B],
        y: &mut [Self::Output; B],
        scratch: &mut Self::BatchCache<B>,
    ) {
        self.main.forward_batch(x, y, &mut scratch.main);
        self.shortcut
            .forward_batch(x, &mut scratch.shortcut_out, &mut scratch.shortcut);
        for (yb, sb) in y.iter_mut().zip(scratch.shortcut_out.iter()) {
            add_into(yb, sb);
            let z = *yb;
            activate(&self.activation, &z, yb);
        }
    }

    fn forward_train_batch_shared<const B: usize>(
        &self,
        x: &[Self::Input; B],
        y: &mut [Self::Output; B],
        cache: &mut Self::BatchCache<B>,
        ctx: &mut TrainCtx,
    ) {
        self.main
            .forward_train_batch_shared(x, &mut cache.main_out, &mut cache.main, ctx);
        self.shortcut.forward_train_batch_shared(
            x,
            &mut cache.shortcut_out,
            &mut cache.shortcut,
            ctx,
        );
        for (((zb, yb), mb), sb) in cache
            .z
            .iter_mut()
            .zip(y.iter_mut())
            .zip(cache.main_out.iter())
            .zip(cache.shortcut_out.iter())
        {
            *zb = *mb;
            add_into(zb, sb);
            activate(&self.activation, zb, yb);
        }
    }

    fn update_statistics<const B: usize>(&mut self, cache: &Self::BatchCache<B>) {
        self.main.update_statistics(&cache.main);
        self.shortcut.update_statistics(&cache.shortcut);
    }

    fn backward_batch<const B: usize>(
        &self,
        x: &[Self::Input; B],
        y: &[Self::Output; B],
        cache: &mut Self::BatchCache<B>,
        dy: &[Self::Output; B],
        dx: &mut [Self::Input; B],
        grads: &mut Self,
    ) {
        for ((zb, yb), db) in cache.z.iter_mut().zip(y.iter()).zip(dy.iter()) {
            activation_grad(&self.activation, zb, yb, db);
        }
        let ResidualCache {
            main,
            shortcut,
            main_out,
            shortcut_out,
            z,
            shortcut_dx,
        } = cache;
        self.main
            .backward_batch(x, main_out, main, z, dx, &mut grads.main);
        self.shortcut.backward_batch(
            x,
            shortcut_out,
            shortcut,
            z,
            shortcut_dx,
            &mut grads.shortcut,
        );
        for (d, s) in dx.iter_mut().zip(shortcut_dx.iter()) {
            add_into(d, s);
        }
    }

    fn backward_batch_params<const B: usize>(
        &self,
        x: &[Self::Input; B],
        y: &[Self::Output; B],
        cache: &mut Self::BatchCache<B>,
        dy: &[Self::Output; B],
        grads: &mut Self,
    ) {
        for ((zb, yb), db) in cache.z.iter_mut().zip(y.iter()).zip(dy.iter()) {
            activation_grad(&self.activation, zb, yb, db);
        }
        let ResidualCache {
            main,
            shortcut,
            main_out,
            shortcut_out,
            z,
            ..
        } = cache;
        self.main
            .backward_batch_params(x, main_out, main, z, &mut grads.main);
        self.shortcut
            .backward_batch_params(x, shortcut_out, shortcut, z, &mut grads.shortcut);
    }
}
