//! `Dense`: a fully connected layer with its activation fused into the same pass.

use crate::activations::{ActivationFn, Identity};
use crate::ctx::TrainCtx;
use crate::kernel;
use crate::layer::{Layer, SampleCaches};
use crate::named::{Layout, Setting, SettingMut, Shape, TensorInfo};
use crate::params::{Params, TensorKind, TensorShape};
use crate::scalar::Scalar;
use crate::zeros::Zeros;

/// `y = A(W·x + b)`: PyTorch's `nn.Linear(IN, OUT)` followed by the activation `A`.
///
/// The API speaks PyTorch's `[out][in]` order ([`Dense::from_rows`], [`Dense::weight`],
/// [`Dense::weight_rows`]); the storage is private and input-major (`[[T; OUT]; IN]`), which
/// turns the single-sample forward into contiguous `axpy` updates that vectorize. The flat
/// slices of [`Params::tensors`] are in that storage order: use the accessors to read weights
/// by `(out, in)`.
///
/// ```
/// use constnet::{Dense, Layer, Relu};
/// let layer = Dense::<2, 2, Relu, f64>::from_rows([[1.0, 2.0], [-1.0, 0.5]], [0.0, -1.0]);
/// assert_eq!(layer.weight(1, 0), -1.0); // row = output unit, column = input
/// assert_eq!(layer.forward(&[1.0, 1.0]), [3.0, 0.0]); // relu(-1.0 + 0.5 - 1.0) = 0
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
// The weights start on a cache line: every vector load of a weight row then stays within one
// line (a 64-float row split across lines halved the single-sample forward's speed).
#[repr(C, align(64))]
pub struct Dense<const IN: usize, const OUT: usize, A = Identity, T = f32> {
    /// Input-major: `weight[i][o]` is PyTorch's `weight[o][i]`.
    weight: [[T; OUT]; IN],
    bias: [T; OUT],
    /// The fused activation (its settings, e.g. a LeakyRelu slope).
    pub activation: A,
}

/// What `Dense::backward` needs from one sample: the input, the pre-activation and the output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DenseCache<const IN: usize, const OUT: usize, T> {
    /// The input `x`.
    pub x: [T; IN],
    /// The pre-activation `z = W·x + b`.
    pub z: [T; OUT],
    /// The output `y = A(z)`.
    pub y: [T; OUT],
}

impl<const IN: usize, const OUT: usize, T: Scalar> Zeros for DenseCache<IN, OUT, T> {
    fn zeros() -> Self {
        DenseCache {
            x: [T::zero(); IN],
            z: [T::zero(); OUT],
            y: [T::zero(); OUT],
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            DenseCache {
                x: crate::zeros::Zeros::zeros_in_place,
                z: crate::zeros::Zeros::zeros_in_place,
                y: crate::zeros::Zeros::zeros_in_place
            }
        )
    }
}

/// What `Dense`'s batched backward needs from a training batch: the pre-activations `z`, one
/// row per sample (struct of arrays). The input and output are not copied here: the batched
/// methods read them from the caller's buffers (a network's previous and next activation
/// buffers). Backward reuses `z` for `dL/dz`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DenseBatchCache<const OUT: usize, const B: usize, T> {
    /// The pre-activations `z = W·x + b` of every sample.
    pub z: [[T; OUT]; B],
}

impl<const OUT: usize, const B: usize, T: Scalar> Zeros for DenseBatchCache<OUT, B, T> {
    fn zeros() -> Self {
        DenseBatchCache {
            z: [[T::zero(); OUT]; B],
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            DenseBatchCache {
                z: crate::zeros::Zeros::zeros_in_place
            }
        )
    }
}

/// Not one cache per sample: Dense implements its batched methods itself.
impl<const OUT: usize, const B: usize, T, C> SampleCaches<C, B> for DenseBatchCache<OUT, B, T> {}

/// `rows` (`[out][in]`) transposed into the input-major storage, in a `const fn` (`fill` is
/// any value: every element is overwritten).
const fn transpose<T: Copy, const IN: usize, const OUT: usize>(
    rows: &[[T; IN]; OUT],
    fill: T,
) -> [[T; OUT]; IN] {
    let mut weight = [[fill; OUT]; IN];
    let mut o = 0;
    while o < OUT {
        let mut i = 0;
        while i < IN {
            weight[i][o] = rows[o][i];
            i += 1;
        }
        o += 1;
    }
    weight
}

