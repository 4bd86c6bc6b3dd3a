//! `Conv2d`: a 2-d convolution over a channels-last image, with its activation fused.
//!
//! # Choices
//! * **Layout: channels-last, `[[[T; C]; W]; H]`** (one pixel of `C` channels after
//!   another, row by row; TensorFlow Lite's NHWC without the batch). A pixel's channels are
//!   contiguous, so every tap is a small dense layer applied to one input pixel: a broadcast
//!   and a multiply-add over contiguous output channels. PyTorch is channels-first: the
//!   golden harness and the loaders transpose (weights load as PyTorch stores them).
//! * **Weight storage: `[KW][KH][CG][C_OUT]`** (private), PyTorch's
//!   `[C_OUT][C_IN/groups][KH][KW]` with its axes reversed ([`Layout::Reversed`] in weight
//!   files): the innermost loop runs over contiguous output channels.
//! * **Groups: `CG`, the input channels per group** (`GROUPS = C_IN / CG`): `CG = C_IN`
//!   (the default) is an ordinary convolution, `CG = 1` a depthwise one (`C_OUT` a multiple
//!   of `C_IN`); see [`DepthwiseConv2d`].
//! * **Geometry as a type** `O: Conv2dOptions`: [`Valid`](crate::Valid) (the default), [`Padded`](crate::Padded)
//!   (PyTorch's symmetric padding), [`Same`](crate::Same) (TensorFlow's), each with stride and dilation,
//!   and [`NoBias`](crate::NoBias) around any of them.
//! * **Compile-time checks** when the layer is used: `H_OUT`, `W_OUT` from the options'
//!   formula, `CG` dividing `C_IN`, `C_OUT` divisible by the groups; the message shows the
//!   numbers.
//! * **Batches** use the per-sample defaults of [`Layer`].

use core::marker::PhantomData;

use crate::activations::{ActivationFn, Identity};
use crate::ctx::TrainCtx;
use crate::kernel::{InTask, Kernels, MulAdd, SimdTask, in_best_simd};
use crate::layer::Layer;
use crate::layers::conv2d_options::{Conv2dOptions, Valid, axis};
use crate::layers::message::Message;
use crate::named::{Layout, Named, Setting, SettingMut, Shape, TensorInfo};
use crate::params::{Params, TensorKind, TensorShape};
use crate::scalar::Scalar;
use crate::zeros::{InPlace, Zeros};

/// PyTorch's `nn.Conv2d(C_IN, C_OUT, (KH, KW), stride, padding, dilation,
/// groups = C_IN / CG, bias)` over an `H × W` channels-last image, then the activation `A`;
/// the geometry comes from `O` ([`Valid`](crate::Valid), [`Padded`](crate::Padded), [`Same`](crate::Same), [`NoBias`](crate::NoBias)).
///
/// `z[i][j][o] = bias[o] + Σ_{u,v,c} W[o][c][u][v] · x[i·SH + u·DH − top][j·SW + v·DW − left][g·CG + c]`
/// (zero outside the image), `y = A(z)`; input `[[[T; C_IN]; W]; H]`, output
/// `[[[T; C_OUT]; W_OUT]; H_OUT]`.
///
/// ```
/// use constnet::{Conv2d, Layer, Padded, Relu, Zeros};
/// // 3×3, 1 → 2 channels, padding 1: a 4×4 image stays 4×4.
/// let mut conv = Conv2d::<1, 2, 3, 3, 4, 4, 4, 4, Relu, f64, Padded<1, 1>>::zeros();
/// conv.set_weight(0, 0, 1, 1, 1.0); // output 0 copies the centre tap
/// let image = [[[2.0]; 4]; 4];
/// assert_eq!(conv.forward(&image)[2][3], [2.0, 0.0]);
/// ```
/// An output size that does not follow from the others does not compile:
/// ```compile_fail
/// use constnet::{Conv2d, Layer, Zeros};
/// let _ = Conv2d::<1, 2, 3, 3, 8, 8, 7, 6>::zeros(); // 8 − 3 + 1 = 6, not 7
/// ```
/// ```
/// use constnet::{Conv2d, Layer, Zeros};
/// let _ = Conv2d::<1, 2, 3, 3, 8, 8, 6, 6>::zeros();
/// ```
/// rustc reports `Conv2d: H_OUT = 7, but (H + 2·PH − DH·(KH − 1) − 1) / SH + 1 = (8 + 2·0 − 1·(3 − 1) − 1) / 1 + 1 = 6`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(64))]
pub struct Conv2d<
    const C_IN: usize,
    const C_OUT: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    A = Identity,
    T = f32,
    O = Valid,
    const CG: usize = C_IN,
> {
    /// `weight[v][u][c][o]` is PyTorch's `weight[o][c][u][v]`.
    weight: [[[[T; C_OUT]; CG]; KH]; KW],
    /// The bias (zero and not a parameter when `O` has no bias).
    bias: [T; C_OUT],
    /// The fused activation (its settings, e.g. a LeakyRelu slope).
    pub activation: A,
    options: PhantomData<O>,
}

/// A depthwise convolution: every channel convolved alone (`groups = C`, PyTorch's
/// `nn.Conv2d(C, C, k, groups=C)`), the [`Conv2d`] with one input channel per group.
pub type DepthwiseConv2d<
    const C: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    A = Identity,
    T = f32,
    O = Valid,
> = Conv2d<C, C, KH, KW, H, W, H_OUT, W_OUT, A, T, O, 1>;

/// What [`Conv2d`]'s backward needs from one sample: the input, the pre-activations and the
/// outputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv2dCache<
    const C_IN: usize,
    const C_OUT: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    T,
> {
    /// The input image.
    pub x: [[[T; C_IN]; W]; H],
    /// The pre-activations.
    pub z: [[[T; C_OUT]; W_OUT]; H_OUT],
    /// The outputs.
    pub y: [[[T; C_OUT]; W_OUT]; H_OUT],
}

impl<
    const C_IN: usize,
    const C_OUT: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    T: Scalar,
> Zeros for Conv2dCache<C_IN, C_OUT, H, W, H_OUT, W_OUT, T>
{
    fn zeros() -> Self {
        Conv2dCache {
            x: Zeros::zeros(),
            z: Zeros::zeros(),
            y: Zeros::zeros(),
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Conv2dCache {
                x: Zeros::zeros_in_place,
                z: Zeros::zeros_in_place,
                y: Zeros::zeros_in_place,
            }
        )
    }
}

crate::impl_zero_bits!(unsafe impl[
    const C_IN: usize, const C_OUT: usize, const H: usize, const W: usize,
    const H_OUT: usize, const W_OUT: usize, T: crate::ZeroBits
] for Conv2dCache<C_IN, C_OUT, H, W, H_OUT, W_OUT, T> { x, z, y });

