//! `Conv1d`: a 1-d convolution over a fixed-length window of frames, with its activation
//! fused into the same pass.
//!
//! # Choices
//! * **Input layout: time-major, `[[T; C_IN]; L]`** (one frame of `C_IN` channels per time
//!   step; PyTorch's `[C_in][L]` transposed). A frame is what a sensor or an audio callback
//!   delivers and what the streaming form ([`Conv1d::step`]) takes, the output
//!   `[[T; C_OUT]; L_OUT]` is the next convolution's input, and every tap of the kernel is
//!   then a small dense layer applied to one input frame: `z[t] += W_k·x[j]`, an `axpy` over
//!   contiguous outputs per input channel, the loop Dense's single-sample forward uses. The
//!   channel-first alternative vectorizes along time instead, which only pays with stride 1
//!   and long windows, and does not fit frame-by-frame streaming; it was not measured.
//! * **Weight storage: `[K][CG][C_OUT]`** (private; `weight[k][c][o]` is PyTorch's
//!   `weight[o][c][k]`): the innermost loop of forward and of the weight gradient runs over
//!   contiguous outputs. The API speaks PyTorch's `[C_out][C_in/groups][K]`
//!   ([`Conv1d::new`], [`Conv1d::from_pytorch`], [`Conv1d::weight`], [`Conv1d::weights`]),
//!   and weight files see that shape (their storage order is [`Layout::Reversed`]).
//! * **Groups: a const parameter `CG` for the input channels per group**, checked at compile
//!   time to be `C_IN / GROUPS` (stable Rust cannot write `[T; C_IN / GROUPS]`). Storing the
//!   full `C_OUT × C_IN × K` weight with zeros off the groups would be simpler but `GROUPS`
//!   times larger and slower (64 times for a depthwise layer of 64 channels), and initializers
//!   and optimizers would write into the zeros. `CG` defaults to `C_IN` (`GROUPS = 1`); a
//!   depthwise layer (`GROUPS = C_IN`) has `CG = 1`.
//! * **Compile-time checks** (inline `const` blocks, when a layer type is used): `K`,
//!   `STRIDE`, `DILATION`, `GROUPS` ≥ 1; `C_IN` and `C_OUT` divisible by `GROUPS`;
//!   `CG = C_IN / GROUPS`; the dilated kernel fits in the padded input; and
//!   `L_OUT = (L + 2·PADDING − DILATION·(K − 1) − 1) / STRIDE + 1` (rounded down, PyTorch's
//!   formula; [`conv1d_out_len`](crate::layers::conv1d_out_len) computes it in a type). The
//!   message shows the formula with the numbers (see [`Conv1d`]).
//! * **Batches** use the per-sample defaults of [`Layer`] (`BatchCache<B> = [Conv1dCache; B]`).

use crate::activations::Identity;
use crate::ctx::TrainCtx;
use crate::kernel;
use crate::layer::Layer;
use crate::layers::conv1d_check::Conv1dShape;
use crate::named::{Layout, Setting, SettingMut, Shape, TensorInfo};
use crate::params::{Params, TensorKind, TensorShape};
use crate::scalar::Scalar;
use crate::zeros::Zeros;