impl<const IN: usize, const OUT: usize, A, T: Scalar> Dense<IN, OUT, A, T> {
    /// A layer from PyTorch-ordered weights (`weight[o][i]`), bias and activation value, in
    /// a `const fn`, so a network can be a `static` built at compile time (what
    /// [`io::rust_source`](crate::io::rust_source) writes):
    ///
    /// ```
    /// use constnet::{Dense, Layer, Relu};
    /// static LAYER: Dense<2, 1, Relu> = Dense::new([[1.0, -1.0]], [0.5], Relu);
    /// assert_eq!(LAYER.forward(&[2.0, 1.0]), [1.5]);
    /// ```
    pub const fn new(weight: [[T; IN]; OUT], bias: [T; OUT], activation: A) -> Self {
        Dense {
            weight: transpose(&weight, T::ZERO),
            bias,
            activation,
        }
    }
}

impl<const IN: usize, const OUT: usize, A: ActivationFn<T>, T: Scalar> Dense<IN, OUT, A, T> {
    /// A layer from PyTorch-ordered weights (`weight[o][i]`, row = output unit) and bias.
    pub fn from_rows(weight: [[T; IN]; OUT], bias: [T; OUT]) -> Self {
        let mut layer = Self::zeros();
        layer.set_weight_rows(&weight);
        layer.bias = bias;
        layer
    }

    /// The same layer with another activation value (e.g. a custom LeakyRelu slope).
    pub fn with_activation(mut self, activation: A) -> Self {
        self.activation = activation;
        self
    }

    /// PyTorch's `weight[out][in]`.
    #[inline]
    pub fn weight(&self, out: usize, input: usize) -> T {
        self.weight[input][out]
    }

    /// Sets PyTorch's `weight[out][in]`.
    #[inline]
    pub fn set_weight(&mut self, out: usize, input: usize, value: T) {
        self.weight[input][out] = value;
    }

    /// The weights in PyTorch's `[out][in]` order.
    pub fn weight_rows(&self) -> [[T; IN]; OUT] {
        let mut rows = [[T::zero(); IN]; OUT];
        self.write_weight_rows(&mut rows);
        rows
    }

    /// Writes the weights in PyTorch's `[out][in]` order into `rows` (no stack copy of the
    /// whole matrix, for large layers).
    pub fn write_weight_rows(&self, rows: &mut [[T; IN]; OUT]) {
        for (i, col) in self.weight.iter().enumerate() {
            for (o, &w) in col.iter().enumerate() {
                rows[o][i] = w;
            }
        }
    }

    /// Sets the weights from PyTorch's `[out][in]` order.
    pub fn set_weight_rows(&mut self, rows: &[[T; IN]; OUT]) {
        for (o, row) in rows.iter().enumerate() {
            for (i, &w) in row.iter().enumerate() {
                self.weight[i][o] = w;
            }
        }
    }

    /// The bias.
    #[inline]
    pub fn bias(&self) -> &[T; OUT] {
        &self.bias
    }

    /// The bias, writable.
    #[inline]
    pub fn bias_mut(&mut self) -> &mut [T; OUT] {
        &mut self.bias
    }

    /// `z = W·x + b` as a sum of scaled weight columns (contiguous multiply-adds).
    #[inline(always)]
    fn pre_activation(&self, x: &[T; IN]) -> [T; OUT] {
        let mut z = [T::zero(); OUT];
        kernel::dense_forward_row(&self.weight, &self.bias, x, &mut z);
        z
    }

    /// Shared tail of the backward passes: `dz`, then `db += dz`, `dW += x·dzᵀ`.
    #[inline(always)]
    fn param_grads(
        &self,
        cache: &DenseCache<IN, OUT, T>,
        dy: &[T; OUT],
        grads: &mut Self,
    ) -> [T; OUT] {
        let mut dz = [T::zero(); OUT];
        self.activation.backward(&cache.z, &cache.y, dy, &mut dz);
        kernel::dense_param_grads(
            core::slice::from_ref(&cache.x),
            core::slice::from_ref(&dz),
            &mut grads.weight,
            &mut grads.bias,
        );
        dz
    }

    /// Batched pre-activations into `z`, then the activation of each row into `y`.
    #[inline(always)]
    fn forward_rows<const B: usize>(
        &self,
        x: &[[T; IN]; B],
        y: &mut [[T; OUT]; B],
        z: &mut [[T; OUT]; B],
    ) {
        kernel::dense_forward(&self.weight, &self.bias, x, z);
        for (yb, zb) in y.iter_mut().zip(z.iter()) {
            self.activation.forward(zb, yb);
        }
    }

