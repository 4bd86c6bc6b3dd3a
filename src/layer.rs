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
/// A custom layer implements the single-sample methods (`forward`, `forward_train`,
/// `backward`) and sets `type BatchCache<const B: usize> = [Self::Cache; B];`: the batched
/// methods then have default bodies that loop over samples. A layer with a real batched kernel
/// overrides them. `examples/03_custom_layer.rs` shows one checked with
/// [`grad_check`](crate::testing::grad_check).
pub trait Layer: Params + Sized {
    /// One input sample, `[T; IN]`.
    type Input: Copy + Zeros;
    /// One output sample, `[T; OUT]`.
    type Output: Copy + Zeros;
    /// What `backward` needs from one sample's `forward_train`.
    type Cache;
    /// What `backward_batch` needs from a batch of `B` samples (also the scratch space of
    /// `forward_batch`). A layer without a batched kernel uses `[Self::Cache; B]` and gets
    /// every batched method from the defaults.
    type BatchCache<const B: usize>: Zeros + SampleCaches<Self::Cache, B>;
    /// The fewest real rows a training batch may hold (see [`TrainCtx::set_real_rows`]): 1
    /// for per-sample layers, 2 for [`BatchNorm`](crate::BatchNorm) (its variance needs two
    /// samples), the largest of its layers for a chain. A training loop checks its short
    /// last batch against it before it starts.
    const MIN_TRAIN_ROWS: usize = 1;
    /// Whether this layer's passes gain from AVX-512's 16-float vectors: a chain holding
    /// such a layer runs its passes (forward, batched forward, training forward, backward)
    /// in a function compiled with AVX-512F as well where the CPU has it, instead of AVX2
    /// and FMA alone. The same operations either way, so the same bits. `false` unless a
    /// layer says otherwise ([`Conv2d`](crate::Conv2d) does); a chain's is its layers' `||`.
    const WIDE: bool = false;
    /// Whether `forward` is the identity (the output the input's values, in order):
    /// [`Skip`](crate::Skip), so a [`Residual`](crate::Residual) adds its input without a
    /// copy.
    #[doc(hidden)]
    const IDENTITY: bool = false;

    /// Inference on one sample.
    fn forward(&self, x: &Self::Input) -> Self::Output;

    /// [`forward`](Layer::forward) with its kernels taken from `K`: what a chain's forward
    /// calls inside the one function it compiles for the CPU's best instruction set, so a
    /// layer's kernels inline there instead of dispatching call by call. The same bits as
    /// `forward`. The default calls `forward`.
    #[doc(hidden)]
    #[inline(always)]
    fn forward_with<K: crate::kernel::Kernels>(&self, x: &Self::Input) -> Self::Output {
        self.forward(x)
    }

    /// [`forward_with`](Layer::forward_with) written into `y` (whatever `y` held is
    /// overwritten): how a chain passes each activation to the next layer through one buffer
    /// instead of returning it by value (a copy of the image per layer in the MLPerf Tiny
    /// models). The same bits. The default stores `forward_with`'s result; layers with large
    /// outputs ([`Conv2d`](crate::Conv2d), [`Residual`](crate::Residual)) write in place.
    #[doc(hidden)]
    #[inline(always)]
    fn forward_into_with<K: crate::kernel::Kernels>(&self, x: &Self::Input, y: &mut Self::Output) {
        *y = self.forward_with::<K>(x);
    }

    /// Training-mode forward on one sample, keeping what backward needs.
    fn forward_train(&self, x: &Self::Input, ctx: &mut TrainCtx) -> (Self::Output, Self::Cache);

    /// Adds `dL/dθ` into `grads` and returns `dL/dx`.
    fn backward(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) -> Self::Input;

    /// Adds `dL/dθ` into `grads` without computing `dL/dx` where the layer can skip it (the
    /// first layer of a network: its input gradient is rarely wanted).
    fn backward_params(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) {
        let _ = self.backward(cache, dy, grads);
    }

    /// Inference on a batch of `B` samples. `scratch` is caller-owned working space (a chain
    /// keeps its intermediate activations there, so nothing of batch size is put on the
    /// stack); what it holds afterwards is unspecified. Put it in a `Box`
    /// ([`zeroed_box`](crate::zeroed_box)) for large batches.
    ///
    /// The default runs [`forward`](Layer::forward) on each sample.
    fn forward_batch<const B: usize>(
        &self,
        x: &[Self::Input; B],
        y: &mut [Self::Output; B],
        scratch: &mut Self::BatchCache<B>,
    ) {
        let _ = scratch;
        for (yi, xi) in y.iter_mut().zip(x.iter()) {
            *yi = self.forward(xi);
        }
    }