/// An `impl` block of [`Conv1d`] without restating its twelve parameters (bounds
/// `A: ActivationFn<T>`, `T: Scalar`): `conv1d_impl!(impl[] Conv1d { ... })` for inherent
/// items, `conv1d_impl!(impl[] Trait for Conv1d { ... })` for a trait, extra generic
/// parameters in the brackets.
macro_rules! conv1d_impl {
    (@impl [$($extra:tt)*] [$($head:tt)*] { $($body:tt)* }) => {
        impl<
            const C_IN: usize,
            const C_OUT: usize,
            const K: usize,
            const L: usize,
            const L_OUT: usize,
            A: $crate::activations::ActivationFn<T>,
            T: $crate::scalar::Scalar,
            const STRIDE: usize,
            const PADDING: usize,
            const DILATION: usize,
            const GROUPS: usize,
            const CG: usize,
            $($extra)*
        > $($head)* Conv1d<C_IN, C_OUT, K, L, L_OUT, A, T, STRIDE, PADDING, DILATION, GROUPS, CG> {
            $($body)*
        }
    };
    (impl[$($extra:tt)*] $($tr:ident)::+ $(<$($targ:tt),*>)? for Conv1d { $($body:tt)* }) => {
        conv1d_impl!(@impl [$($extra)*] [$($tr)::+ $(<$($targ),*>)? for] { $($body)* });
    };
    (impl[$($extra:tt)*] Conv1d { $($body:tt)* }) => {
        conv1d_impl!(@impl [$($extra)*] [] { $($body)* });
    };
}
pub(crate) use conv1d_impl;

/// PyTorch's `nn.Conv1d(C_IN, C_OUT, K, stride=STRIDE, padding=PADDING, dilation=DILATION,
/// groups=GROUPS)` over a window of `L` frames, followed by the activation `A`:
/// `y[t] = A(b + Σ_k W_k·x[t·STRIDE + k·DILATION − PADDING])`, with zeros outside the input.
///
/// * Input `[[T; C_IN]; L]` (time-major: frame `t` holds the `C_IN` channels at time `t`),
///   output `[[T; C_OUT]; L_OUT]`.
/// * `L_OUT` must be `(L + 2·PADDING − DILATION·(K − 1) − 1) / STRIDE + 1` (rounded down,
///   PyTorch's formula; [`conv1d_out_len`](crate::layers::conv1d_out_len) computes it inside
///   a type); `CG`, the input channels per group, must be `C_IN / GROUPS` (its default `C_IN`
///   is right for `GROUPS = 1`; a depthwise layer has `CG = 1`). Stable Rust cannot compute
///   either in a type, so both are parameters, checked at compile time with the others:
///   `K`, `STRIDE`, `DILATION`, `GROUPS` ≥ 1, `C_IN` and `C_OUT` divisible by `GROUPS`, the
///   dilated kernel no longer than the padded input.
/// * Storage: the weight is kept as `[K][CG][C_OUT]` (contiguous over outputs, the inner
///   loop of forward and of the weight gradient); the API and weight files speak PyTorch's
///   order. Per group only `CG` input channels are stored, so a depthwise layer holds
///   `C_OUT·K` weights, not `C_OUT·C_IN·K`.
/// * Parameters: the weight, PyTorch's `[C_OUT][CG][K]`, and the bias `[C_OUT]`. The
///   activation `A` is fused as in [`Dense`](crate::Dense): with an activation the layer is
///   two `nn.Sequential` modules (`Conv1d`, then the activation).
/// * Streaming: [`Conv1d::step`] runs the layer causally, one frame in and one out, with a
///   [`Conv1dStream`](crate::Conv1dStream) holding the history.
///
/// ```
/// use constnet::{Conv1d, Layer, Relu};
/// // 2 input channels, 1 output channel, kernel 2, over 4 frames: 3 output frames.
/// let conv = Conv1d::<2, 1, 2, 4, 3, Relu, f64>::from_pytorch(
///     [[[1.0, 2.0], [0.5, -1.0]]], // weight[o = 0][c][k]
///     [0.0],
/// );
/// let x = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]];
/// // y[0] = relu(1·1 + 2·0 + 0.5·0 − 1·1) = 0, y[1] = relu(1·0 + 2·1 + 0.5·1 − 1·1) = 1.5, ...
/// assert_eq!(conv.forward(&x), [[0.0], [1.5], [5.5]]);
/// ```
///
/// A stride-2, padded, dilated, depthwise layer (the parameters after `A` and `T` are
/// `STRIDE, PADDING, DILATION, GROUPS, CG`):
/// ```
/// use constnet::{Conv1d, Identity, Layer, Zeros};
/// // 4 channels, each convolved alone (GROUPS = 4, CG = 1); 10 frames, kernel 3, stride 2,
/// // padding 2, dilation 2: (10 + 4 − 4 − 1) / 2 + 1 = 5 output frames.
/// type Depthwise = Conv1d<4, 4, 3, 10, 5, Identity, f32, 2, 2, 2, 4, 1>;
/// let y = Depthwise::zeros().forward(&[[1.0; 4]; 10]);
/// assert_eq!(y.len(), 5);
/// ```
///
/// An `L_OUT` that does not follow from the other numbers does not compile (see
/// [`shape_errors`](crate::shape_errors) for the passing twin):
/// ```compile_fail
/// use constnet::{Conv1d, Layer, Zeros};
/// let conv = Conv1d::<2, 4, 3, 16, 15>::zeros(); // 16 frames, kernel 3: 14, not 15
/// let _ = conv.forward(&[[0.0; 2]; 16]);
/// ```
/// rustc (1.95) reports the formula with the numbers, and names the layer type in a note:
/// ```text
/// error[E0080]: evaluation panicked: Conv1d: L_OUT = 15, but it must be (L + 2·PADDING − DILATION·(K − 1) − 1) / STRIDE + 1 = (16 + 2·0 − 1·(3 − 1) − 1) / 1 + 1 = 14 (rounded down)
/// ...
/// note: the above error was encountered while instantiating `fn Conv1d::<2, 4, 3, 16, 15>::check_shape`
/// ```
/// (the other checks read alike, e.g. `Conv1d: CG (input channels per group) must be
/// C_IN / GROUPS = 4 / 2 = 2, but CG = 4`).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(64))]
pub struct Conv1d<
    const C_IN: usize,
    const C_OUT: usize,
    const K: usize,
    const L: usize,
    const L_OUT: usize,
    A = Identity,
    T = f32,
    const STRIDE: usize = 1,
    const PADDING: usize = 0,
    const DILATION: usize = 1,
    const GROUPS: usize = 1,
    const CG: usize = C_IN,
