//! What makes a [`Chain`] a layer and a model: its `Layer`, `Params`, `Named` and `Zeros`
//! impls (only when the two layers' sizes meet), its batch cache, and its passes as
//! instruction-set tasks.

use crate::chain::Chain;
use crate::ctx::TrainCtx;
use crate::kernel::{InTask, MulAdd, SimdTask, in_best_simd_wide};
use crate::layer::{Layer, SampleCaches};
use crate::named::{Named, Setting, SettingMut, TensorInfo};
use crate::params::{Params, TensorShape};
use crate::zeros::Zeros;

/// `B` can follow `A`: the input of `B` is the output of `A` and both use the same scalar.
/// (A supertrait carrying the type equality; the readable error comes from [`Meets`].)
pub trait Follows<A: Layer>: Layer<Scalar = A::Scalar, Input = A::Output> {}

impl<A: Layer, B: Layer<Scalar = A::Scalar, Input = A::Output>> Follows<A> for B {}

/// The output of one layer (`Self`) has the size of the next layer's input (`Next`).
#[diagnostic::on_unimplemented(
    message = "the sizes of neighbouring layers do not meet: one layer outputs `{Self}`, the next takes `{Next}`",
    label = "this chain connects an output of one size to an input of another",
    note = "in `seq![L1, L2, ...]` / `Chain<L1, L2>`, each layer's IN must equal the OUT of the layer before it, and all layers must share one scalar type"
)]
pub trait Meets<Next> {}

impl<T, const N: usize> Meets<[T; N]> for [T; N] {}

/// Only a chain whose sizes meet is a model: it has no zero value, no parameters and no
/// optimizer otherwise (see [`Chain`]).
impl<A: Layer, B: Layer> Zeros for Chain<A, B>
where
    A::Output: Meets<B::Input>,
    B: Follows<A>,
{
    fn zeros() -> Self {
        Chain::new(A::zeros(), B::zeros())
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Chain {
                first: A::zeros_in_place,
                second: B::zeros_in_place
            }
        )
    }
}

crate::impl_zero_bits!(unsafe impl[A: crate::ZeroBits, B: crate::ZeroBits] for Chain<A, B> { first, second });

impl<A: Layer, B: Layer> Params for Chain<A, B>
where
    A::Output: Meets<B::Input>,
    B: Follows<A>,
{
    type Scalar = A::Scalar;
    const PARAM_COUNT: usize = A::PARAM_COUNT + B::PARAM_COUNT;

    fn tensors(&self) -> impl Iterator<Item = &[Self::Scalar]> {
        self.first.tensors().chain(self.second.tensors())
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [Self::Scalar]> {
        self.first.tensors_mut().chain(self.second.tensors_mut())
    }
    fn shapes() -> impl Iterator<Item = TensorShape> {
        A::shapes().chain(B::shapes())
    }
    fn restore_defaults(&mut self) {
        self.first.restore_defaults();
        self.second.restore_defaults();
    }
}

impl<A: Layer + Named, B: Layer + Named> Named for Chain<A, B>
where
    A::Output: Meets<B::Input>,
    B: Follows<A>,
{
    const MODULES: usize = A::MODULES + B::MODULES;
    /// The first layer's tensors as modules `module..`, then the second's after them.
    fn visit_tensors(&self, module: usize, f: &mut dyn FnMut(TensorInfo, &[Self::Scalar])) {
        self.first.visit_tensors(module, f);
        self.second.visit_tensors(module + A::MODULES, f);
    }
    fn visit_tensors_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(TensorInfo, &mut [Self::Scalar]),
    ) {
        self.first.visit_tensors_mut(module, f);
        self.second.visit_tensors_mut(module + A::MODULES, f);
    }
    fn visit_settings(&self, module: usize, f: &mut dyn FnMut(usize, &'static str, Setting)) {
        self.first.visit_settings(module, f);
        self.second.visit_settings(module + A::MODULES, f);
    }
    fn visit_settings_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(usize, &'static str, SettingMut<'_>),
    ) {
        self.first.visit_settings_mut(module, f);
        self.second.visit_settings_mut(module + A::MODULES, f);
    }
}

/// A chain's batch cache: the first layer's, the intermediate activations between the two
/// layers (the first layer's output and the second layer's input: stored once), their
/// gradient in backward, and the second layer's.
#[derive(Clone, Debug)]
pub struct ChainCache<CA, H, CB> {
    /// The first layer's batch cache.
    pub first: CA,
    /// The intermediate activations, `[A::Output; B]`.
    pub hidden: H,
    /// Their gradient (written by backward).
    pub hidden_grad: H,
    /// The second layer's batch cache.
    pub second: CB,
}

