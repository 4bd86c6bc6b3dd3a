//! `BatchNorm`: per-feature normalization with batch statistics in training and running
//! statistics in inference.

use crate::ctx::TrainCtx;
use crate::layer::{Layer, SampleCaches};
use crate::named::{Layout, Setting, SettingMut, Shape, TensorInfo};
use crate::params::{Params, TensorKind, TensorShape};
use crate::scalar::Scalar;
use crate::zeros::Zeros;

/// PyTorch's `nn.BatchNorm1d(N)` on `[T; N]` samples, with its affine weight and bias.
///
/// * Training ([`Layer::forward_train_batch`], a batch of `B ≥ 2`): each feature is normalized
///   with the batch mean and the **biased** batch variance,
///   `y = (x − μ_B)/sqrt(σ²_B + eps)·weight + bias`, and the running statistics move towards
///   the batch's: `running_mean ← (1 − momentum)·running_mean + momentum·μ_B`,
///   `running_var ← (1 − momentum)·running_var + momentum·σ²_B·B/(B − 1)` (the **unbiased**
///   variance).
/// * Inference ([`Layer::forward`], [`Layer::forward_batch`]): the running statistics,
///   `y = (x − running_mean)/sqrt(running_var + eps)·weight + bias`.
///
/// Training on a single sample has no batch statistics (PyTorch raises an error): calling
/// [`Layer::forward_train`] or [`Layer::backward`] on a `BatchNorm` (or on a chain holding one)
/// is a compile-time error at `cargo build`, and so is a training batch of `B = 1`.
///
/// The running statistics are not trainable and not among [`Params::tensors`]: read and set
/// them with [`BatchNorm::running_mean`], [`BatchNorm::set_running_mean`] and their twins.
///
/// ```
/// use constnet::{BatchNorm, Layer, TrainCtx, Zeros};
/// let mut norm = BatchNorm::<2, f64>::new();
/// let x = [[1.0, 10.0], [3.0, 30.0]];
/// let mut y = [[0.0; 2]; 2];
/// let mut cache = Zeros::zeros();
/// norm.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
/// assert!((y[0][0] + 1.0).abs() < 1e-4 && (y[1][1] - 1.0).abs() < 1e-6); // ±1 per feature
/// assert_eq!(norm.running_mean(), &[0.2, 2.0]); // 0.9·0 + 0.1·batch mean
/// assert!((norm.running_var()[0] - (0.9 + 0.1 * 2.0)).abs() < 1e-15); // unbiased var 2
/// ```
///
/// Training a batch of one sample does not build:
/// ```compile_fail
/// use constnet::{BatchNorm, Layer, TrainCtx, Zeros};
/// let mut norm = BatchNorm::<2, f64>::new();
/// let mut y = [[0.0; 2]; 1];
/// let mut cache = Zeros::zeros();
/// norm.forward_train_batch(&[[1.0, 2.0]], &mut y, &mut cache, &mut TrainCtx::new(0));
/// ```
/// while a batch of two does:
/// ```
/// use constnet::{BatchNorm, Layer, TrainCtx, Zeros};
/// let mut norm = BatchNorm::<2, f64>::new();
/// let mut y = [[0.0; 2]; 2];
/// let mut cache = Zeros::zeros();
/// norm.forward_train_batch(&[[1.0, 2.0], [3.0, 4.0]], &mut y, &mut cache, &mut TrainCtx::new(0));
/// ```
///
/// Nor does single-sample training:
/// ```compile_fail
/// use constnet::{BatchNorm, Layer, TrainCtx};
/// let norm = BatchNorm::<2, f64>::new();
/// let _ = norm.forward_train(&[1.0, 2.0], &mut TrainCtx::new(0));
/// ```
/// while single-sample inference does:
/// ```
/// use constnet::{BatchNorm, Layer};
/// let norm = BatchNorm::<2, f64>::new();
/// let _ = norm.forward(&[1.0, 2.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNorm<const N: usize, T = f32> {
    /// The per-feature scale (PyTorch `weight`, starts at 1).
    pub weight: [T; N],
    /// The per-feature shift (PyTorch `bias`, starts at 0).
    pub bias: [T; N],
    /// Running mean of each feature (starts at 0; not trained).
    running_mean: [T; N],
    /// Running unbiased variance of each feature (starts at 1; not trained).
    running_var: [T; N],
    /// Added to the variance before the square root (default `1e-5`).
    pub eps: f64,
    /// Weight of the new batch in the running statistics (default `0.1`).
    pub momentum: f64,
    /// Training batches seen (PyTorch's `num_batches_tracked`; counted, saved and loaded,
    /// not used in the arithmetic since `momentum` is always set).
    pub num_batches_tracked: u64,
}