> {
    /// `weight[k][c][o]` is PyTorch's `weight[o][c][k]`.
    weight: [[[T; C_OUT]; CG]; K],
    bias: [T; C_OUT],
    /// The fused activation (its settings, e.g. a LeakyRelu slope).
    pub activation: A,
}

/// A causal dilated convolution for streaming: `C_IN → C_OUT` channels, kernel `K`, dilation
/// `DILATION`, named by what matters to a stream. It is the [`Conv1d`] with no window
/// (`L = L_OUT = 0`), stride 1 and no padding: output frame `n` sees input frames
/// `n − DILATION·(K − 1)`, ..., `n − DILATION`, `n`, through [`Stream`](crate::Stream)
/// (state: a [`Conv1dHistory`](crate::Conv1dHistory)). The parameters are PyTorch's
/// `nn.Conv1d(C_IN, C_OUT, K, dilation=DILATION)`; a windowed `Conv1d` with the same
/// numbers trains them (the weights load across, `weight` and `bias` alike).
///
/// A WaveNet-style stack, with a 1×1 convolution as its head, is a model (initialized,
/// saved, loaded like any other) and streams with one call per sample:
/// ```
/// use constnet::init::{self, Init};
/// use constnet::{CausalConv1d, Stream, Tanh, Zeros, seq};
/// type Net = seq![
///     CausalConv1d<1, 8, 3, 1, Tanh>,
///     CausalConv1d<8, 8, 3, 2, Tanh>,
///     CausalConv1d<8, 8, 3, 4, Tanh>,
///     CausalConv1d<8, 1, 1>,
/// ];
/// let net: Net = init::seeded(Init::PyTorchDefault, 0);
/// let mut state = <Net as Stream>::State::zeros();
/// let y: [f32; 1] = net.step(&mut state, &[0.5]);
/// assert!(y[0].is_finite());
/// ```
/// It has no window, so no windowed forward (a compile error names the fix):
/// ```compile_fail
/// use constnet::{CausalConv1d, Layer, Zeros};
/// let conv = CausalConv1d::<1, 8, 3>::zeros();
/// let _ = conv.forward(&[]);
/// ```
/// ```
/// use constnet::{Conv1d, Layer, Zeros};
/// let conv = Conv1d::<1, 8, 3, 3, 1>::zeros(); // the same convolution over a 3-frame window
/// let _ = conv.forward(&[[0.0]; 3]);
/// ```
pub type CausalConv1d<
    const C_IN: usize,
    const C_OUT: usize,
    const K: usize,
    const DILATION: usize = 1,
    A = Identity,
    T = f32,