    /// Training-mode forward on a batch: [`forward_train_batch_shared`] then
    /// [`update_statistics`] (BatchNorm's running statistics). Not meant to be overridden.
    ///
    /// [`forward_train_batch_shared`]: Layer::forward_train_batch_shared
    /// [`update_statistics`]: Layer::update_statistics
    fn forward_train_batch<const B: usize>(
        &mut self,
        x: &[Self::Input; B],
        y: &mut [Self::Output; B],
        cache: &mut Self::BatchCache<B>,
        ctx: &mut TrainCtx,
    ) {
        self.forward_train_batch_shared(x, y, cache, ctx);
        self.update_statistics(cache);
    }

    /// Training-mode forward on a batch through a shared reference: what batch-statistics
    /// layers would change (BatchNorm's running statistics) is left in `cache`, for
    /// [`update_statistics`](Layer::update_statistics). Data-parallel training runs this on
    /// several threads at once.
    ///
    /// The default runs [`forward_train`](Layer::forward_train) on each sample; it needs a
    /// batch cache of one cache per sample (`type BatchCache<const B: usize> =
    /// [Self::Cache; B]`), and any other batch cache type must override this method and the
    /// two backward ones (a build error says so otherwise).
    fn forward_train_batch_shared<const B: usize>(
        &self,
        x: &[Self::Input; B],
        y: &mut [Self::Output; B],
        cache: &mut Self::BatchCache<B>,
        ctx: &mut TrainCtx,
    ) {
        let caches = per_sample_caches::<Self, B>(cache);
        for ((yi, ci), xi) in y.iter_mut().zip(caches.iter_mut()).zip(x.iter()) {
            let (out, sample_cache) = self.forward_train(xi, ctx);
            *yi = out;
            *ci = sample_cache;
        }
    }

    /// Applies what a [`forward_train_batch_shared`](Layer::forward_train_batch_shared) call
    /// left in `cache` to the layer's non-trained state (BatchNorm: the running mean and
    /// variance, with its momentum). Nothing for other layers.
    fn update_statistics<const B: usize>(&mut self, cache: &Self::BatchCache<B>) {
        let _ = cache;
    }

    /// Adds the batch's `dL/dθ` into `grads` and writes `dL/dx` for every sample.
    ///
    /// `x` and `y` are the input and output of the `forward_train_batch` call that filled
    /// `cache`, unchanged: activations are stored once per network (a layer's output buffer
    /// is the next layer's input), so layers read them here instead of keeping copies. The
    /// cache may be used as scratch space and is not valid afterwards.
    ///
    /// The default runs [`backward`](Layer::backward) on each sample (see
    /// [`forward_train_batch`](Layer::forward_train_batch) for when it applies).
    fn backward_batch<const B: usize>(
        &self,
        x: &[Self::Input; B],
        y: &[Self::Output; B],
        cache: &mut Self::BatchCache<B>,
        dy: &[Self::Output; B],
        dx: &mut [Self::Input; B],
        grads: &mut Self,
    ) {
        let _ = (x, y);
        let caches = per_sample_caches::<Self, B>(cache);
        for ((dxi, ci), dyi) in dx.iter_mut().zip(caches.iter()).zip(dy.iter()) {
            *dxi = self.backward(ci, dyi, grads);
        }
    }