impl<CA: Zeros, H: Zeros, CB: Zeros> Zeros for ChainCache<CA, H, CB> {
    fn zeros() -> Self {
        ChainCache {
            first: CA::zeros(),
            hidden: H::zeros(),
            hidden_grad: H::zeros(),
            second: CB::zeros(),
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            ChainCache {
                first: crate::zeros::Zeros::zeros_in_place,
                hidden: crate::zeros::Zeros::zeros_in_place,
                hidden_grad: crate::zeros::Zeros::zeros_in_place,
                second: crate::zeros::Zeros::zeros_in_place
            }
        )
    }
}

/// Not one cache per sample: a chain implements its batched methods itself.
impl<CA, H, CB, C, const B: usize> SampleCaches<C, B> for ChainCache<CA, H, CB> {}

crate::impl_zero_bits!(
    unsafe impl[CA: crate::ZeroBits, H: crate::ZeroBits, CB: crate::ZeroBits]
    for ChainCache<CA, H, CB> { first, hidden, hidden_grad, second }
);

// A chain's passes as `SimdTask`s: each runs in one function compiled for the best
// instruction set the CPU has (see `kernel::in_best_simd`).

struct Forward<'a, A, B, X>(&'a Chain<A, B>, &'a X);

impl<A: Layer, B: Layer<Input = A::Output>> SimdTask for Forward<'_, A, B, A::Input>
where
    A::Output: Meets<B::Input>,
    B: Follows<A>,
{
    type Output = B::Output;
    /// The chain's [`forward_into_with`](Layer::forward_into_with) with the task's kernels.
    #[inline(always)]
    fn run<M: MulAdd>(self) -> B::Output {
        let mut y = B::Output::zeros();
        self.0.forward_into_with::<InTask<M>>(self.1, &mut y);
        y
    }
}

struct ForwardBatch<'a, A: Layer, B: Layer, const N: usize> {
    chain: &'a Chain<A, B>,
    x: &'a [A::Input; N],
    y: &'a mut [B::Output; N],
    scratch: &'a mut ChainCache<A::BatchCache<N>, [A::Output; N], B::BatchCache<N>>,
}

impl<A: Layer, B: Layer<Input = A::Output>, const N: usize> SimdTask for ForwardBatch<'_, A, B, N> {
    type Output = ();
    #[inline(always)]
    fn run<M: MulAdd>(self) {
        let s = self.scratch;
        self.chain
            .first
            .forward_batch(self.x, &mut s.hidden, &mut s.first);
        self.chain
            .second
            .forward_batch(&s.hidden, self.y, &mut s.second);
    }
}

struct TrainForward<'a, A: Layer, B: Layer, const N: usize> {
    chain: &'a Chain<A, B>,
    x: &'a [A::Input; N],
    y: &'a mut [B::Output; N],
    cache: &'a mut ChainCache<A::BatchCache<N>, [A::Output; N], B::BatchCache<N>>,
    ctx: &'a mut TrainCtx,
}

impl<A: Layer, B: Layer<Input = A::Output>, const N: usize> SimdTask for TrainForward<'_, A, B, N> {
    type Output = ();
    #[inline(always)]
    fn run<M: MulAdd>(self) {
        let c = self.cache;
        let chain = self.chain;
        chain
            .first
            .forward_train_batch_shared(self.x, &mut c.hidden, &mut c.first, self.ctx);
        chain
            .second
            .forward_train_batch_shared(&c.hidden, self.y, &mut c.second, self.ctx);
    }
}

/// Backward through both layers; `dx: None` skips the first layer's input gradient.
struct Backward<'a, A: Layer, B: Layer, const N: usize> {
    chain: &'a Chain<A, B>,
    x: &'a [A::Input; N],
    y: &'a [B::Output; N],
    cache: &'a mut ChainCache<A::BatchCache<N>, [A::Output; N], B::BatchCache<N>>,
    dy: &'a [B::Output; N],
    dx: Option<&'a mut [A::Input; N]>,
    grads: &'a mut Chain<A, B>,
}

impl<A: Layer, B: Layer<Input = A::Output>, const N: usize> SimdTask for Backward<'_, A, B, N> {
    type Output = ();
    #[inline(always)]
    fn run<M: MulAdd>(self) {
        let ChainCache {
            first,
            hidden,
            hidden_grad,
            second,
        } = self.cache;
        let (chain, grads) = (self.chain, self.grads);
        chain.second.backward_batch(
            hidden,
            self.y,
            second,
            self.dy,
            hidden_grad,
            &mut grads.second,
        );
        match self.dx {
            Some(dx) => {
                chain
                    .first
                    .backward_batch(self.x, hidden, first, hidden_grad, dx, &mut grads.first)
            }
            None => chain.first.backward_batch_params(
                self.x,
                hidden,
                first,
                hidden_grad,
                &mut grads.first,
            ),
        }
    }
}