> = Conv1d<C_IN, C_OUT, K, 0, 0, A, T, 1, 0, DILATION>;

/// A depthwise convolution (`GROUPS = C`: each channel convolved alone), PyTorch's
/// `nn.Conv1d(C, C, K, stride, padding, dilation, groups=C)` over windows of `L` frames:
/// the [`Conv1d`] with `C_IN = C_OUT = GROUPS = C` and one input channel per group.
///
/// ```
/// use constnet::{DepthwiseConv1d, Layer, Zeros};
/// // 4 channels, kernel 3, 10 frames -> 8.
/// let y = DepthwiseConv1d::<4, 3, 10, 8>::zeros().forward(&[[1.0; 4]; 10]);
/// assert_eq!(y.len(), 8);
/// ```
pub type DepthwiseConv1d<
    const C: usize,
    const K: usize,
    const L: usize,
    const L_OUT: usize,
    A = Identity,
    T = f32,
    const STRIDE: usize = 1,
    const PADDING: usize = 0,
    const DILATION: usize = 1,
> = Conv1d<C, C, K, L, L_OUT, A, T, STRIDE, PADDING, DILATION, C, 1>;

/// What `Conv1d::backward` needs from one sample: the input window, the pre-activations and
/// the outputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv1dCache<const C_IN: usize, const C_OUT: usize, const L: usize, const L_OUT: usize, T>
{
    /// The input `x`.
    pub x: [[T; C_IN]; L],
    /// The pre-activations `z`.
    pub z: [[T; C_OUT]; L_OUT],
    /// The outputs `y = A(z)`.
    pub y: [[T; C_OUT]; L_OUT],
}

impl<const C_IN: usize, const C_OUT: usize, const L: usize, const L_OUT: usize, T: Scalar> Zeros
    for Conv1dCache<C_IN, C_OUT, L, L_OUT, T>
{
    fn zeros() -> Self {
        Conv1dCache {
            x: [[T::zero(); C_IN]; L],
            z: [[T::zero(); C_OUT]; L_OUT],
            y: [[T::zero(); C_OUT]; L_OUT],
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Conv1dCache {
                x: crate::zeros::Zeros::zeros_in_place,
                z: crate::zeros::Zeros::zeros_in_place,
                y: crate::zeros::Zeros::zeros_in_place
            }
        )
    }
}

/// PyTorch's `[C_OUT][CG][K]` in the `[K][CG][C_OUT]` storage, in a `const fn`.
const fn to_storage<T: Copy, const C_OUT: usize, const CG: usize, const K: usize>(
    weight: &[[[T; K]; CG]; C_OUT],
    fill: T,
) -> [[[T; C_OUT]; CG]; K] {
    let mut stored = [[[fill; C_OUT]; CG]; K];
    let mut o = 0;
    while o < C_OUT {
        let mut c = 0;
        while c < CG {
            let mut k = 0;
            while k < K {
                stored[k][c][o] = weight[o][c][k];
                k += 1;
            }
            c += 1;
        }
        o += 1;
    }
    stored
}