/// An `impl` block of [`Conv2d`] without restating its twelve parameters.
macro_rules! conv2d_impl {
    (@impl [$($head:tt)*] { $($body:tt)* }) => {
        impl<
            const C_IN: usize,
            const C_OUT: usize,
            const KH: usize,
            const KW: usize,
            const H: usize,
            const W: usize,
            const H_OUT: usize,
            const W_OUT: usize,
            A: ActivationFn<T>,
            T: Scalar,
            O: Conv2dOptions,
            const CG: usize,
        > $($head)* Conv2d<C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, A, T, O, CG> {
            $($body)*
        }
    };
    (impl $($tr:ident)::+ for Conv2d { $($body:tt)* }) => {
        conv2d_impl!(@impl [$($tr)::+ for] { $($body)* });
    };
    (impl Conv2d { $($body:tt)* }) => {
        conv2d_impl!(@impl [] { $($body)* });
    };
}

/// The message for an output size (`axis_index` 0: height, 1: width) that does not follow
/// from the options `O`.
const fn wrong_out<O: Conv2dOptions>(
    name: &str,
    axis_index: usize,
    got: usize,
    n: usize,
    k: usize,
    want: usize,
) -> ! {
    let (p, s, d) = (
        O::PADDING[axis_index],
        O::STRIDE[axis_index],
        O::DILATION[axis_index],
    );
    let m = Message::new()
        .text("Conv2d: ")
        .text(name)
        .text(" = ")
        .num(got);
    let m = if O::SAME {
        m.text(", but SAME padding gives ceil(input / stride) = ceil(")
            .num(n)
            .text(" / ")
            .num(s)
            .text(") = ")
            .num(want)
    } else {
        let formula = if axis_index == 0 {
            ", but (H + 2·PH − DH·(KH − 1) − 1) / SH + 1 = ("
        } else {
            ", but (W + 2·PW − DW·(KW − 1) − 1) / SW + 1 = ("
        };
        m.text(formula)
            .num(n)
            .text(" + 2·")
            .num(p)
            .text(" − ")
            .num(d)
            .text("·(")
            .num(k)
            .text(" − 1) − 1) / ")
            .num(s)
            .text(" + 1 = ")
            .num(want)
    };
    m.panic()
}