/// PyTorch's default `eps`.
const DEFAULT_EPS: f64 = 1e-5;
/// PyTorch's default `momentum`.
const DEFAULT_MOMENTUM: f64 = 0.1;

/// A training batch's statistics per feature (what the running statistics and backward
/// need besides `x̂`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchStats<const N: usize, T> {
    /// `1/sqrt(σ²_B + eps)` per feature.
    pub inv_std: [T; N],
    /// The batch mean per feature (for the running mean).
    pub mean: [T; N],
    /// The unbiased batch variance per feature (for the running variance).
    pub unbiased_var: [T; N],
    /// How many leading rows were real ([`TrainCtx::real_rows`]; for
    /// [`BatchNorm2d`](crate::BatchNorm2d), real pixels); the statistics are over those rows
    /// only.
    pub rows: usize,
}

impl<const N: usize, T: Scalar> Zeros for BatchStats<N, T> {
    fn zeros() -> Self {
        BatchStats {
            inv_std: [T::zero(); N],
            mean: [T::zero(); N],
            unbiased_var: [T::zero(); N],
            rows: 0,
        }
    }
}

/// What `BatchNorm::backward_batch` needs from a training batch of `B` samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormCache<const N: usize, const B: usize, T> {
    /// The normalized inputs `x̂ = (x − μ_B)/sqrt(σ²_B + eps)`, one row per sample.
    pub normalized: [[T; N]; B],
    /// The batch statistics.
    pub stats: BatchStats<N, T>,
}

/// Not one cache per sample: BatchNorm implements its batched methods itself.
impl<const N: usize, const B: usize, T> SampleCaches<(), B> for BatchNormCache<N, B, T> {}

impl<const N: usize, const B: usize, T: Scalar> Zeros for BatchNormCache<N, B, T> {
    fn zeros() -> Self {
        BatchNormCache {
            normalized: [[T::zero(); N]; B],
            stats: BatchStats::zeros(),
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            BatchNormCache {
                normalized: Zeros::zeros_in_place,
                stats: Zeros::zeros_in_place,
            }
        )
    }
}

impl<const N: usize, T: Scalar> BatchNorm<N, T> {
    /// PyTorch's initial layer: weight 1, bias 0, running mean 0, running variance 1,
    /// `eps = 1e-5`, `momentum = 0.1`.
    pub fn new() -> Self {
        Self::from_affine([T::one(); N], [T::zero(); N])
    }

    /// A layer with the given weight and bias and PyTorch's initial running statistics and
    /// settings.
    pub fn from_affine(weight: [T; N], bias: [T; N]) -> Self {
        Self::from_parts(weight, bias, [T::zero(); N], [T::one(); N])
    }

    /// A layer with the given weight, bias and running statistics, PyTorch's default `eps`
    /// and `momentum` and no batch tracked, in a `const fn` (for networks baked into a
    /// binary).
    ///
    /// ```
    /// use constnet::{BatchNorm, Layer};
    /// static NORM: BatchNorm<1, f64> = BatchNorm::from_parts([2.0], [1.0], [3.0], [4.0]).with_eps(0.0);
    /// assert_eq!(NORM.forward(&[5.0]), [3.0]); // (5 − 3)/√4·2 + 1
    /// ```
    pub const fn from_parts(
        weight: [T; N],
        bias: [T; N],
        running_mean: [T; N],
        running_var: [T; N],
    ) -> Self {
        BatchNorm {
            weight,
            bias,
            running_mean,
            running_var,
            eps: DEFAULT_EPS,
            momentum: DEFAULT_MOMENTUM,
            num_batches_tracked: 0,
        }
    }