conv1d_impl!(impl[] Conv1d {
    /// The type's parameters, for the compile-time checks.
    pub(crate) const SHAPE: Conv1dShape = Conv1dShape {
        c_in: C_IN,
        c_out: C_OUT,
        k: K,
        l: L,
        l_out: L_OUT,
        stride: STRIDE,
        padding: PADDING,
        dilation: DILATION,
        groups: GROUPS,
        cg: CG,
    };

    /// Output channels per group.
    const OUT_PER_GROUP: usize = C_OUT / GROUPS;

    /// Fails the build when the parameters are inconsistent (see the module docs).
    #[inline(always)]
    pub(crate) const fn check_shape() {
        const { Self::SHAPE.check() }
    }

    /// [`check_shape`](Self::check_shape), and that the layer has a window (`L > 0`): what
    /// the [`Layer`] methods need.
    #[inline(always)]
    pub(crate) const fn check_windowed_shape() {
        const {
            Self::SHAPE.check();
            Self::SHAPE.check_window();
        }
    }

    /// A layer from PyTorch-ordered weights (`weight[o][c][k]`, `[C_out][C_in/groups][K]`),
    /// bias and activation value, in a `const fn`, so a network can be a `static` built at
    /// compile time (what [`io::rust_source`](crate::io::rust_source) writes):
    ///
    /// ```
    /// use constnet::{Conv1d, Identity, Layer};
    /// static SMOOTH: Conv1d<1, 1, 3, 5, 3> = Conv1d::new([[[0.25, 0.5, 0.25]]], [0.0], Identity);
    /// assert_eq!(SMOOTH.forward(&[[0.0], [4.0], [0.0], [4.0], [0.0]]), [[2.0], [2.0], [2.0]]);
    /// ```
    pub const fn new(weight: [[[T; K]; CG]; C_OUT], bias: [T; C_OUT], activation: A) -> Self {
        Self::check_shape();
        Conv1d {
            weight: to_storage(&weight, T::ZERO),
            bias,
            activation,
        }
    }

    /// The weight taps in storage order, `[K][CG][C_OUT]` (for the streaming step).
    #[inline(always)]
    pub(crate) fn weight_taps(&self) -> &[[[T; C_OUT]; CG]; K] {
        &self.weight
    }

    /// The position in the input window of tap `k` of output frame `t`, `None` in the
    /// padding.
    #[inline(always)]
    fn input_frame(t: usize, k: usize) -> Option<usize> {
        let p = t * STRIDE + k * DILATION;
        if p < PADDING || p - PADDING >= L {
            None
        } else {
            Some(p - PADDING)
        }
    }

    /// `z += W_k·x` for one tap: `w` is the tap's `[CG][C_OUT]` block, `x` one input frame.
    #[inline(always)]
    pub(crate) fn tap(w: &[[T; C_OUT]; CG], x: &[T; C_IN], z: &mut [T; C_OUT]) {
        if GROUPS == 1 {
            // Every output sees every input: a broadcast and a contiguous multiply-add.
            for (wc, &xc) in w.iter().zip(x.iter()) {
                for (zo, &wo) in z.iter_mut().zip(wc.iter()) {
                    *zo += xc * wo;
                }
            }
        } else {
            // Output `o` sees input channel `(o / OUT_PER_GROUP)·CG + c` (depthwise: `o`).
            for (c, wc) in w.iter().enumerate() {
                for (o, (zo, &wo)) in z.iter_mut().zip(wc.iter()).enumerate() {
                    *zo += x[(o / Self::OUT_PER_GROUP) * CG + c] * wo;
                }
            }
        }
    }

    /// The pre-activations of every output frame.
    #[inline(always)]
    fn pre_activation(&self, x: &[[T; C_IN]; L], z: &mut [[T; C_OUT]; L_OUT]) {
        for (t, zt) in z.iter_mut().enumerate() {
            *zt = self.bias;
            for (k, wk) in self.weight.iter().enumerate() {
                if let Some(j) = Self::input_frame(t, k) {
                    Self::tap(wk, &x[j], zt);
                }
            }
        }
    }

    /// Adds the parameter gradients of one sample whose pre-activation gradient is `dz`, and,
    /// when `dx` is given, writes the input gradient.
    #[inline(always)]
    fn add_grads(
        &self,
        x: &[[T; C_IN]; L],
        dz: &[[T; C_OUT]; L_OUT],
        grads: &mut Self,
        mut dx: Option<&mut [[T; C_IN]; L]>,
    ) {
        if let Some(dx) = dx.as_deref_mut() {
            *dx = [[T::zero(); C_IN]; L];
        }
        for (t, dzt) in dz.iter().enumerate() {
            for (gb, &d) in grads.bias.iter_mut().zip(dzt.iter()) {
                *gb += d;
            }
            for k in 0..K {
                let Some(j) = Self::input_frame(t, k) else {
                    continue;
                };
                let (xj, gw, w) = (&x[j], &mut grads.weight[k], &self.weight[k]);
                for c in 0..CG {
                    if GROUPS == 1 {
                        let xc = xj[c];
                        for (g, &d) in gw[c].iter_mut().zip(dzt.iter()) {
                            *g += xc * d;
                        }
                    } else {
                        for (o, (g, &d)) in gw[c].iter_mut().zip(dzt.iter()).enumerate() {
                            *g += xj[(o / Self::OUT_PER_GROUP) * CG + c] * d;
                        }
                    }
                }
                if let Some(dx) = dx.as_deref_mut() {
                    let dxj = &mut dx[j];
                    if GROUPS == 1 {
                        // `W_kᵀ·dz` through Dense's input-gradient kernel (a tap is an
                        // input-major dense block; with one group `CG = C_IN`).
                        let mut sums = [T::zero(); CG];
                        kernel::dense_input_grads_row(w, dzt, &mut sums);
                        for (d, &s) in dxj.iter_mut().zip(sums.iter()) {
                            *d += s;
                        }
                    } else {
                        for (c, wc) in w.iter().enumerate() {
                            for (o, (&wo, &d)) in wc.iter().zip(dzt.iter()).enumerate() {
                                dxj[(o / Self::OUT_PER_GROUP) * CG + c] += wo * d;
                            }
                        }
                    }
                }
            }
        }
    }
});