conv2d_impl!(impl Conv2d {
    /// Padding above and to the left (from the options and the sizes).
    const BEFORE: [usize; 2] = [axis::<O>(0, H, KH).before, axis::<O>(1, W, KW).before];

    /// Fails the build when the parameters are inconsistent.
    const CHECK: () = {
        let [sh, sw] = O::STRIDE;
        let [dh, dw] = O::DILATION;
        if KH == 0 || KW == 0 || sh == 0 || sw == 0 || dh == 0 || dw == 0 {
            Message::new()
                .text("Conv2d: kernel sizes, strides and dilations must be at least 1")
                .panic();
        }
        if CG == 0 || !C_IN.is_multiple_of(CG) {
            Message::new()
                .text("Conv2d: CG (input channels per group) must divide C_IN = ")
                .num(C_IN)
                .text(", but CG = ")
                .num(CG)
                .panic();
        }
        let groups = C_IN / CG;
        if !C_OUT.is_multiple_of(groups) {
            Message::new()
                .text("Conv2d: C_OUT = ")
                .num(C_OUT)
                .text(" must be divisible by the groups C_IN / CG = ")
                .num(groups)
                .panic();
        }
        let (h, w) = (axis::<O>(0, H, KH), axis::<O>(1, W, KW));
        if h.out != H_OUT {
            wrong_out::<O>("H_OUT", 0, H_OUT, H, KH, h.out);
        }
        if w.out != W_OUT {
            wrong_out::<O>("W_OUT", 1, W_OUT, W, KW, w.out);
        }
        if H_OUT == 0 || W_OUT == 0 {
            Message::new()
                .text("Conv2d: the dilated kernel is larger than the padded image")
                .panic();
        }
    };

    /// A layer from PyTorch-ordered weights (`weight[o][c][u][v]`,
    /// `[C_OUT][C_IN/groups][KH][KW]`) and bias (ignored without a bias), default activation.
    pub fn from_pytorch(weight: &[[[[T; KW]; KH]; CG]; C_OUT], bias: &[T; C_OUT]) -> Self {
        let mut layer = Self::zeros();
        layer.set_weights(weight);
        if O::BIAS {
            layer.bias = *bias;
        }
        layer
    }

    /// The same layer with another activation value.
    pub fn with_activation(mut self, activation: A) -> Self {
        self.activation = activation;
        self
    }

    /// PyTorch's `weight[o][c][u][v]`.
    #[inline]
    pub fn weight(&self, o: usize, c: usize, u: usize, v: usize) -> T {
        self.weight[v][u][c][o]
    }

    /// Sets PyTorch's `weight[o][c][u][v]`.
    #[inline]
    pub fn set_weight(&mut self, o: usize, c: usize, u: usize, v: usize, value: T) {
        self.weight[v][u][c][o] = value;
    }

    /// Sets every weight from PyTorch's `[C_OUT][C_IN/groups][KH][KW]` order.
    pub fn set_weights(&mut self, weight: &[[[[T; KW]; KH]; CG]; C_OUT]) {
        for (o, wo) in weight.iter().enumerate() {
            for (c, wc) in wo.iter().enumerate() {
                for (u, wu) in wc.iter().enumerate() {
                    for (v, &value) in wu.iter().enumerate() {
                        self.weight[v][u][c][o] = value;
                    }
                }
            }
        }
    }

    /// The bias (zeros without one).
    #[inline]
    pub fn bias(&self) -> &[T; C_OUT] {
        &self.bias
    }

    /// The bias, writable (without a bias, what is written is ignored by training and
    /// files but used by the forward pass: keep it zero).
    #[inline]
    pub fn bias_mut(&mut self) -> &mut [T; C_OUT] {
        &mut self.bias
    }

    /// The input pixel a tap reads, or `None` in the padding.
    #[inline(always)]
    fn source(i: usize, u: usize, axis_index: usize, n: usize) -> Option<usize> {
        let position = i * O::STRIDE[axis_index] + u * O::DILATION[axis_index];
        position
            .checked_sub(Self::BEFORE[axis_index])
            .filter(|&p| p < n)
    }

    /// `z = bias + Σ taps`, each tap a multiply-add of `K` (fused inside an AVX2+FMA task).
    #[inline(always)]
    fn pre_activation_with<K: Kernels>(
        &self,
        x: &[[[T; C_IN]; W]; H],
        z: &mut [[[T; C_OUT]; W_OUT]; H_OUT],
        clamp: Option<(T, T)>,
    ) {
        let groups = C_IN / CG;
        if groups == 1 && K::WIDE && C_OUT.is_multiple_of(16) {
            // The wide tiles clamp their accumulators as they write them out.
            return self.wide_tiles::<K>(x, z, clamp);
        }
        if CG == 1
            && C_OUT == C_IN
            && K::FUSED
            && crate::kernel::depthwise_vectorized::<T, C_OUT, KW>(O::STRIDE[1], O::DILATION[1])
        {
            // Depthwise, in fused tasks: the vector kernel's tiles (the same multiply-adds
            // in the same order per output as the loop below, but a tap in the padding's
            // columns multiplies a zero pixel), which clamp as they write.
            return self.depthwise_rows::<K>(x, z, clamp);
        }
        self.taps_with::<K>(x, z);
        if let Some((low, high)) = clamp {
            crate::kernel::clamp_in_place(z.as_flattened_mut().as_flattened_mut(), low, high);
        }
    }

    /// The taps of a depthwise layer (`CG = 1`, `C_OUT = C_IN`) by the vector kernel, a row
    /// at a time; taps in the padding's rows are skipped.
    #[inline(always)]
    fn depthwise_rows<K: Kernels>(
        &self,
        x: &[[[T; C_IN]; W]; H],
        z: &mut [[[T; C_OUT]; W_OUT]; H_OUT],
        clamp: Option<(T, T)>,
    ) {
        let weight = self.weight.as_flattened().as_flattened().as_flattened();
        for (i, out) in z.iter_mut().enumerate() {
            let mut rows: [(usize, &[T]); KH] = [(0, &[]); KH];
            let mut count = 0;
            for u in 0..KH {
                if let Some(r) = Self::source(i, u, 0, H) {
                    rows[count] = (u, x[r].as_flattened());
                    count += 1;
                }
            }
            let row = crate::kernel::DepthwiseRow {
                rows: &rows[..count],
                weight,
                bias: &self.bias,
                stride: O::STRIDE[1],
                dilation: O::DILATION[1],
                before: Self::BEFORE[1],
                clamp,
            };
            crate::kernel::depthwise_row::<T, C_OUT, KH, KW>(&row, out.as_flattened_mut());
        }
    }

    /// The ungrouped taps of a layer of 16k outputs in an AVX-512 task: tiles of up to 24
    /// accumulators of 16 floats, each clamped to `clamp` (ReLU, ReLU6) as it is written out.
    #[inline(always)]
    fn wide_tiles<K: Kernels>(
        &self,
        x: &[[[T; C_IN]; W]; H],
        z: &mut [[[T; C_OUT]; W_OUT]; H_OUT],
        clamp: Option<(T, T)>,
    ) {
        // 32 registers of 16 floats: tiles of up to 24 accumulators (6 pixels of 64
        // outputs, 8 of 32 or 16), as many pixels as divide the row.
        macro_rules! tiled {
            ($ob:literal, $most:literal) => {
                match const { tile_pixels(W_OUT, $most) } {
                    8 => self.rows_tiled::<K, 8, $ob>(x, z, clamp),
                    7 => self.rows_tiled::<K, 7, $ob>(x, z, clamp),
                    6 => self.rows_tiled::<K, 6, $ob>(x, z, clamp),
                    5 => self.rows_tiled::<K, 5, $ob>(x, z, clamp),
                    4 => self.rows_tiled::<K, 4, $ob>(x, z, clamp),
                    3 => self.rows_tiled::<K, 3, $ob>(x, z, clamp),
                    2 => self.rows_tiled::<K, 2, $ob>(x, z, clamp),
                    _ => self.rows_tiled::<K, 1, $ob>(x, z, clamp),
                }
            };
        }
        if C_OUT.is_multiple_of(64) {
            tiled!(64, 6);
        } else if C_OUT.is_multiple_of(32) {
            tiled!(32, 8);
        } else {
            tiled!(16, 8);
        }
    }

    /// The taps of every path but the wide tiles ([`Self::pre_activation_with`] without its
    /// clamp).
    #[inline(always)]
    fn taps_with<K: Kernels>(
        &self,
        x: &[[[T; C_IN]; W]; H],
        z: &mut [[[T; C_OUT]; W_OUT]; H_OUT],
    ) {
        let groups = C_IN / CG;
        if groups == 1
            && !K::WIDE
            && KH == 1
            && KW == 1
            && H_OUT == H
            && W_OUT == W
            && O::STRIDE[0] == 1
            && O::STRIDE[1] == 1
            && Self::BEFORE[0] == 0
            && Self::BEFORE[1] == 0
        {
            // A pointwise convolution is a Dense product over the pixels (the weights are
            // stored input-major as Dense's), each output one chain over the input
            // channels in order as below: the same bits. Dense's blocks of 6 pixels × 16
            // outputs keep 12 of the 16 AVX2 registers busy where the blocks below keep 8
            // (VWW at the AVX2 level 15% faster); with 32 registers the tiles below beat
            // Dense's 12 × 32 blocks on these shapes (VWW 15% slower through Dense).
            // (`CG` is `C_IN` here: the pixels as rows of `CG` values.)
            let (pixels, _) = x.as_flattened().as_flattened().as_chunks::<CG>();
            return K::dense_forward_rows(
                &self.weight[0][0],
                &self.bias,
                pixels,
                z.as_flattened_mut(),
            );
        }
        if groups == 1 {
            // Several output pixels of a row at once (independent accumulators, each weight
            // vector loaded once for all of them): as many as fit in 16 AVX2 registers with
            // the weights. Tiles of 6 pixels × 16 outputs (12 accumulators, as Dense's
            // blocks) where the row holds one, the row's rest as one smaller tile; else
            // blocks of whole pixels (a 5-pixel row of 64 outputs ran 10% slower in tiles).
            if C_OUT.is_multiple_of(16) && W_OUT >= 6 {
                return self.rows_tiled::<K, 6, 16>(x, z, None);
            }
            if C_OUT == 8 && W_OUT >= 8 && !K::WIDE {
                // 8 accumulators of 8 outputs where the blocks below keep 4 (VWW's first
                // layer, 3 → 8 channels: 28 → 18 µs at the AVX2 level). Not in AVX-512
                // tasks: there the compiler merges pixel pairs into 16-lane vectors with
                // masked loads and permutes, no faster than the blocks.
                return self.rows_tiled::<K, 8, 8>(x, z, None);
            }
            let block = if C_OUT <= 16 { 4 } else if C_OUT <= 32 { 2 } else { 1 };
            match block {
                4 => self.rows_blocked::<K, 4>(x, z),
                2 => self.rows_blocked::<K, 2>(x, z),
                // Wide layers: 32 outputs of 2 pixels at a time (more accumulators than the
                // registers hold otherwise).
                _ if C_OUT > 64 && C_OUT.is_multiple_of(32) => self.rows_chunked::<K, 2, 32>(x, z),
                _ => self.rows_blocked::<K, 1>(x, z),
            }
            return;
        }
        let per_group = C_OUT / groups;
        for (i, row) in z.iter_mut().enumerate() {
            for (j, pixel_out) in row.iter_mut().enumerate() {
                // A local accumulator: written through `z`, it could alias the weights for
                // the compiler and would stay in memory.
                let mut out = self.bias;
                for u in 0..KH {
                    let Some(r) = Self::source(i, u, 0, H) else { continue };
                    for v in 0..KW {
                        let Some(col) = Self::source(j, v, 1, W) else { continue };
                        let (pixel, taps) = (&x[r][col], &self.weight[v][u]);
                        for (o, zo) in out.iter_mut().enumerate() {
                            let first = (o / per_group) * CG;
                            for (c, tap) in taps.iter().enumerate() {
                                *zo = K::mul_add(pixel[first + c], tap[o], *zo);
                            }
                        }
                    }
                }
                *pixel_out = out;
            }
        }
    }

    /// The ungrouped taps of a wide layer: `OB` output channels of `P` pixels at a time, the
    /// input channels of every tap once per chunk. Each output gets the same multiply-adds
    /// in the same order as one pixel at a time.
    #[inline(always)]
    fn rows_chunked<K: Kernels, const P: usize, const OB: usize>(
        &self,
        x: &[[[T; C_IN]; W]; H],
        z: &mut [[[T; C_OUT]; W_OUT]; H_OUT],
    ) {
        let zero = [T::zero(); C_IN];
        for (i, row) in z.iter_mut().enumerate() {
            let mut j = 0;
            while j < W_OUT {
                let count = if j + P <= W_OUT { P } else { W_OUT - j };
                for chunk in 0..C_OUT / OB {
                    let first = chunk * OB;
                    let mut acc: [[T; OB]; P] = [Self::bias_block(&self.bias, first); P];
                    for u in 0..KH {
                        let Some(r) = Self::source(i, u, 0, H) else { continue };
                        for v in 0..KW {
                            let taps = &self.weight[v][u];
                            for (p, a) in acc.iter_mut().enumerate().take(count) {
                                let pixel =
                                    Self::source(j + p, v, 1, W).map_or(&zero, |col| &x[r][col]);
                                for (tap, &value) in taps.iter().zip(pixel.iter()) {
                                    let w = &tap[first..first + OB];
                                    for (zo, &wo) in a.iter_mut().zip(w) {
                                        *zo = K::mul_add(value, wo, *zo);
                                    }
                                }
                            }
                        }
                    }
                    for (p, a) in acc.iter().enumerate().take(count) {
                        row[j + p][first..first + OB].copy_from_slice(a);
                    }
                }
                j += count;
            }
        }
    }

    /// The ungrouped taps in tiles of `P` output pixels of a row by `OB` output channels
    /// (`OB` divides `C_OUT`); the pixels left at the end of a row as one smaller tile (one
    /// pixel at a time had left them a single accumulator chain per vector: ResNet-8's 8- and
    /// 16-pixel rows in tiles of 6). Each output gets the same multiply-adds in the same
    /// order as one pixel at a time.
    #[inline(always)]
    fn rows_tiled<K: Kernels, const P: usize, const OB: usize>(
        &self,
        x: &[[[T; C_IN]; W]; H],
        z: &mut [[[T; C_OUT]; W_OUT]; H_OUT],
        clamp: Option<(T, T)>,
    ) {
        for (i, row) in z.iter_mut().enumerate() {
            let mut j = 0;
            while j + P <= W_OUT {
                for first in (0..C_OUT).step_by(OB) {
                    self.tile::<K, P, OB>(x, row, i, j, first, clamp);
                }
                j += P;
            }
            // The rest of the row as one smaller tile (a constant size per layer).
            macro_rules! rest {
                ($($q:literal)*) => {
                    match W_OUT % P {
                        $($q => {
                            for first in (0..C_OUT).step_by(OB) {
                                self.tile::<K, $q, OB>(x, row, i, j, first, clamp);
                            }
                        })*
                        _ => {}
                    }
                };
            }
            rest!(1 2 3 4 5 6 7);
        }
    }

    /// Output channels `first..first + OB` of the pixels `j..j + Q` of row `i`.
    #[inline(always)]
    fn tile<K: Kernels, const Q: usize, const OB: usize>(
        &self,
        x: &[[[T; C_IN]; W]; H],
        row: &mut [[T; C_OUT]; W_OUT],
        i: usize,
        j: usize,
        first: usize,
        clamp: Option<(T, T)>,
    ) {
        let mut acc: [[T; OB]; Q] = [Self::bias_block(&self.bias, first); Q];
        let zero = [T::zero(); C_IN];
        for u in 0..KH {
            let Some(r) = Self::source(i, u, 0, H) else { continue };
            for v in 0..KW {
                let taps = &self.weight[v][u];
                let mut cols: [Option<usize>; Q] = [None; Q];
                for (p, col) in cols.iter_mut().enumerate() {
                    *col = Self::source(j + p, v, 1, W);
                }
                if cols.iter().all(Option::is_some) {
                    let pixels = Self::pixels(&x[r], &cols, &zero, true);
                    Self::block_taps::<K, Q, OB>(pixels, taps, first, &mut acc);
                } else {
                    let pixels = Self::pixels(&x[r], &cols, &zero, false);
                    Self::block_taps::<K, Q, OB>(pixels, taps, first, &mut acc);
                }
            }
        }
        if let Some((low, high)) = clamp {
            // In registers: the clamp kernel's portable loop inlines into max and min.
            crate::kernel::clamp_values(acc.as_flattened_mut(), low, high);
        }
        for (p, out) in acc.iter().enumerate() {
            row[j + p][first..first + OB].copy_from_slice(out);
        }
    }

    /// The bias of output channels `first..first + OB`. Loops, not `array::from_fn`, here
    /// and in [`pixels`](Self::pixels): inside a SIMD task `from_fn`'s closure stayed an
    /// out-of-line call (KWS's `f32` profile).
    #[inline(always)]
    fn bias_block<const OB: usize>(bias: &[T; C_OUT], first: usize) -> [T; OB] {
        let mut block = [T::zero(); OB];
        block.copy_from_slice(&bias[first..first + OB]);
        block
    }

    /// The pixels of a block's columns in input row `row`: with `inside` (every column in
    /// the image) at fixed offsets from one address, which the compiler sees; else `zero`
    /// for a column in the padding or past the row's end.
    #[inline(always)]
    fn pixels<'a, const Q: usize>(
        row: &'a [[T; C_IN]; W],
        cols: &[Option<usize>; Q],
        zero: &'a [T; C_IN],
        inside: bool,
    ) -> [&'a [T; C_IN]; Q] {
        let mut pixels = [zero; Q];
        for (pixel, col) in pixels.iter_mut().zip(cols) {
            if inside {
                *pixel = &row[col.unwrap_or(0)];
            } else if let Some(col) = col {
                *pixel = &row[*col];
            }
        }
        pixels
    }

    /// One tap of a block: `acc[p][k] += Σ_c pixels[p][c] · taps[c][first + k]`, the input
    /// channels in order (the same multiply-adds in the same order per output as one pixel
    /// at a time).
    #[inline(always)]
    fn block_taps<K: Kernels, const Q: usize, const OB: usize>(
        pixels: [&[T; C_IN]; Q],
        taps: &[[T; C_OUT]; CG],
        first: usize,
        acc: &mut [[T; OB]; Q],
    ) {
        for (c, tap) in taps.iter().enumerate() {
            let w = &tap[first..first + OB];
            for p in 0..Q {
                let value = pixels[p][c];
                for (zo, &wo) in acc[p].iter_mut().zip(w) {
                    *zo = K::mul_add(value, wo, *zo);
                }
            }
        }
    }

    /// The ungrouped taps, `P` output pixels of a row at a time (local accumulators). The same
    /// multiply-adds in the same order per output as one pixel at a time.
    ///
    /// A tap that falls in the padding's columns multiplies a zero pixel, so a block at the
    /// image's edge runs the same loop as one inside it (a test per pixel and tap had cost
    /// ResNet-8's 32-wide rows a tenth of their time). For a finite weight that adds `±0`
    /// and changes no value (an infinite one makes the channel's outputs non-finite
    /// anyway). Taps in the padding's rows are skipped for the whole block. Every path of
    /// the ungrouped taps (these blocks, [`Self::rows_tiled`], [`Self::rows_chunked`]) does
    /// the same, so they keep the same bits.
    #[inline(always)]
    fn rows_blocked<K: Kernels, const P: usize>(
        &self,
        x: &[[[T; C_IN]; W]; H],
        z: &mut [[[T; C_OUT]; W_OUT]; H_OUT],
    ) {
        let zero = [T::zero(); C_IN];
        for (i, row) in z.iter_mut().enumerate() {
            let mut j = 0;
            while j < W_OUT {
                let count = if j + P <= W_OUT { P } else { W_OUT - j };
                let mut acc = [self.bias; P];
                for u in 0..KH {
                    let Some(r) = Self::source(i, u, 0, H) else { continue };
                    for v in 0..KW {
                        let taps = &self.weight[v][u];
                        // Past the row's end (a ragged last block) the block reads zeros too,
                        // into accumulators that are not written out.
                        let mut cols: [Option<usize>; P] = [None; P];
                        for (p, col) in cols.iter_mut().enumerate().take(count) {
                            *col = Self::source(j + p, v, 1, W);
                        }
                        if cols.iter().all(Option::is_some) {
                            let pixels = Self::pixels(&x[r], &cols, &zero, true);
                            Self::block_taps::<K, P, C_OUT>(pixels, taps, 0, &mut acc);
                        } else {
                            let pixels = Self::pixels(&x[r], &cols, &zero, false);
                            Self::block_taps::<K, P, C_OUT>(pixels, taps, 0, &mut acc);
                        }
                    }
                }
                for (p, out) in acc.iter().enumerate().take(count) {
                    row[j + p] = *out;
                }
                j += count;
            }
        }
    }

    /// `z = bias + Σ taps` in one function compiled for AVX2 and FMA where the CPU has them
    /// (the batched and training paths). Not the wide tiles: compiled alone in an AVX-512
    /// function, their accumulators stayed in memory (ResNet-8's batched forward 5.7× slower,
    /// measured), while inside a chain's forward they do not.
    fn pre_activation(&self, x: &[[[T; C_IN]; W]; H], z: &mut [[[T; C_OUT]; W_OUT]; H_OUT]) {
        in_best_simd(PreActivation { layer: self, x, z });
    }

    /// `y = A(y)` in place: a clamp (ReLU, ReLU6) by the clamp kernel, else pixel by pixel.
    #[inline(always)]
    fn activate_in_place(&self, y: &mut [[[T; C_OUT]; W_OUT]; H_OUT]) {
        if let Some((low, high)) = self.activation.clamp_range() {
            return crate::kernel::clamp_in_place(y.as_flattened_mut().as_flattened_mut(), low, high);
        }
        for pixel in y.iter_mut().flatten() {
            let z = *pixel;
            self.activation.forward(&z, pixel);
        }
    }

    /// `y = A(y)` in place with the kernels of `K`, for an `A` that is not a clamp (those
    /// go through [`Self::pre_activation_with`]): an elementwise `A` over runs of 16 values
    /// whatever the pixel's width, else pixel by pixel. (The compiler made an in-place ReLU
    /// over 8-channel pixels into 16-lane masked stores in AVX-512 tasks, each overlapping
    /// the next pixel's load: a store-forwarding stall per pixel.)
    #[inline(always)]
    fn activate_in_place_with<K: Kernels>(&self, y: &mut [[[T; C_OUT]; W_OUT]; H_OUT]) {
        if A::ELEMENTWISE {
            let (runs, rest) = y.as_flattened_mut().as_flattened_mut().as_chunks_mut::<16>();
            for run in runs {
                let z = *run;
                self.activation.forward_with::<K, 16>(&z, run);
            }
            for value in rest {
                let z = [*value];
                let mut out = z;
                self.activation.forward_with::<K, 1>(&z, &mut out);
                *value = out[0];
            }
        } else {
            for pixel in y.iter_mut().flatten() {
                let z = *pixel;
                self.activation.forward_with::<K, C_OUT>(&z, pixel);
            }
        }
    }

    /// `dL/dz` over `cache.z`, in place (the cache is scratch after backward).
    fn pre_activation_grad_in_place(
        &self,
        cache: &mut Conv2dCache<C_IN, C_OUT, H, W, H_OUT, W_OUT, T>,
        dy: &[[[T; C_OUT]; W_OUT]; H_OUT],
    ) {
        for ((z, y), d) in cache
            .z
            .iter_mut()
            .flatten()
            .zip(cache.y.iter().flatten())
            .zip(dy.iter().flatten())
        {
            let mut dz = [T::zero(); C_OUT];
            self.activation.backward(z, y, d, &mut dz);
            *z = dz;
        }
    }

    /// Adds the parameter gradients of `dz` into `grads` and, when given, writes `dL/dx`.
    fn backward_from(
        &self,
        x: &[[[T; C_IN]; W]; H],
        dz: &[[[T; C_OUT]; W_OUT]; H_OUT],
        grads: &mut Self,
        mut dx: Option<&mut [[[T; C_IN]; W]; H]>,
    ) {
        let groups = C_IN / CG;
        let per_group = C_OUT / groups;
        if let Some(dx) = dx.as_deref_mut() {
            *dx = [[[T::zero(); C_IN]; W]; H];
        }
        for (i, row) in dz.iter().enumerate() {
            for (j, dout) in row.iter().enumerate() {
                if O::BIAS {
                    for (g, &d) in grads.bias.iter_mut().zip(dout.iter()) {
                        *g += d;
                    }
                }
                for u in 0..KH {
                    let Some(r) = Self::source(i, u, 0, H) else { continue };
                    for v in 0..KW {
                        let Some(col) = Self::source(j, v, 1, W) else { continue };
                        let pixel = &x[r][col];
                        let gtaps = &mut grads.weight[v][u];
                        let taps = &self.weight[v][u];
                        for (o, &d) in dout.iter().enumerate() {
                            let first = if groups == 1 { 0 } else { (o / per_group) * CG };
                            for c in 0..CG {
                                gtaps[c][o] += pixel[first + c] * d;
                            }
                        }
                        if let Some(dx) = dx.as_deref_mut() {
                            let dpixel = &mut dx[r][col];
                            for (o, &d) in dout.iter().enumerate() {
                                let first = if groups == 1 { 0 } else { (o / per_group) * CG };
                                for c in 0..CG {
                                    dpixel[first + c] += taps[c][o] * d;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `dL/dz` from the cache and `dy`, pixel by pixel.
    fn pre_activation_grad(
        &self,
        cache: &Conv2dCache<C_IN, C_OUT, H, W, H_OUT, W_OUT, T>,
        dy: &[[[T; C_OUT]; W_OUT]; H_OUT],
    ) -> [[[T; C_OUT]; W_OUT]; H_OUT] {
        let mut dz = [[[T::zero(); C_OUT]; W_OUT]; H_OUT];
        for i in 0..H_OUT {
            for j in 0..W_OUT {
                self.activation
                    .backward(&cache.z[i][j], &cache.y[i][j], &dy[i][j], &mut dz[i][j]);
            }
        }
        dz
    }

    /// The file view of the weight and the bias of module `module`.
    fn infos(module: usize) -> (TensorInfo, TensorInfo) {
        let weight = TensorInfo {
            module,
            name: "weight",
            shape: match Shape::from_dims(&[C_OUT, CG, KH, KW]) {
                Some(shape) => shape,
                None => panic!("a weight dimension beyond u32"),
            },
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
});

conv2d_impl!(impl Zeros for Conv2d {
    fn zeros() -> Self {
        let () = Self::CHECK;
        Conv2d {
            weight: Zeros::zeros(),
            bias: [T::zero(); C_OUT],
            activation: A::default(),
            options: PhantomData,
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        let () = Self::CHECK;
        crate::kernel::init_fields!(slot, Conv2d {
            weight: Zeros::zeros_in_place,
            bias: Zeros::zeros_in_place,
            activation: |s| InPlace::write(s, A::default()),
            options: |s| InPlace::write(s, PhantomData),
        })
    }
});

conv2d_impl!(impl Params for Conv2d {
    type Scalar = T;
    const PARAM_COUNT: usize = C_OUT * CG * KH * KW + if O::BIAS { C_OUT } else { 0 };

    /// The weight (storage order) and, with a bias, the bias.
    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        let weight = self.weight.as_flattened().as_flattened().as_flattened();
        core::iter::once(weight).chain(O::BIAS.then_some(&self.bias[..]))
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        let weight = self
            .weight
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut();
        core::iter::once(weight).chain(O::BIAS.then_some(&mut self.bias[..]))
    }
    /// PyTorch's fans: `fan_in = CG·KH·KW`, `fan_out = C_OUT·KH·KW`.
    fn shapes() -> impl Iterator<Item = TensorShape> {
        let weight = TensorShape {
            kind: TensorKind::Weight,
            rows: C_OUT,
            cols: CG * KH * KW,
            fan_in: CG * KH * KW,
            fan_out: C_OUT * KH * KW,
        };
        let bias = TensorShape {
            kind: TensorKind::Bias,
            cols: 1,
            ..weight
        };
        core::iter::once(weight).chain(O::BIAS.then_some(bias))
    }
    fn restore_defaults(&mut self) {
        self.activation = A::default();
    }
});

conv2d_impl!(impl Named for Conv2d {
    /// `nn.Conv2d`, and the activation's module when it has one.
    const MODULES: usize = 1 + A::MODULES;
    /// `K.weight` (`[C_OUT, CG, KH, KW]`, stored with its axes reversed) and, with a bias,
    /// `K.bias`.
    fn visit_tensors(&self, module: usize, f: &mut dyn FnMut(TensorInfo, &[T])) {
        let (weight, bias) = Self::infos(module);
        f(weight, self.weight.as_flattened().as_flattened().as_flattened());
        if O::BIAS {
            f(bias, &self.bias);
        }
    }
    fn visit_tensors_mut(&mut self, module: usize, f: &mut dyn FnMut(TensorInfo, &mut [T])) {
        let (weight, bias) = Self::infos(module);
        f(
            weight,
            self.weight
                .as_flattened_mut()
                .as_flattened_mut()
                .as_flattened_mut(),
        );
        if O::BIAS {
            f(bias, &mut self.bias);
        }
    }
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

conv2d_impl!(impl Layer for Conv2d {
    type Input = [[[T; C_IN]; W]; H];
    type Output = [[[T; C_OUT]; W_OUT]; H_OUT];
    type Cache = Conv2dCache<C_IN, C_OUT, H, W, H_OUT, W_OUT, T>;
    type BatchCache<const B: usize> = [Conv2dCache<C_IN, C_OUT, H, W, H_OUT, W_OUT, T>; B];
    /// Faster in AVX-512 tasks, with their wider register tiles (`perf_report`'s MLPerf Tiny
    /// figures in `BENCHMARKS.md`).
    const WIDE: bool = true;

    #[inline]
    fn forward(&self, x: &Self::Input) -> Self::Output {
        let () = Self::CHECK;
        let mut y = [[[T::zero(); C_OUT]; W_OUT]; H_OUT];
        self.pre_activation(x, &mut y);
        self.activate_in_place(&mut y);
        y
    }

    /// Inside a chain's task: the taps and the activation inline, fused multiply-adds where
    /// the task has FMA.
    #[inline(always)]
    fn forward_with<K: Kernels>(&self, x: &Self::Input) -> Self::Output {
        let mut y = [[[T::zero(); C_OUT]; W_OUT]; H_OUT];
        self.forward_into_with::<K>(x, &mut y);
        y
    }

    /// Every output pixel written by the taps, then activated in place, a pixel at a time
    /// (one image buffer, not two).
    #[inline(always)]
    fn forward_into_with<K: Kernels>(&self, x: &Self::Input, y: &mut Self::Output) {
        let () = Self::CHECK;
        let clamp = self.activation.clamp_range();
        self.pre_activation_with::<K>(x, y, clamp);
        if clamp.is_none() {
            self.activate_in_place_with::<K>(y);
        }
    }

    fn forward_train(&self, x: &Self::Input, _ctx: &mut TrainCtx) -> (Self::Output, Self::Cache) {
        let () = Self::CHECK;
        let mut cache = Conv2dCache {
            x: *x,
            z: [[[T::zero(); C_OUT]; W_OUT]; H_OUT],
            y: [[[T::zero(); C_OUT]; W_OUT]; H_OUT],
        };
        self.pre_activation(x, &mut cache.z);
        copy_image(&mut cache.y, &cache.z);
        self.activate_in_place(&mut cache.y);
        (cache.y, cache)
    }

    fn backward(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) -> Self::Input {
        let dz = self.pre_activation_grad(cache, dy);
        let mut dx = [[[T::zero(); C_IN]; W]; H];
        self.backward_from(&cache.x, &dz, grads, Some(&mut dx));
        dx
    }

    fn backward_params(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) {
        let dz = self.pre_activation_grad(cache, dy);
        self.backward_from(&cache.x, &dz, grads, None);
    }

    /// Each sample straight into its output: nothing of image size on the stack.
    fn forward_batch<const B: usize>(
        &self,
        x: &[Self::Input; B],
        y: &mut [Self::Output; B],
        _scratch: &mut Self::BatchCache<B>,
    ) {
        let () = Self::CHECK;
        for (xb, yb) in x.iter().zip(y.iter_mut()) {
            self.pre_activation(xb, yb);
            self.activate_in_place(yb);
        }
    }

    /// Each sample straight into its cache and output.
    fn forward_train_batch_shared<const B: usize>(
        &self,
        x: &[Self::Input; B],
        y: &mut [Self::Output; B],
        cache: &mut Self::BatchCache<B>,
        _ctx: &mut TrainCtx,
    ) {
        let () = Self::CHECK;
        for ((xb, yb), cb) in x.iter().zip(y.iter_mut()).zip(cache.iter_mut()) {
            copy_image(&mut cb.x, xb);
            self.pre_activation(xb, &mut cb.z);
            copy_image(&mut cb.y, &cb.z);
            self.activate_in_place(&mut cb.y);
            copy_image(yb, &cb.y);
        }
    }

    /// `dL/dz` over each sample's cache in place, then its gradients.
    fn backward_batch<const B: usize>(
        &self,
        _x: &[Self::Input; B],
        _y: &[Self::Output; B],
        cache: &mut Self::BatchCache<B>,
        dy: &[Self::Output; B],
        dx: &mut [Self::Input; B],
        grads: &mut Self,
    ) {
        for ((cb, dyb), dxb) in cache.iter_mut().zip(dy.iter()).zip(dx.iter_mut()) {
            self.pre_activation_grad_in_place(cb, dyb);
            self.backward_from(&cb.x, &cb.z, grads, Some(dxb));
        }
    }

    fn backward_batch_params<const B: usize>(
        &self,
        _x: &[Self::Input; B],
        _y: &[Self::Output; B],
        cache: &mut Self::BatchCache<B>,
        dy: &[Self::Output; B],
        grads: &mut Self,
    ) {
        for (cb, dyb) in cache.iter_mut().zip(dy.iter()) {
            self.pre_activation_grad_in_place(cb, dyb);
            self.backward_from(&cb.x, &cb.z, grads, None);
        }
    }
});

/// `*to = *from` element by element (an array assignment may go through a stack temporary
/// of the image's size in an unoptimized build).
#[inline]
fn copy_image<T: Copy, const C: usize, const W: usize, const H: usize>(
    to: &mut [[[T; C]; W]; H],
    from: &[[[T; C]; W]; H],
) {
    to.as_flattened_mut()
        .as_flattened_mut()
        .copy_from_slice(from.as_flattened().as_flattened());
}

/// [`Conv2d::pre_activation`]'s work, as one instruction-set task. Its accumulators are
/// locals (one pixel's outputs): accumulated through the reference the task holds, they
/// could alias the weights for the compiler and stayed in memory (four times slower,
/// measured).
struct PreActivation<'a, L: Taps> {
    layer: &'a L,
    x: &'a L::X,
    z: &'a mut L::Z,
}

/// A [`Conv2d`] seen by [`PreActivation`] (spares the task the layer's parameters).
trait Taps {
    type X;
    type Z;
    fn taps<K: Kernels>(&self, x: &Self::X, z: &mut Self::Z);
}

conv2d_impl!(impl Taps for Conv2d {
    type X = [[[T; C_IN]; W]; H];
    type Z = [[[T; C_OUT]; W_OUT]; H_OUT];
    #[inline(always)]
    fn taps<K: Kernels>(&self, x: &Self::X, z: &mut Self::Z) {
        self.pre_activation_with::<K>(x, z, None);
    }
});

impl<L: Taps> SimdTask for PreActivation<'_, L> {
    type Output = ();
    #[inline(always)]
    fn run<M: MulAdd>(self) {
        self.layer.taps::<InTask<M>>(self.x, self.z);
    }
}

crate::impl_zero_bits!(unsafe impl[
    const C_IN: usize, const C_OUT: usize, const KH: usize, const KW: usize, const H: usize,
    const W: usize, const H_OUT: usize, const W_OUT: usize, A: crate::ZeroBits,
    T: crate::ZeroBits, O, const CG: usize
] for Conv2d<C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, A, T, O, CG> { weight, bias, activation, options });

/// Pixels per tile of [`Conv2d`]'s wide kernel for rows of `w_out` pixels, at most `most`:
/// the largest count that divides the row (no pixel left over) unless that is below half
/// of `most` (then `most`, the rest of a row going one pixel at a time).
const fn tile_pixels(w_out: usize, most: usize) -> usize {
    let mut p = if most < w_out { most } else { w_out };
    while p > 1 {
        if w_out.is_multiple_of(p) {
            break;
        }
        p -= 1;
    }
    if 2 * p < most && most <= w_out {
        most
    } else {
        p
    }
}

#[cfg(all(test, feature = "std", target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::init::{self, Init};
    use crate::kernel::InTask;
    use crate::kernel::math::{Fused, FusedWide};
    use crate::layers::{Padded, Same};

    /// The wide tiles (AVX-512 tasks) give every output the same multiply-adds in the same
    /// order as the narrow blocks: the same bits, padding, strides and ragged rows included.
    fn same_bits<
        const C_IN: usize,
        const C_OUT: usize,
        const K: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
        O: Conv2dOptions,
    >(
        seed: u64,
    ) {
        let layer: Conv2d<C_IN, C_OUT, K, K, H, W, HO, WO, crate::Identity, f32, O> =
            init::seeded(Init::HeUniform, seed);
        let x: [[[f32; C_IN]; W]; H] = test_image();
        let mut narrow = Box::new([[[0.0f32; C_OUT]; WO]; HO]);
        let mut wide = Box::new([[[0.0f32; C_OUT]; WO]; HO]);
        layer.pre_activation_with::<InTask<Fused>>(&x, &mut narrow, None);
        layer.pre_activation_with::<InTask<FusedWide>>(&x, &mut wide, None);
        assert_eq!(bits(&narrow), bits(&wide), "C_OUT {C_OUT}, W_OUT {WO}");
        assert!(narrow.iter().flatten().flatten().any(|&v| v != 0.0));
    }

    /// A deterministic test image with values in `[-0.9, 0.9]`.
    fn test_image<const C: usize, const W: usize, const H: usize>() -> [[[f32; C]; W]; H] {
        core::array::from_fn(|i| {
            core::array::from_fn(|j| {
                core::array::from_fn(|c| ((i * 31 + j * 7 + c * 3) % 19) as f32 * 0.1 - 0.9)
            })
        })
    }

    /// An output's bits, to compare two builds exactly.
    fn bits<const C: usize, const W: usize, const H: usize>(y: &[[[f32; C]; W]; H]) -> Vec<u32> {
        y.iter().flatten().flatten().map(|v| v.to_bits()).collect()
    }

    /// A depthwise layer through the vector kernel (`pre_activation_with` in a fused task)
    /// gives the bits of the per-pixel loop it replaces (`taps_with`), padding included.
    fn depthwise_kernel_bits<
        const C: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
        O: Conv2dOptions,
    >(
        seed: u64,
    ) {
        let layer: crate::DepthwiseConv2d<C, 3, 3, H, W, HO, WO, crate::Identity, f32, O> =
            init::seeded(Init::HeUniform, seed);
        assert!(crate::kernel::depthwise_vectorized::<f32, C, 3>(
            O::STRIDE[1],
            O::DILATION[1]
        ));
        let x: [[[f32; C]; W]; H] = test_image();
        let mut kernel = Box::new([[[0.0f32; C]; WO]; HO]);
        let mut looped = Box::new([[[0.0f32; C]; WO]; HO]);
        layer.pre_activation_with::<InTask<Fused>>(&x, &mut kernel, None);
        layer.taps_with::<InTask<Fused>>(&x, &mut looped);
        assert_eq!(bits(&kernel), bits(&looped), "C {C}, W_OUT {WO}");
        assert!(kernel.iter().flatten().flatten().any(|&v| v != 0.0));
    }

    #[test]
    fn the_depthwise_kernel_keeps_the_loops_bits() {
        if crate::kernel::simd_level() == crate::kernel::SimdLevel::Portable {
            return; // no vector kernel at this level
        }
        depthwise_kernel_bits::<64, 25, 5, 25, 5, Same>(1);
        depthwise_kernel_bits::<16, 13, 13, 7, 7, Same<2, 2>>(2);
        depthwise_kernel_bits::<8, 11, 20, 11, 20, Padded<1, 1>>(3);
        depthwise_kernel_bits::<32, 6, 6, 3, 3, Padded<1, 1, 2, 2>>(4);
    }

    /// A ReLU6 layer's forward in a narrow and in a wide task gives the bits of `Relu6.f` over
    /// the narrow blocks' pre-activations, NaN and values past 6 included, for a `K × K`
    /// layer of `C` inputs and `O` outputs on `H × W` images (`Same` padding).
    fn clamp_case<
        const C: usize,
        const O: usize,
        const K: usize,
        const H: usize,
        const W: usize,
    >(
        seed: u64,
    ) {
        use crate::activations::{Pointwise, Relu6};
        let mut layer: Conv2d<C, O, K, K, H, W, H, W, Relu6, f32, Same> =
            init::seeded(Init::HeUniform, seed);
        for o in 0..O {
            layer.set_weight(o, 0, K / 2, K / 2, 4.0);
        }
        let mut x: [[[f32; C]; W]; H] = core::array::from_fn(|i| {
            core::array::from_fn(|j| {
                core::array::from_fn(|c| ((i * 13 + j * 5 + c * 3) % 11) as f32 * 0.7 - 3.5)
            })
        });
        x[H / 2][W / 2][0] = f32::NAN;
        let mut z = [[[0.0f32; O]; W]; H];
        layer.pre_activation_with::<InTask<Fused>>(&x, &mut z, None);
        let expected: Vec<u32> = z
            .iter()
            .flatten()
            .flatten()
            .map(|&v| Relu6.f(v).to_bits())
            .collect();
        assert!(
            z.iter().flatten().flatten().any(|&v| v > 6.0)
                && z.iter().flatten().flatten().any(|&v| v < 0.0)
        );
        assert!(z.iter().flatten().flatten().any(|v| v.is_nan()));
        for wide in [false, true] {
            let y = if wide {
                layer.forward_with::<InTask<FusedWide>>(&x)
            } else {
                layer.forward_with::<InTask<Fused>>(&x)
            };
            let got: Vec<u32> = y.iter().flatten().flatten().map(|v| v.to_bits()).collect();
            assert_eq!(got, expected, "{K}x{K}, {O} outputs, wide: {wide}");
        }
    }

    /// The wide tiles clamp their accumulators as they write them out; the narrow paths (the
    /// 6 × 16 and 8 × 8 tiles, the pointwise Dense product, the blocks) clamp in a second pass.
    /// Both give `Relu6.f` of the pre-activations.
    #[test]
    fn wide_tiles_clamp_as_the_activation_does() {
        clamp_case::<4, 16, 3, 6, 7>(9);
        clamp_case::<3, 8, 3, 9, 10>(10);
        clamp_case::<4, 16, 1, 6, 7>(11);
        clamp_case::<8, 24, 1, 5, 9>(12);
        clamp_case::<5, 32, 3, 4, 3>(13);
    }

    #[test]
    fn wide_tiles_equal_the_narrow_blocks_bit_for_bit() {
        same_bits::<3, 16, 3, 9, 9, 9, 9, Same>(1);
        same_bits::<8, 32, 3, 8, 10, 4, 5, Same<2, 2>>(2);
        same_bits::<16, 64, 1, 5, 5, 5, 5, Same>(3);
        same_bits::<4, 64, 3, 7, 7, 7, 7, Padded<1, 1>>(4);
        same_bits::<32, 128, 1, 3, 3, 3, 3, Same>(5);
        same_bits::<5, 48, 3, 6, 11, 6, 11, Same>(6);
        // 8 outputs: 8-pixel tiles in AVX2 tasks (a ragged rest of 5), blocks in AVX-512.
        same_bits::<3, 8, 3, 26, 26, 13, 13, Same<2, 2>>(7);
        same_bits::<3, 8, 3, 9, 16, 9, 16, Padded<1, 1>>(8);
    }
}