    /// The same layer with another `eps`.
    pub const fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// The same layer with another `momentum`.
    pub const fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// The same layer with another `num_batches_tracked`.
    pub const fn with_num_batches_tracked(mut self, batches: u64) -> Self {
        self.num_batches_tracked = batches;
        self
    }

    /// The running mean of each feature.
    #[inline]
    pub fn running_mean(&self) -> &[T; N] {
        &self.running_mean
    }

    /// The running (unbiased) variance of each feature.
    #[inline]
    pub fn running_var(&self) -> &[T; N] {
        &self.running_var
    }

    /// Sets the running mean (e.g. loaded from a PyTorch `running_mean`).
    pub fn set_running_mean(&mut self, running_mean: [T; N]) {
        self.running_mean = running_mean;
    }

    /// Sets the running variance (e.g. loaded from a PyTorch `running_var`).
    pub fn set_running_var(&mut self, running_var: [T; N]) {
        self.running_var = running_var;
    }

    /// Inference as one multiply-add per feature: `y = x·scale + shift` with
    /// `scale = weight/sqrt(running_var + eps)`, `shift = bias − running_mean·scale`.
    #[inline]
    fn eval_scale_shift(&self) -> ([T; N], [T; N]) {
        let eps = T::from_f64(self.eps);
        let mut scale = [T::zero(); N];
        let mut shift = [T::zero(); N];
        for j in 0..N {
            scale[j] = self.weight[j] / (self.running_var[j] + eps).sqrt();
            shift[j] = self.bias[j] - self.running_mean[j] * scale[j];
        }
        (scale, shift)
    }

    /// Adds the batch's weight and bias gradients (over the first `rows` rows); returns
    /// `Σ_b dy` and `Σ_b dy·x̂` per feature.
    #[inline]
    fn param_grads(
        normalized: &[[T; N]],
        rows: usize,
        dy: &[[T; N]],
        grads: &mut Self,
    ) -> ([T; N], [T; N]) {
        let mut dy_sum = [T::zero(); N];
        let mut dy_dot_normalized = [T::zero(); N];
        for (dy_row, normalized_row) in dy[..rows].iter().zip(normalized.iter()) {
            for j in 0..N {
                dy_sum[j] += dy_row[j];
                dy_dot_normalized[j] += dy_row[j] * normalized_row[j];
            }
        }
        for j in 0..N {
            grads.weight[j] += dy_dot_normalized[j];
            grads.bias[j] += dy_sum[j];
        }
        (dy_sum, dy_dot_normalized)
    }

    /// Training-mode normalization of the rows `x` (the statistics over the first `rows`,
    /// the rest normalized with them): writes `y`, `x̂` into `normalized` and the batch
    /// statistics into `stats`. What [`BatchNorm`]'s batch of samples and
    /// [`BatchNorm2d`](crate::BatchNorm2d)'s batch of pixels both run.
    pub(crate) fn train_rows(
        &self,
        x: &[[T; N]],
        rows: usize,
        y: &mut [[T; N]],
        normalized: &mut [[T; N]],
        stats: &mut BatchStats<N, T>,
    ) {
        let count = T::from_f64(rows as f64);
        let mut sum = [T::zero(); N];
        for x_row in &x[..rows] {
            for j in 0..N {
                sum[j] += x_row[j];
            }
        }
        let mut mean = [T::zero(); N];
        for j in 0..N {
            mean[j] = sum[j] / count;
        }
        // Centered inputs go straight into the cache; they become x̂ below.
        let mut square_sum = [T::zero(); N];
        for (centered_row, x_row) in normalized.iter_mut().zip(x.iter()) {
            for j in 0..N {
                centered_row[j] = x_row[j] - mean[j];
            }
        }
        for centered_row in &normalized[..rows] {
            for j in 0..N {
                square_sum[j] += centered_row[j] * centered_row[j];
            }
        }
        let eps = T::from_f64(self.eps);
        for (inv_std, &squares) in stats.inv_std.iter_mut().zip(square_sum.iter()) {
            *inv_std = T::one() / (squares / count + eps).sqrt();
        }
        for (y_row, normalized_row) in y.iter_mut().zip(normalized.iter_mut()) {
            for j in 0..N {
                normalized_row[j] *= stats.inv_std[j];
                y_row[j] = normalized_row[j] * self.weight[j] + self.bias[j];
            }
        }
        let unbiased_count = T::from_f64((rows - 1) as f64);
        stats.rows = rows;
        stats.mean = mean;
        for (var, &squares) in stats.unbiased_var.iter_mut().zip(square_sum.iter()) {
            *var = squares / unbiased_count;
        }
    }

