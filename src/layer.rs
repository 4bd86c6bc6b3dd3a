//! `Layer`: a differentiable map between fixed-size arrays, single-sample and batched.

use crate::chain::Chain;
use crate::ctx::TrainCtx;
use crate::params::Params;
use crate::zeros::Zeros;

/// A differentiable map from `Input` (`[T; IN]`) to `Output` (`[T; OUT]`).
///
/// Single-sample methods return by value; batched methods take a compile-time batch size `B`
/// and write into caller-owned outputs and caches (so large batches can live in a `Box`).
/// Backward passes **add** parameter gradients into `grads` (a value of the layer's own type)
/// and never overwrite them: zeroing is explicit ([`Params::fill_zero`]).
///
/// A custom layer implements the required methods; `examples/03_custom_layer.rs` shows one
/// checked with [`grad_check`](crate::testing::grad_check).
pub trait Layer: Params + Sized {
    /// One input sample, `[T; IN]`.
    type Input: Copy + Zeros;
    /// One output sample, `[T; OUT]`.
    type Output: Copy + Zeros;
    /// What `backward` needs from one sample's `forward_train`.
    type Cache;
    /// What `backward_batch` needs from a batch of `B` samples (also its scratch space).
    type BatchCache<const B: usize>: Zeros;

    /// Inference on one sample.
    fn forward(&self, x: &Self::Input) -> Self::Output;

    /// Training-mode forward on one sample, keeping what backward needs.
    fn forward_train(&self, x: &Self::Input, ctx: &mut TrainCtx) -> (Self::Output, Self::Cache);

    /// Adds `dL/dθ` into `grads` and returns `dL/dx`.
    fn backward(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) -> Self::Input;

    /// Adds `dL/dθ` into `grads` without computing `dL/dx` where the layer can skip it (the
    /// first layer of a network: its input gradient is rarely wanted).
    fn backward_params(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) {
        let _ = self.backward(cache, dy, grads);
    }

    /// Inference on a batch of `B` samples.
    fn forward_batch<const B: usize>(&self, x: &[Self::Input; B], y: &mut [Self::Output; B]) {
        for (yi, xi) in y.iter_mut().zip(x.iter()) {
            *yi = self.forward(xi);
        }
    }

    /// Training-mode forward on a batch. Takes `&mut self` because batch-statistics layers
    /// (BatchNorm) update their running statistics here.
    fn forward_train_batch<const B: usize>(
        &mut self,
        x: &[Self::Input; B],
        y: &mut [Self::Output; B],
        cache: &mut Self::BatchCache<B>,
        ctx: &mut TrainCtx,
    );

    /// Adds the batch's `dL/dθ` into `grads` and writes `dL/dx` for every sample. The cache
    /// may be used as scratch space and is not valid afterwards.
    fn backward_batch<const B: usize>(
        &self,
        cache: &mut Self::BatchCache<B>,
        dy: &[Self::Output; B],
        dx: &mut [Self::Input; B],
        grads: &mut Self,
    );

    /// Like `backward_batch` without `dL/dx` where the layer can skip it.
    fn backward_batch_params<const B: usize>(
        &self,
        cache: &mut Self::BatchCache<B>,
        dy: &[Self::Output; B],
        grads: &mut Self,
    ) {
        let mut dx = <[Self::Input; B]>::zeros();
        self.backward_batch(cache, dy, &mut dx, grads);
    }

    /// Composes `self` then `next`: compiles only when `next`'s input is `self`'s output.
    ///
    /// ```
    /// use constnet::{Dense, Layer, Relu, Zeros};
    /// let net = Dense::<2, 4, Relu, f64>::zeros().then(Dense::<4, 1, constnet::Identity, f64>::zeros());
    /// assert_eq!(net.forward(&[1.0, 2.0]), [0.0]);
    /// ```
    fn then<N>(self, next: N) -> Chain<Self, N>
    where
        N: Layer<Scalar = Self::Scalar, Input = Self::Output>,
    {
        Chain::new(self, next)
    }
}

/// Batched methods for layers whose batch cache is one single-sample cache per sample
/// (`type BatchCache<const B: usize> = [Self::Cache; B]`): a custom layer can implement its
/// batched methods by calling these.
pub mod per_sample {
    use super::*;

    /// `forward_train_batch` as a loop over `forward_train`.
    pub fn forward_train_batch<L: Layer, const B: usize>(
        layer: &L,
        x: &[L::Input; B],
        y: &mut [L::Output; B],
        cache: &mut [L::Cache; B],
        ctx: &mut TrainCtx,
    ) {
        for i in 0..B {
            let (yi, ci) = layer.forward_train(&x[i], ctx);
            y[i] = yi;
            cache[i] = ci;
        }
    }

    /// `backward_batch` as a loop over `backward`.
    pub fn backward_batch<L: Layer, const B: usize>(
        layer: &L,
        cache: &[L::Cache; B],
        dy: &[L::Output; B],
        dx: &mut [L::Input; B],
        grads: &mut L,
    ) {
        for i in 0..B {
            dx[i] = layer.backward(&cache[i], &dy[i], grads);
        }
    }

    /// `backward_batch_params` as a loop over `backward_params`.
    pub fn backward_batch_params<L: Layer, const B: usize>(
        layer: &L,
        cache: &[L::Cache; B],
        dy: &[L::Output; B],
        grads: &mut L,
    ) {
        for i in 0..B {
            layer.backward_params(&cache[i], &dy[i], grads);
        }
    }
}
