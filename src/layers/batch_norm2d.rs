//! `BatchNorm2d`: per-channel normalization of channels-last images, with statistics over
//! the batch and every pixel.

use core::marker::PhantomData;

use crate::ctx::TrainCtx;
use crate::layer::{Layer, SampleCaches};
use crate::layers::batch_norm::{BatchNorm, BatchStats};
use crate::named::{Named, Setting, SettingMut, TensorInfo};
use crate::params::{Params, TensorShape};
use crate::scalar::Scalar;
use crate::zeros::{InPlace, Zeros};

/// PyTorch's `nn.BatchNorm2d(C)` on `H × W` channels-last images: a [`BatchNorm`] over `C`
/// channels whose batch statistics (training) are taken over all `B·H·W` pixels of the batch
/// (the running variance with the unbiased factor `n/(n − 1)`, `n = B·H·W`); inference uses
/// the running statistics. The parameters, buffers, settings and weight-file names are the
/// `BatchNorm`'s (the layer dereferences to it: `running_mean()`, `eps`, ...).
///
/// ```
/// use constnet::{BatchNorm2d, Layer, TrainCtx, Zeros};
/// let mut norm = BatchNorm2d::<1, 1, 2, f64>::new();
/// let x = [[[[1.0], [3.0]]], [[[5.0], [7.0]]]]; // two 1×2 images
/// let mut y = [[[[0.0]; 2]; 1]; 2];
/// let mut cache = Zeros::zeros();
/// norm.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
/// assert_eq!(norm.running_mean(), &[0.4]); // 0.1 · mean of the 4 pixels
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNorm2d<const C: usize, const H: usize, const W: usize, T = f32> {
    norm: BatchNorm<C, T>,
    shape: PhantomData<[[(); W]; H]>,
}

/// What [`BatchNorm2d`]'s batched backward needs from a training batch of `B` images.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNorm2dCache<const C: usize, const H: usize, const W: usize, const B: usize, T> {
    /// The normalized inputs `x̂`, per image.
    pub normalized: [[[[T; C]; W]; H]; B],
    /// The batch statistics per channel.
    pub stats: BatchStats<C, T>,
}

impl<const C: usize, const H: usize, const W: usize, const B: usize, T: Scalar> Zeros
    for BatchNorm2dCache<C, H, W, B, T>
{
    fn zeros() -> Self {
        BatchNorm2dCache {
            normalized: Zeros::zeros(),
            stats: Zeros::zeros(),
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            BatchNorm2dCache {
                normalized: Zeros::zeros_in_place,
                stats: Zeros::zeros_in_place,
            }
        )
    }
}

/// Not one cache per sample: BatchNorm2d implements its batched methods itself.
impl<const C: usize, const H: usize, const W: usize, const B: usize, T> SampleCaches<(), B>
    for BatchNorm2dCache<C, H, W, B, T>
{
}

impl<const C: usize, const H: usize, const W: usize, T: Scalar> BatchNorm2d<C, H, W, T> {
    /// PyTorch's initial layer: weight 1, bias 0, running mean 0, running variance 1,
    /// `eps = 1e-5`, `momentum = 0.1`.
    pub fn new() -> Self {
        Self::from_norm(BatchNorm::new())
    }

    /// The layer around a [`BatchNorm`]'s parameters and statistics.
    pub const fn from_norm(norm: BatchNorm<C, T>) -> Self {
        BatchNorm2d {
            norm,
            shape: PhantomData,
        }
    }
}

impl<const C: usize, const H: usize, const W: usize, T> core::ops::Deref
    for BatchNorm2d<C, H, W, T>
{
    type Target = BatchNorm<C, T>;
    #[inline(always)]
    fn deref(&self) -> &BatchNorm<C, T> {
        &self.norm
    }
}

impl<const C: usize, const H: usize, const W: usize, T> core::ops::DerefMut
    for BatchNorm2d<C, H, W, T>
{
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut BatchNorm<C, T> {
        &mut self.norm
    }
}

impl<const C: usize, const H: usize, const W: usize, T: Scalar> Default
    for BatchNorm2d<C, H, W, T>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const C: usize, const H: usize, const W: usize, T: Scalar> Zeros for BatchNorm2d<C, H, W, T> {
    /// As [`BatchNorm`]'s: weight and bias zero, statistics and settings at their defaults.
    fn zeros() -> Self {
        Self::from_norm(BatchNorm::zeros())
    }

    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            BatchNorm2d {
                norm: Zeros::zeros_in_place,
                shape: |s| InPlace::write(s, PhantomData),
            }
        )
    }
}

impl<const C: usize, const H: usize, const W: usize, T: Scalar> Params for BatchNorm2d<C, H, W, T> {
    type Scalar = T;
    const PARAM_COUNT: usize = 2 * C;
    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        self.norm.tensors()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.norm.tensors_mut()
    }
    fn shapes() -> impl Iterator<Item = TensorShape> {
        BatchNorm::<C, T>::shapes()
    }
    fn restore_defaults(&mut self) {
        self.norm.restore_defaults();
    }
}