    /// The running statistics' update from a batch's `stats`.
    pub(crate) fn update_from(&mut self, stats: &BatchStats<N, T>) {
        self.num_batches_tracked += 1;
        let momentum = T::from_f64(self.momentum);
        let keep = T::one() - momentum;
        for j in 0..N {
            self.running_mean[j] = momentum * stats.mean[j] + keep * self.running_mean[j];
            self.running_var[j] = momentum * stats.unbiased_var[j] + keep * self.running_var[j];
        }
    }

    /// Backward over rows: adds the parameter gradients and, when given, writes `dL/dx`
    /// (zero in the rows past `stats.rows`).
    pub(crate) fn backward_rows(
        &self,
        normalized: &[[T; N]],
        stats: &BatchStats<N, T>,
        dy: &[[T; N]],
        dx: Option<&mut [[T; N]]>,
        grads: &mut Self,
    ) {
        let rows = stats.rows.min(dy.len());
        let (dy_sum, dy_dot_normalized) = Self::param_grads(normalized, rows, dy, grads);
        let Some(dx) = dx else { return };
        let count = T::from_f64(rows as f64);
        let mut dy_mean = [T::zero(); N];
        let mut dy_normalized_mean = [T::zero(); N];
        let mut gain = [T::zero(); N];
        for j in 0..N {
            dy_mean[j] = dy_sum[j] / count;
            dy_normalized_mean[j] = dy_dot_normalized[j] / count;
            gain[j] = self.weight[j] * stats.inv_std[j];
        }
        let (dx_real, dx_padding) = dx.split_at_mut(rows);
        for ((dx_row, dy_row), normalized_row) in
            dx_real.iter_mut().zip(dy.iter()).zip(normalized.iter())
        {
            for j in 0..N {
                dx_row[j] =
                    gain[j] * (dy_row[j] - dy_mean[j] - normalized_row[j] * dy_normalized_mean[j]);
            }
        }
        for dx_row in dx_padding {
            *dx_row = [T::zero(); N];
        }
    }

    /// Inference over rows with the running statistics.
    pub(crate) fn eval_rows(&self, x: &[[T; N]], y: &mut [[T; N]]) {
        let (scale, shift) = self.eval_scale_shift();
        for (y_row, x_row) in y.iter_mut().zip(x.iter()) {
            for j in 0..N {
                y_row[j] = x_row[j] * scale[j] + shift[j];
            }
        }
    }
}

impl<const N: usize, T: Scalar> Default for BatchNorm<N, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, T: Scalar> Zeros for BatchNorm<N, T> {
    /// Weight and bias zero (a gradient or optimizer state); running statistics and settings
    /// at their defaults (mean 0, variance 1).
    fn zeros() -> Self {
        Self::from_affine([T::zero(); N], [T::zero(); N])
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            BatchNorm {
                weight: crate::zeros::Zeros::zeros_in_place,
                bias: crate::zeros::Zeros::zeros_in_place,
                running_mean: crate::zeros::Zeros::zeros_in_place,
                running_var: |s| crate::zeros::InPlace::write(s, [T::one(); N]),
                eps: |s| crate::zeros::InPlace::write(s, DEFAULT_EPS),
                momentum: |s| crate::zeros::InPlace::write(s, DEFAULT_MOMENTUM),
                num_batches_tracked: |s| crate::zeros::InPlace::write(s, 0),
            }
        )
    }
}