impl<A: Layer, B: Layer> Layer for Chain<A, B>
where
    A::Output: Meets<B::Input>,
    B: Follows<A>,
{
    type Input = A::Input;
    type Output = B::Output;
    type Cache = (A::Cache, B::Cache);
    const MIN_TRAIN_ROWS: usize = if A::MIN_TRAIN_ROWS > B::MIN_TRAIN_ROWS {
        A::MIN_TRAIN_ROWS
    } else {
        B::MIN_TRAIN_ROWS
    };
    const WIDE: bool = A::WIDE || B::WIDE;
    type BatchCache<const N: usize> =
        ChainCache<A::BatchCache<N>, [A::Output; N], B::BatchCache<N>>;

    /// The whole chain runs in one function compiled for the best instruction set the CPU has
    /// (the layers' kernels inline into it instead of being called one by one).
    #[inline]
    fn forward(&self, x: &Self::Input) -> Self::Output {
        in_best_simd_wide(Forward(self, x), Self::WIDE)
    }

    #[inline(always)]
    fn forward_with<K: crate::kernel::Kernels>(&self, x: &Self::Input) -> Self::Output {
        let mut y = Self::Output::zeros();
        self.forward_into_with::<K>(x, &mut y);
        y
    }

    /// The hidden activation in one buffer here, each layer writing its output in place.
    #[inline(always)]
    fn forward_into_with<K: crate::kernel::Kernels>(&self, x: &Self::Input, y: &mut Self::Output) {
        // Zeroed where it lives: `A::Output::zeros()` built the value in a temporary and moved
        // it here, and the compiler kept both on the stack (VWW's forward needed 1.8 MiB).
        let mut slot = core::mem::MaybeUninit::uninit();
        let hidden = A::Output::zeros_in_place(&mut slot).get();
        self.first.forward_into_with::<K>(x, hidden);
        self.second.forward_into_with::<K>(hidden, y);
    }

    #[inline]
    fn forward_train(&self, x: &Self::Input, ctx: &mut TrainCtx) -> (Self::Output, Self::Cache) {
        let (h, ca) = self.first.forward_train(x, ctx);
        let (y, cb) = self.second.forward_train(&h, ctx);
        (y, (ca, cb))
    }

    #[inline]
    fn backward(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) -> Self::Input {
        let dh = self.second.backward(&cache.1, dy, &mut grads.second);
        self.first.backward(&cache.0, &dh, &mut grads.first)
    }

    #[inline]
    fn backward_params(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) {
        let dh = self.second.backward(&cache.1, dy, &mut grads.second);
        self.first.backward_params(&cache.0, &dh, &mut grads.first);
    }

    /// The intermediate activations go to `scratch.hidden`, not the stack.
    fn forward_batch<const N: usize>(
        &self,
        x: &[Self::Input; N],
        y: &mut [Self::Output; N],
        scratch: &mut Self::BatchCache<N>,
    ) {
        in_best_simd_wide(
            ForwardBatch {
                chain: self,
                x,
                y,
                scratch,
            },
            Self::WIDE,
        );
    }

    fn forward_train_batch_shared<const N: usize>(
        &self,
        x: &[Self::Input; N],
        y: &mut [Self::Output; N],
        cache: &mut Self::BatchCache<N>,
        ctx: &mut TrainCtx,
    ) {
        in_best_simd_wide(
            TrainForward {
                chain: self,
                x,
                y,
                cache,
                ctx,
            },
            Self::WIDE,
        );
    }

    fn update_statistics<const N: usize>(&mut self, cache: &Self::BatchCache<N>) {
        self.first.update_statistics(&cache.first);
        self.second.update_statistics(&cache.second);
    }

    fn backward_batch<const N: usize>(
        &self,
        x: &[Self::Input; N],
        y: &[Self::Output; N],
        cache: &mut Self::BatchCache<N>,
        dy: &[Self::Output; N],
        dx: &mut [Self::Input; N],
        grads: &mut Self,
    ) {
        in_best_simd_wide(
            Backward {
                chain: self,
                x,
                y,
                cache,
                dy,
                dx: Some(dx),
                grads,
            },
            Self::WIDE,
        );
    }

    fn backward_batch_params<const N: usize>(
        &self,
        x: &[Self::Input; N],
        y: &[Self::Output; N],
        cache: &mut Self::BatchCache<N>,
        dy: &[Self::Output; N],
        grads: &mut Self,
    ) {
        in_best_simd_wide(
            Backward {
                chain: self,
                x,
                y,
                cache,
                dy,
                dx: None,
                grads,
            },
            Self::WIDE,
        );
    }
}