/// One module, `nn.BatchNorm2d`: the names of [`BatchNorm`]'s.
impl<const C: usize, const H: usize, const W: usize, T: Scalar> Named for BatchNorm2d<C, H, W, T> {
    fn visit_tensors(&self, module: usize, f: &mut dyn FnMut(TensorInfo, &[T])) {
        self.norm.visit_tensors(module, f);
    }
    fn visit_tensors_mut(&mut self, module: usize, f: &mut dyn FnMut(TensorInfo, &mut [T])) {
        self.norm.visit_tensors_mut(module, f);
    }
    fn visit_settings(&self, module: usize, f: &mut dyn FnMut(usize, &'static str, Setting)) {
        self.norm.visit_settings(module, f);
    }
    fn visit_settings_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(usize, &'static str, SettingMut<'_>),
    ) {
        self.norm.visit_settings_mut(module, f);
    }
}

crate::impl_zero_bits!(unsafe impl[const C: usize, const H: usize, const W: usize, T: crate::ZeroBits] for BatchNorm2d<C, H, W, T> { norm, shape });
crate::impl_zero_bits!(unsafe impl[const C: usize, const H: usize, const W: usize, const B: usize, T: crate::ZeroBits] for BatchNorm2dCache<C, H, W, B, T> { normalized, stats });

impl<const C: usize, const H: usize, const W: usize, T: Scalar> Layer for BatchNorm2d<C, H, W, T> {
    type Input = [[[T; C]; W]; H];
    type Output = [[[T; C]; W]; H];
    /// Single-sample training does not exist: train with the batched methods.
    type Cache = ();
    type BatchCache<const B: usize> = BatchNorm2dCache<C, H, W, B, T>;
    /// Two values per channel: one image of two pixels or more, else two images.
    const MIN_TRAIN_ROWS: usize = if H * W >= 2 { 1 } else { 2 };

    /// Inference with the running statistics.
    fn forward(&self, x: &Self::Input) -> Self::Output {
        let mut y = [[[T::zero(); C]; W]; H];
        self.norm.eval_rows(x.as_flattened(), y.as_flattened_mut());
        y
    }

    /// A compile-time error: use the batched methods (as for [`BatchNorm`]).
    fn forward_train(&self, _x: &Self::Input, _ctx: &mut TrainCtx) -> (Self::Output, ()) {
        const {
            panic!(
                "BatchNorm2d trains on batches (its statistics are the batch's): use forward_train_batch"
            )
        }
    }

    /// A compile-time error, like `forward_train`.
    fn backward(&self, _cache: &(), _dy: &Self::Output, _grads: &mut Self) -> Self::Input {
        const { panic!("BatchNorm2d trains on batches: use backward_batch after forward_train_batch") }
    }

    /// A compile-time error, like `forward_train`.
    fn backward_params(&self, _cache: &(), _dy: &Self::Output, _grads: &mut Self) {
        const {
            panic!(
                "BatchNorm2d trains on batches: use backward_batch_params after forward_train_batch"
            )
        }
    }

    fn forward_batch<const B: usize>(
        &self,
        x: &[Self::Input; B],
        y: &mut [Self::Output; B],
        _scratch: &mut Self::BatchCache<B>,
    ) {
        self.norm.eval_rows(
            x.as_flattened().as_flattened(),
            y.as_flattened_mut().as_flattened_mut(),
        );
    }

    /// Training mode over the real images' pixels (a short batch's padding images are
    /// normalized with the same statistics and get a zero input gradient).
    ///
    /// # Panics
    /// With fewer than two pixels per channel in the real images.
    fn forward_train_batch_shared<const B: usize>(
        &self,
        x: &[Self::Input; B],
        y: &mut [Self::Output; B],
        cache: &mut Self::BatchCache<B>,
        ctx: &mut TrainCtx,
    ) {
        let rows = ctx.real_rows(B) * H * W;
        assert!(
            rows >= 2,
            "BatchNorm2d needs at least 2 values per channel in a training batch, got {rows}"
        );
        self.norm.train_rows(
            x.as_flattened().as_flattened(),
            rows,
            y.as_flattened_mut().as_flattened_mut(),
            cache.normalized.as_flattened_mut().as_flattened_mut(),
            &mut cache.stats,
        );
    }

    fn update_statistics<const B: usize>(&mut self, cache: &Self::BatchCache<B>) {
        self.norm.update_from(&cache.stats);
    }

    fn backward_batch<const B: usize>(
        &self,
        _x: &[Self::Input; B],
        _y: &[Self::Output; B],
        cache: &mut Self::BatchCache<B>,
        dy: &[Self::Output; B],
        dx: &mut [Self::Input; B],
        grads: &mut Self,
    ) {
        self.norm.backward_rows(
            cache.normalized.as_flattened().as_flattened(),
            &cache.stats,
            dy.as_flattened().as_flattened(),
            Some(dx.as_flattened_mut().as_flattened_mut()),
            &mut grads.norm,
        );
    }

    fn backward_batch_params<const B: usize>(
        &self,
        _x: &[Self::Input; B],
        _y: &[Self::Output; B],
        cache: &mut Self::BatchCache<B>,
        dy: &[Self::Output; B],
        grads: &mut Self,
    ) {
        self.norm.backward_rows(
            cache.normalized.as_flattened().as_flattened(),
            &cache.stats,
            dy.as_flattened().as_flattened(),
            None,
            &mut grads.norm,
        );
    }
}