impl<const N: usize, T: Scalar> Params for BatchNorm<N, T> {
    type Scalar = T;
    const PARAM_COUNT: usize = 2 * N;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        [&self.weight[..], &self.bias[..]].into_iter()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [&mut self.weight[..], &mut self.bias[..]].into_iter()
    }
    fn shapes() -> impl Iterator<Item = TensorShape> {
        let weight = TensorShape {
            kind: TensorKind::Scale,
            rows: N,
            cols: 1,
            fan_in: N,
            fan_out: N,
        };
        let bias = TensorShape {
            kind: TensorKind::Shift,
            ..weight
        };
        [weight, bias].into_iter()
    }
    /// Resets `eps`, `momentum` and the running statistics (mean 0, variance 1).
    fn restore_defaults(&mut self) {
        self.eps = DEFAULT_EPS;
        self.momentum = DEFAULT_MOMENTUM;
        self.num_batches_tracked = 0;
        self.running_mean = [T::zero(); N];
        self.running_var = [T::one(); N];
    }
}

impl<const N: usize, T: Scalar> crate::named::Named for BatchNorm<N, T> {
    /// `K.weight`, `K.bias`, then the buffers `K.running_mean`, `K.running_var`.
    fn visit_tensors(&self, module: usize, f: &mut dyn FnMut(TensorInfo, &[T])) {
        let [w, b, m, v] = Self::infos(module);
        f(w, &self.weight);
        f(b, &self.bias);
        f(m, &self.running_mean);
        f(v, &self.running_var);
    }
    fn visit_tensors_mut(&mut self, module: usize, f: &mut dyn FnMut(TensorInfo, &mut [T])) {
        let [w, b, m, v] = Self::infos(module);
        f(w, &mut self.weight);
        f(b, &mut self.bias);
        f(m, &mut self.running_mean);
        f(v, &mut self.running_var);
    }
    /// `eps`, `momentum` and `num_batches_tracked` (a counter: safetensors files carry it as
    /// PyTorch's 0-d I64 tensor).
    fn visit_settings(&self, module: usize, f: &mut dyn FnMut(usize, &'static str, Setting)) {
        f(module, "eps", Setting::Real(self.eps));
        f(module, "momentum", Setting::Real(self.momentum));
        let batches = Setting::Count(self.num_batches_tracked);
        f(module, "num_batches_tracked", batches);
    }
    fn visit_settings_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(usize, &'static str, SettingMut<'_>),
    ) {
        f(module, "eps", SettingMut::Real(&mut self.eps));
        f(module, "momentum", SettingMut::Real(&mut self.momentum));
        let batches = SettingMut::Count(&mut self.num_batches_tracked);
        f(module, "num_batches_tracked", batches);
    }
}

impl<const N: usize, T: Scalar> BatchNorm<N, T> {
    /// The file view of weight, bias, running mean and running variance of module `module`.
    fn infos(module: usize) -> [TensorInfo; 4] {
        let weight = TensorInfo {
            module,
            name: "weight",
            shape: Shape::vector(N),
            layout: Layout::RowMajor,
            trained: true,
        };
        let buffer = |name| TensorInfo {
            name,
            trained: false,
            ..weight
        };
        [
            weight,
            TensorInfo {
                name: "bias",
                ..weight
            },
            buffer("running_mean"),
            buffer("running_var"),
        ]
    }
}

impl<const N: usize, T: Scalar> Layer for BatchNorm<N, T> {
    type Input = [T; N];
    type Output = [T; N];
    /// Single-sample training does not exist (see [`BatchNorm`]).
    type Cache = ();
    type BatchCache<const B: usize> = BatchNormCache<N, B, T>;
    const MIN_TRAIN_ROWS: usize = 2;

    /// Inference with the running statistics.
    #[inline]
    fn forward(&self, x: &[T; N]) -> [T; N] {
        let (scale, shift) = self.eval_scale_shift();
        let mut y = [T::zero(); N];
        for j in 0..N {
            y[j] = x[j] * scale[j] + shift[j];
        }
        y
    }

    /// A compile-time error: batch statistics of one sample are undefined.
    fn forward_train(&self, _x: &[T; N], _ctx: &mut TrainCtx) -> ([T; N], ()) {
        const {
            panic!(
                "BatchNorm cannot train on a single sample (its batch statistics are undefined, as in PyTorch): train with forward_train_batch and a batch of at least 2"
            )
        }
    }