conv1d_impl!(impl[] Conv1d {
    /// A layer from PyTorch's `weight` (`[C_out][C_in/groups][K]`) and `bias`, with the
    /// default activation value.
    pub fn from_pytorch(weight: [[[T; K]; CG]; C_OUT], bias: [T; C_OUT]) -> Self {
        Self::new(weight, bias, A::default())
    }

    /// The same layer with another activation value (e.g. a custom LeakyRelu slope).
    pub fn with_activation(mut self, activation: A) -> Self {
        self.activation = activation;
        self
    }

    /// PyTorch's `weight[out][c][k]` (`c` counts within the output's group).
    #[inline]
    pub fn weight(&self, out: usize, c: usize, k: usize) -> T {
        self.weight[k][c][out]
    }

    /// Sets PyTorch's `weight[out][c][k]`.
    #[inline]
    pub fn set_weight(&mut self, out: usize, c: usize, k: usize, value: T) {
        self.weight[k][c][out] = value;
    }

    /// The weights in PyTorch's `[C_out][C_in/groups][K]` order.
    pub fn weights(&self) -> [[[T; K]; CG]; C_OUT] {
        let mut weight = [[[T::zero(); K]; CG]; C_OUT];
        self.write_weights(&mut weight);
        weight
    }

    /// Writes the weights in PyTorch's order into `weight` (no stack copy, for large layers).
    pub fn write_weights(&self, weight: &mut [[[T; K]; CG]; C_OUT]) {
        for (k, wk) in self.weight.iter().enumerate() {
            for (c, wc) in wk.iter().enumerate() {
                for (o, &w) in wc.iter().enumerate() {
                    weight[o][c][k] = w;
                }
            }
        }
    }

    /// Sets the weights from PyTorch's `[C_out][C_in/groups][K]` order.
    pub fn set_weights(&mut self, weight: &[[[T; K]; CG]; C_OUT]) {
        for (o, wo) in weight.iter().enumerate() {
            for (c, wc) in wo.iter().enumerate() {
                for (k, &w) in wc.iter().enumerate() {
                    self.weight[k][c][o] = w;
                }
            }
        }
    }

    /// The bias.
    #[inline]
    pub fn bias(&self) -> &[T; C_OUT] {
        &self.bias
    }

    /// The bias, writable.
    #[inline]
    pub fn bias_mut(&mut self) -> &mut [T; C_OUT] {
        &mut self.bias
    }

    /// The file view of the weight and the bias of module `module`.
    fn infos(module: usize) -> (TensorInfo, TensorInfo) {
        let weight = TensorInfo {
            module,
            name: "weight",
            shape: Shape::dims3(C_OUT, CG, K),
            layout: Layout::Reversed,
            trained: true,
        };
        let bias = TensorInfo {
            name: "bias",
            shape: Shape::vector(C_OUT),
            layout: Layout::RowMajor,
            ..weight
        };
        (weight, bias)
    }

    /// `y = A(z)` frame by frame.
    #[inline(always)]
    pub(crate) fn activate(&self, z: &[[T; C_OUT]; L_OUT], y: &mut [[T; C_OUT]; L_OUT]) {
        for (yt, zt) in y.iter_mut().zip(z.iter()) {
            self.activation.forward(zt, yt);
        }
    }

    /// `dz = dL/dz` from the cache and `dy`, frame by frame.
    #[inline(always)]
    fn pre_activation_grad(
        &self,
        cache: &Conv1dCache<C_IN, C_OUT, L, L_OUT, T>,
        dy: &[[T; C_OUT]; L_OUT],
    ) -> [[T; C_OUT]; L_OUT] {
        let mut dz = [[T::zero(); C_OUT]; L_OUT];
        for (t, dzt) in dz.iter_mut().enumerate() {
            self.activation
                .backward(&cache.z[t], &cache.y[t], &dy[t], dzt);
        }
        dz
    }
});