    /// `dz = dL/dz` in place of `z`, then the parameter gradients.
    #[inline(always)]
    fn backward_rows<const B: usize>(
        &self,
        x: &[[T; IN]; B],
        y: &[[T; OUT]; B],
        z: &mut [[T; OUT]; B],
        dy: &[[T; OUT]; B],
        grads: &mut Self,
    ) {
        for ((zb, yb), dyb) in z.iter_mut().zip(y.iter()).zip(dy.iter()) {
            let mut dz = [T::zero(); OUT];
            self.activation.backward(zb, yb, dyb, &mut dz);
            *zb = dz;
        }
        kernel::dense_param_grads(x, z, &mut grads.weight, &mut grads.bias);
    }
}

impl<const IN: usize, const OUT: usize, A: ActivationFn<T>, T: Scalar> Zeros
    for Dense<IN, OUT, A, T>
{
    fn zeros() -> Self {
        Dense {
            weight: [[T::zero(); OUT]; IN],
            bias: [T::zero(); OUT],
            activation: A::default(),
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Dense {
                weight: crate::zeros::Zeros::zeros_in_place,
                bias: crate::zeros::Zeros::zeros_in_place,
                activation: |s| crate::zeros::InPlace::write(s, A::default())
            }
        )
    }
}

impl<const IN: usize, const OUT: usize, A: ActivationFn<T>, T: Scalar> Params
    for Dense<IN, OUT, A, T>
{
    type Scalar = T;
    const PARAM_COUNT: usize = IN * OUT + OUT;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        [self.weight.as_flattened(), &self.bias[..]].into_iter()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [self.weight.as_flattened_mut(), &mut self.bias[..]].into_iter()
    }
    fn shapes() -> impl Iterator<Item = TensorShape> {
        let weight = TensorShape {
            kind: TensorKind::Weight,
            rows: OUT,
            cols: IN,
            fan_in: IN,
            fan_out: OUT,
        };
        let bias = TensorShape {
            kind: TensorKind::Bias,
            cols: 1,
            ..weight
        };
        [weight, bias].into_iter()
    }
    fn restore_defaults(&mut self) {
        self.activation = A::default();
    }
}

impl<const IN: usize, const OUT: usize, A: ActivationFn<T>, T: Scalar> crate::named::Named
    for Dense<IN, OUT, A, T>
{
    const MODULES: usize = 1 + A::MODULES;
    /// `K.weight` (`[OUT, IN]`, stored transposed) and `K.bias`.
    fn visit_tensors(&self, module: usize, f: &mut dyn FnMut(TensorInfo, &[T])) {
        let (weight, bias) = Self::infos(module);
        f(weight, self.weight.as_flattened());
        f(bias, &self.bias);
    }
    fn visit_tensors_mut(&mut self, module: usize, f: &mut dyn FnMut(TensorInfo, &mut [T])) {
        let (weight, bias) = Self::infos(module);
        f(weight, self.weight.as_flattened_mut());
        f(bias, &mut self.bias);
    }
    /// The activation's settings, as module `K + 1`.
    fn visit_settings(&self, module: usize, f: &mut dyn FnMut(usize, &'static str, Setting)) {
        self.activation
            .visit_settings(&mut |name, value| f(module + 1, name, value));
    }
    fn visit_settings_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(usize, &'static str, SettingMut<'_>),
    ) {
        self.activation
            .visit_settings_mut(&mut |name, value| f(module + 1, name, value));
    }
}

impl<const IN: usize, const OUT: usize, A: ActivationFn<T>, T: Scalar> Dense<IN, OUT, A, T> {
    /// The file view of the weight and the bias of module `module`.
    fn infos(module: usize) -> (TensorInfo, TensorInfo) {
        let weight = TensorInfo {
            module,
            name: "weight",
            shape: Shape::matrix(OUT, IN),
            layout: Layout::Transposed,
            trained: true,
        };
        let bias = TensorInfo {
            name: "bias",
            shape: Shape::vector(OUT),
            layout: Layout::RowMajor,
            ..weight
        };
        (weight, bias)
    }
}