    /// Like `backward_batch` without `dL/dx` where the layer can skip it.
    ///
    /// The default runs [`backward_params`](Layer::backward_params) on each sample (see
    /// [`forward_train_batch`](Layer::forward_train_batch) for when it applies).
    fn backward_batch_params<const B: usize>(
        &self,
        x: &[Self::Input; B],
        y: &[Self::Output; B],
        cache: &mut Self::BatchCache<B>,
        dy: &[Self::Output; B],
        grads: &mut Self,
    ) {
        let _ = (x, y);
        let caches = per_sample_caches::<Self, B>(cache);
        for (ci, dyi) in caches.iter().zip(dy.iter()) {
            self.backward_params(ci, dyi, grads);
        }
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

/// The per-sample caches inside a batch cache, for the default batched methods; a build error
/// (naming the fix) when the layer's batch cache is not one cache per sample.
#[inline(always)]
fn per_sample_caches<L: Layer, const B: usize>(cache: &mut L::BatchCache<B>) -> &mut [L::Cache; B] {
    const {
        assert!(
            <L::BatchCache<B> as SampleCaches<L::Cache, B>>::PER_SAMPLE,
            "this layer's BatchCache is not `[Self::Cache; B]`: implement forward_train_batch, backward_batch and backward_batch_params for it"
        )
    };
    match cache.per_sample() {
        Some(caches) => caches,
        None => unreachable!("a batch cache with PER_SAMPLE = true gives its per-sample caches"),
    }
}

/// How a layer's batch cache relates to its single-sample cache `C`.
///
/// `[C; B]` (one cache per sample) is the layout the default batched methods of [`Layer`]
/// work with; a layer with its own batch layout (struct-of-arrays, batch statistics)
/// implements this trait with the defaults (`impl<...> SampleCaches<C, B> for MyCache {}`) and
/// overrides the batched methods.
///
/// A layer whose batch cache is one cache per sample needs no batched method:
/// ```
/// use constnet::{Layer, Params, TensorShape, TrainCtx, Zeros};
/// #[derive(Clone, Copy)]
/// struct Double;
/// impl Zeros for Double { fn zeros() -> Self { Double } }
/// impl Params for Double {
///     type Scalar = f32;
///     const PARAM_COUNT: usize = 0;
///     fn tensors(&self) -> impl Iterator<Item = &[f32]> { core::iter::empty() }
///     fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> { core::iter::empty() }
///     fn shapes() -> impl Iterator<Item = TensorShape> { core::iter::empty() }
/// }
/// impl Layer for Double {
///     type Input = [f32; 2];
///     type Output = [f32; 2];
///     type Cache = ();
///     type BatchCache<const B: usize> = [(); B];
///     fn forward(&self, x: &[f32; 2]) -> [f32; 2] { [2.0 * x[0], 2.0 * x[1]] }
///     fn forward_train(&self, x: &[f32; 2], _: &mut TrainCtx) -> ([f32; 2], ()) { (self.forward(x), ()) }
///     fn backward(&self, _: &(), dy: &[f32; 2], _: &mut Self) -> [f32; 2] { [2.0 * dy[0], 2.0 * dy[1]] }
/// }
/// let mut y = [[0.0; 2]; 3];
/// Double.forward_train_batch(&[[1.0, 2.0]; 3], &mut y, &mut [(); 3], &mut TrainCtx::new(0));
/// assert_eq!(y, [[2.0, 4.0]; 3]);
/// ```
/// With any other batch cache and no batched methods of its own, the build fails, naming the
/// methods to write:
/// ```compile_fail
/// use constnet::{Layer, Params, SampleCaches, TensorShape, TrainCtx, Zeros};
/// #[derive(Clone, Copy)]
/// struct Double;
/// impl Zeros for Double { fn zeros() -> Self { Double } }
/// impl Params for Double {
///     type Scalar = f32;
///     const PARAM_COUNT: usize = 0;
///     fn tensors(&self) -> impl Iterator<Item = &[f32]> { core::iter::empty() }
///     fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> { core::iter::empty() }
///     fn shapes() -> impl Iterator<Item = TensorShape> { core::iter::empty() }
/// }
/// struct Batch<const B: usize>([(); B]);
/// impl<const B: usize> Zeros for Batch<B> { fn zeros() -> Self { Batch([(); B]) } }
/// impl<const B: usize> SampleCaches<(), B> for Batch<B> {}
/// impl Layer for Double {
///     type Input = [f32; 2];
///     type Output = [f32; 2];
///     type Cache = ();
///     type BatchCache<const B: usize> = Batch<B>;
///     fn forward(&self, x: &[f32; 2]) -> [f32; 2] { [2.0 * x[0], 2.0 * x[1]] }
///     fn forward_train(&self, x: &[f32; 2], _: &mut TrainCtx) -> ([f32; 2], ()) { (self.forward(x), ()) }
///     fn backward(&self, _: &(), dy: &[f32; 2], _: &mut Self) -> [f32; 2] { [2.0 * dy[0], 2.0 * dy[1]] }
/// }
/// let mut y = [[0.0; 2]; 3];
/// Double.forward_train_batch(&[[1.0, 2.0]; 3], &mut y, &mut Batch([(); 3]), &mut TrainCtx::new(0));
/// ```
pub trait SampleCaches<C, const B: usize> {
    /// Whether the batch cache is one `C` per sample.
    const PER_SAMPLE: bool = false;
    /// The per-sample caches, when [`PER_SAMPLE`](SampleCaches::PER_SAMPLE) is true.
    fn per_sample(&mut self) -> Option<&mut [C; B]> {
        None
    }
}

impl<C, const B: usize> SampleCaches<C, B> for [C; B] {
    const PER_SAMPLE: bool = true;
    #[inline(always)]
    fn per_sample(&mut self) -> Option<&mut [C; B]> {
        Some(self)
    }
}

/// A pair of batch buffers (for custom layers with their own batched kernels).
impl<X, Y, C, const B: usize> SampleCaches<C, B> for (X, Y) {}

/// Three batch buffers (for custom layers with their own batched kernels).
impl<X, Y, Z, C, const B: usize> SampleCaches<C, B> for (X, Y, Z) {}