conv1d_impl!(impl[] Zeros for Conv1d {
    fn zeros() -> Self {
        Self::check_shape();
        Conv1d {
            weight: [[[T::zero(); C_OUT]; CG]; K],
            bias: [T::zero(); C_OUT],
            activation: A::default(),
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        Self::check_shape();
        crate::kernel::init_fields!(slot, Conv1d { weight: crate::zeros::Zeros::zeros_in_place, bias: crate::zeros::Zeros::zeros_in_place, activation: |s| crate::zeros::InPlace::write(s, A::default()) })
    }
});

conv1d_impl!(impl[] Params for Conv1d {
    type Scalar = T;
    const PARAM_COUNT: usize = C_OUT * CG * K + C_OUT;

    /// The weight in storage order (`[K][CG][C_OUT]`), then the bias.
    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        [self.weight.as_flattened().as_flattened(), &self.bias[..]].into_iter()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [
            self.weight.as_flattened_mut().as_flattened_mut(),
            &mut self.bias[..],
        ]
        .into_iter()
    }
    /// PyTorch's fans for a convolution: `fan_in = CG·K`, `fan_out = C_OUT·K` (so
    /// [`Init::PyTorchDefault`](crate::init::Init::PyTorchDefault) draws what `nn.Conv1d`
    /// draws: `U(±1/√(CG·K))` for the weight and the bias).
    fn shapes() -> impl Iterator<Item = TensorShape> {
        let weight = TensorShape {
            kind: TensorKind::Weight,
            rows: C_OUT,
            cols: CG * K,
            fan_in: CG * K,
            fan_out: C_OUT * K,
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
});

conv1d_impl!(impl[] crate::named::Named for Conv1d {
    const MODULES: usize = 1 + A::MODULES;
    /// `K.weight` (`[C_OUT, CG, K]`, stored with its axes reversed) and `K.bias`.
    fn visit_tensors(&self, module: usize, f: &mut dyn FnMut(TensorInfo, &[T])) {
        let (weight, bias) = Self::infos(module);
        f(weight, self.weight.as_flattened().as_flattened());
        f(bias, &self.bias);
    }
    fn visit_tensors_mut(&mut self, module: usize, f: &mut dyn FnMut(TensorInfo, &mut [T])) {
        let (weight, bias) = Self::infos(module);
        f(weight, self.weight.as_flattened_mut().as_flattened_mut());
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
});

conv1d_impl!(impl[] Layer for Conv1d {
    type Input = [[T; C_IN]; L];
    type Output = [[T; C_OUT]; L_OUT];
    type Cache = Conv1dCache<C_IN, C_OUT, L, L_OUT, T>;
    type BatchCache<const B: usize> = [Conv1dCache<C_IN, C_OUT, L, L_OUT, T>; B];

    #[inline]
    fn forward(&self, x: &[[T; C_IN]; L]) -> [[T; C_OUT]; L_OUT] {
        Self::check_windowed_shape();
        let mut z = [[T::zero(); C_OUT]; L_OUT];
        self.pre_activation(x, &mut z);
        let mut y = [[T::zero(); C_OUT]; L_OUT];
        self.activate(&z, &mut y);
        y
    }

    #[inline]
    fn forward_train(
        &self,
        x: &[[T; C_IN]; L],
        _ctx: &mut TrainCtx,
    ) -> ([[T; C_OUT]; L_OUT], Self::Cache) {
        Self::check_windowed_shape();
        let mut cache = Conv1dCache {
            x: *x,
            z: [[T::zero(); C_OUT]; L_OUT],
            y: [[T::zero(); C_OUT]; L_OUT],
        };
        self.pre_activation(x, &mut cache.z);
        self.activate(&cache.z, &mut cache.y);
        (cache.y, cache)
    }

    #[inline]
    fn backward(
        &self,
        cache: &Self::Cache,
        dy: &[[T; C_OUT]; L_OUT],
        grads: &mut Self,
    ) -> [[T; C_IN]; L] {
        let dz = self.pre_activation_grad(cache, dy);
        let mut dx = [[T::zero(); C_IN]; L];
        self.add_grads(&cache.x, &dz, grads, Some(&mut dx));
        dx
    }

    #[inline]
    fn backward_params(&self, cache: &Self::Cache, dy: &[[T; C_OUT]; L_OUT], grads: &mut Self) {
        let dz = self.pre_activation_grad(cache, dy);
        self.add_grads(&cache.x, &dz, grads, None);
    }
});

crate::impl_zero_bits!(
    unsafe impl[
        const C_IN: usize, const C_OUT: usize, const K: usize, const L: usize, const L_OUT: usize,
        A: crate::ZeroBits, T: crate::ZeroBits, const STRIDE: usize, const PADDING: usize,
        const DILATION: usize, const GROUPS: usize, const CG: usize
    ]
    for Conv1d<C_IN, C_OUT, K, L, L_OUT, A, T, STRIDE, PADDING, DILATION, GROUPS, CG>
    { weight, bias, activation }
);
crate::impl_zero_bits!(
    unsafe impl[const C_IN: usize, const C_OUT: usize, const L: usize, const L_OUT: usize, T: crate::ZeroBits]
    for Conv1dCache<C_IN, C_OUT, L, L_OUT, T> { x, z, y }
);