impl<const IN: usize, const OUT: usize, A: ActivationFn<T>, T: Scalar> Layer
    for Dense<IN, OUT, A, T>
{
    type Input = [T; IN];
    type Output = [T; OUT];
    type Cache = DenseCache<IN, OUT, T>;
    type BatchCache<const B: usize> = DenseBatchCache<OUT, B, T>;

    #[inline]
    fn forward(&self, x: &[T; IN]) -> [T; OUT] {
        let z = self.pre_activation(x);
        let mut y = [T::zero(); OUT];
        self.activation.forward(&z, &mut y);
        y
    }

    /// The activation inlines through `K`; the product is the dispatching kernel, which the
    /// compiler inlines too where the task has its instruction set. Its input goes through
    /// `black_box`, a hint that puts it in memory: kept in registers (the previous layer's
    /// output), each element took two shuffles to broadcast where from memory it is one
    /// load (T latency 37.9 → 35.3 ns, S and M unchanged, Xeon model 207, a throwaway
    /// timing alternating the builds; earlier, as a call of its own, 37 against 42–44 ns
    /// inlined). The same arithmetic, so the same bits.
    #[inline(always)]
    fn forward_with<K: crate::kernel::Kernels>(&self, x: &[T; IN]) -> [T; OUT] {
        let z = self.pre_activation(core::hint::black_box(x));
        let mut y = [T::zero(); OUT];
        self.activation.forward_with::<K, OUT>(&z, &mut y);
        y
    }

    #[inline]
    fn forward_train(&self, x: &[T; IN], _ctx: &mut TrainCtx) -> ([T; OUT], Self::Cache) {
        let z = self.pre_activation(x);
        let mut y = [T::zero(); OUT];
        self.activation.forward(&z, &mut y);
        (y, DenseCache { x: *x, z, y })
    }

    #[inline]
    fn backward(&self, cache: &Self::Cache, dy: &[T; OUT], grads: &mut Self) -> [T; IN] {
        let dz = self.param_grads(cache, dy, grads);
        let mut dx = [T::zero(); IN];
        kernel::dense_input_grads_row(&self.weight, &dz, &mut dx);
        dx
    }

    #[inline]
    fn backward_params(&self, cache: &Self::Cache, dy: &[T; OUT], grads: &mut Self) {
        self.param_grads(cache, dy, grads);
    }

    fn forward_batch<const B: usize>(
        &self,
        x: &[[T; IN]; B],
        y: &mut [[T; OUT]; B],
        scratch: &mut Self::BatchCache<B>,
    ) {
        self.forward_rows(x, y, &mut scratch.z);
    }

    fn forward_train_batch_shared<const B: usize>(
        &self,
        x: &[[T; IN]; B],
        y: &mut [[T; OUT]; B],
        cache: &mut Self::BatchCache<B>,
        _ctx: &mut TrainCtx,
    ) {
        self.forward_rows(x, y, &mut cache.z);
    }

    fn backward_batch<const B: usize>(
        &self,
        x: &[[T; IN]; B],
        y: &[[T; OUT]; B],
        cache: &mut Self::BatchCache<B>,
        dy: &[[T; OUT]; B],
        dx: &mut [[T; IN]; B],
        grads: &mut Self,
    ) {
        self.backward_rows(x, y, &mut cache.z, dy, grads);
        kernel::dense_input_grads(&self.weight, &cache.z, dx);
    }

    fn backward_batch_params<const B: usize>(
        &self,
        x: &[[T; IN]; B],
        y: &[[T; OUT]; B],
        cache: &mut Self::BatchCache<B>,
        dy: &[[T; OUT]; B],
        grads: &mut Self,
    ) {
        self.backward_rows(x, y, &mut cache.z, dy, grads);
    }
}

crate::impl_zero_bits!(unsafe impl[const IN: usize, const OUT: usize, A: crate::ZeroBits, T: crate::ZeroBits] for Dense<IN, OUT, A, T> { weight, bias, activation });
crate::impl_zero_bits!(unsafe impl[const IN: usize, const OUT: usize, T: crate::ZeroBits] for DenseCache<IN, OUT, T> { x, z, y });
crate::impl_zero_bits!(unsafe impl[const OUT: usize, const B: usize, T: crate::ZeroBits] for DenseBatchCache<OUT, B, T> { z });

/// Streaming is the inference forward.
impl<const IN: usize, const OUT: usize, A: ActivationFn<T>, T: Scalar> crate::stream::Stream
    for Dense<IN, OUT, A, T>
{
    type InFrame = [T; IN];
    type OutFrame = [T; OUT];
    type State = ();
    /// The layer's [`forward`](Layer::forward).
    #[inline]
    fn step(&self, _state: &mut (), x: &[T; IN]) -> [T; OUT] {
        self.forward(x)
    }
    /// Inside a chain's streaming task the product is a call of its own (inlined into a
    /// task that holds the previous layer's output in registers, a head after a GRU or a
    /// convolution stack measured 1.3–2.2× slower per sample); the activation inlines.
    #[inline(always)]
    fn step_with<K: crate::kernel::Kernels>(&self, _state: &mut (), x: &[T; IN]) -> [T; OUT] {
        let mut z = [T::zero(); OUT];
        kernel::dense_forward_row_call(&self.weight, &self.bias, x, &mut z);
        let mut y = [T::zero(); OUT];
        self.activation.forward_with::<K, OUT>(&z, &mut y);
        y
    }
}