    /// A compile-time error, like `forward_train`.
    fn backward(&self, _cache: &(), _dy: &[T; N], _grads: &mut Self) -> [T; N] {
        const {
            panic!(
                "BatchNorm cannot train on a single sample (its batch statistics are undefined, as in PyTorch): use backward_batch after forward_train_batch"
            )
        }
    }

    /// A compile-time error, like `forward_train`.
    fn backward_params(&self, _cache: &(), _dy: &[T; N], _grads: &mut Self) {
        const {
            panic!(
                "BatchNorm cannot train on a single sample (its batch statistics are undefined, as in PyTorch): use backward_batch_params after forward_train_batch"
            )
        }
    }

    /// Inference with the running statistics.
    fn forward_batch<const B: usize>(
        &self,
        x: &[[T; N]; B],
        y: &mut [[T; N]; B],
        _scratch: &mut Self::BatchCache<B>,
    ) {
        self.eval_rows(x, y);
    }

    /// Training mode: normalizes with the batch statistics and keeps them in the cache for
    /// [`update_statistics`](Layer::update_statistics).
    ///
    /// In a short batch ([`TrainCtx::set_real_rows`]) the statistics are those of the real
    /// rows alone, which is what PyTorch computes on a short last batch; the padding rows are
    /// normalized with them (their outputs are finite and meaningless) and get a zero input
    /// gradient in [`backward_batch`](Layer::backward_batch).
    ///
    /// # Panics
    /// With fewer than 2 real rows (PyTorch raises "Expected more than 1 value per channel
    /// when training"): `Layer::MIN_TRAIN_ROWS` is 2 for BatchNorm, and `constnet::fit`
    /// refuses such a batch before training starts.
    fn forward_train_batch_shared<const B: usize>(
        &self,
        x: &[[T; N]; B],
        y: &mut [[T; N]; B],
        cache: &mut Self::BatchCache<B>,
        ctx: &mut TrainCtx,
    ) {
        const {
            assert!(
                B >= 2,
                "BatchNorm needs a batch of at least 2 samples in training"
            )
        };
        let rows = ctx.real_rows(B);
        assert!(
            rows >= 2,
            "BatchNorm needs at least 2 real rows in a training batch, got {rows}"
        );
        self.train_rows(x, rows, y, &mut cache.normalized, &mut cache.stats);
    }

    /// `running ← (1 − momentum)·running + momentum·batch`, for the mean and the unbiased
    /// variance (PyTorch's update), and one more batch counted.
    fn update_statistics<const B: usize>(&mut self, cache: &Self::BatchCache<B>) {
        self.update_from(&cache.stats);
    }

    /// With `g = dy·weight`, per feature:
    /// `dx = (g − mean_B(g) − x̂·mean_B(g·x̂))/sqrt(σ²_B + eps)`.
    fn backward_batch<const B: usize>(
        &self,
        _x: &[[T; N]; B],
        _y: &[[T; N]; B],
        cache: &mut Self::BatchCache<B>,
        dy: &[[T; N]; B],
        dx: &mut [[T; N]; B],
        grads: &mut Self,
    ) {
        self.backward_rows(&cache.normalized, &cache.stats, dy, Some(dx), grads);
    }

    fn backward_batch_params<const B: usize>(
        &self,
        _x: &[[T; N]; B],
        _y: &[[T; N]; B],
        cache: &mut Self::BatchCache<B>,
        dy: &[[T; N]; B],
        grads: &mut Self,
    ) {
        self.backward_rows(&cache.normalized, &cache.stats, dy, None, grads);
    }
}

crate::impl_zero_bits!(unsafe impl[const N: usize, T: crate::ZeroBits] for BatchNorm<N, T> { weight, bias, running_mean, running_var, eps, momentum, num_batches_tracked });
crate::impl_zero_bits!(unsafe impl[const N: usize, const B: usize, T: crate::ZeroBits] for BatchNormCache<N, B, T> { normalized, stats });
crate::impl_zero_bits!(unsafe impl[const N: usize, T: crate::ZeroBits] for BatchStats<N, T> { inv_std, mean, unbiased_var, rows });

// Streaming is inference: the running statistics.
crate::stream::stateless_stream!(impl[const N: usize, T: Scalar] for BatchNorm<N, T>, [T; N] => [T; N]);
