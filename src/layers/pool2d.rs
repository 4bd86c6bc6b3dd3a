//! 2-D pooling over a channels-last image: `MaxPool2d`, `AvgPool2d` (PyTorch's
//! `count_include_pad=True`) and `GlobalAvgPool2d`.

use core::marker::PhantomData;

use crate::ctx::TrainCtx;
use crate::layer::Layer;
use crate::layers::conv2d_options::{Conv2dOptions, Valid, axis};
use crate::layers::message::Message;
use crate::layers::parameter_free::parameter_free;
use crate::scalar::Scalar;

/// A 2-D pool of kind `P` ([`Max`] or [`Average`]) on `C` channels of an `H × W`
/// channels-last image, window `KH × KW`, geometry `O`: named through [`MaxPool2d`] and
/// [`AvgPool2d`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pool2d<
    P,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    T = f32,
    O = Valid<KH, KW>,
> {
    shape: PhantomData<(P, T, O)>,
}

/// The maximum of a window ([`MaxPool2d`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Max;

/// The mean of a window, padding included ([`AvgPool2d`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Average;

/// PyTorch's `nn.MaxPool2d((KH, KW), stride, padding, dilation)` on `C` channels of an
/// `H × W` image (channels-last); the geometry comes from `O` (default: stride = kernel, no
/// padding, PyTorch's default). Padding counts as −∞; a NaN in a window makes its maximum
/// NaN, as in PyTorch; the gradient of a window goes to its first maximum.
///
/// ```
/// use constnet::{Layer, MaxPool2d};
/// let pool = MaxPool2d::<1, 2, 2, 4, 4, 2, 2, f64>::new();
/// let image: [[[f64; 1]; 4]; 4] = core::array::from_fn(|i| core::array::from_fn(|j| [(4 * i + j) as f64]));
/// assert_eq!(pool.forward(&image), [[[5.0], [7.0]], [[13.0], [15.0]]]);
/// ```
pub type MaxPool2d<
    const C: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    T = f32,
    O = Valid<KH, KW>,
> = Pool2d<Max, C, KH, KW, H, W, H_OUT, W_OUT, T, O>;

/// PyTorch's `nn.AvgPool2d((KH, KW), stride, padding)` with `count_include_pad=True` (every
/// window divides by `KH·KW`, padding counts as zeros), channels-last; the geometry comes
/// from `O` (default: stride = kernel, no padding).
///
/// ```
/// use constnet::{AvgPool2d, Layer};
/// let pool = AvgPool2d::<1, 2, 2, 2, 2, 1, 1, f64>::new();
/// assert_eq!(pool.forward(&[[[1.0], [2.0]], [[3.0], [6.0]]]), [[[3.0]]]);
/// ```
pub type AvgPool2d<
    const C: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    T = f32,
    O = Valid<KH, KW>,
> = Pool2d<Average, C, KH, KW, H, W, H_OUT, W_OUT, T, O>;

/// The mean of each channel over the whole image: `[[[T; C]; W]; H] → [T; C]` (PyTorch's
/// `nn.AdaptiveAvgPool2d(1)` then `nn.Flatten()`; the head of ResNet and MobileNet).
///
/// ```
/// use constnet::{GlobalAvgPool2d, Layer};
/// let pool = GlobalAvgPool2d::<2, 1, 2, f64>::new();
/// assert_eq!(pool.forward(&[[[1.0, 0.0], [3.0, 4.0]]]), [2.0, 2.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlobalAvgPool2d<const C: usize, const H: usize, const W: usize, T = f32> {
    shape: PhantomData<T>,
}

/// The window geometry shared by the two pools.
struct Window<const KH: usize, const KW: usize, const H: usize, const W: usize, O>(PhantomData<O>);

impl<const KH: usize, const KW: usize, const H: usize, const W: usize, O: Conv2dOptions>
    Window<KH, KW, H, W, O>
{
    const BEFORE: [usize; 2] = [axis::<O>(0, H, KH).before, axis::<O>(1, W, KW).before];

    /// Fails the build unless the output sizes follow from the options.
    const fn check(name: &str, h_out: usize, w_out: usize) {
        let (h, w) = (axis::<O>(0, H, KH), axis::<O>(1, W, KW));
        if KH == 0 || KW == 0 || O::STRIDE[0] == 0 || O::STRIDE[1] == 0 {
            Message::new()
                .text(name)
                .text(": kernel sizes and strides must be at least 1")
                .panic();
        }
        if h.out != h_out || w.out != w_out {
            Message::new()
                .text(name)
                .text(": the output is ")
                .num(h_out)
                .text("×")
                .num(w_out)
                .text(", but the options give ")
                .num(h.out)
                .text("×")
                .num(w.out)
                .text(" for a ")
                .num(H)
                .text("×")
                .num(W)
                .text(" input and a ")
                .num(KH)
                .text("×")
                .num(KW)
                .text(" window")
                .panic();
        }
    }

    /// The input index a tap reads on one axis, or `None` in the padding.
    #[inline(always)]
    fn source(i: usize, u: usize, axis_index: usize, n: usize) -> Option<usize> {
        let position = i * O::STRIDE[axis_index] + u * O::DILATION[axis_index];
        position
            .checked_sub(Self::BEFORE[axis_index])
            .filter(|&p| p < n)
    }
}

/// An `impl` block of a 2-D pool without restating its parameters.
macro_rules! pool2d_impl {
    (@impl [$($extra:tt)*] $kind:ty, [$($head:tt)*] { $($body:tt)* }) => {
        impl<
            $($extra)*
            const C: usize,
            const KH: usize,
            const KW: usize,
            const H: usize,
            const W: usize,
            const H_OUT: usize,
            const W_OUT: usize,
            T: Scalar,
            O: Conv2dOptions,
        > $($head)* Pool2d<$kind, C, KH, KW, H, W, H_OUT, W_OUT, T, O> {
            $($body)*
        }
    };
    (<$kind:ident: $bound:path>, [$($head:tt)*] { $($body:tt)* }) => {
        pool2d_impl!(@impl [$kind: $bound,] $kind, [$($head)*] { $($body)* });
    };
    ($kind:ty, [$($head:tt)*] { $($body:tt)* }) => {
        pool2d_impl!(@impl [] $kind, [$($head)*] { $($body)* });
    };
}

/// What a pool computes over a window: [`Max`] or [`Average`].
pub trait PoolKind: Copy + Default + core::fmt::Debug {
    /// The layer's name, in messages.
    const NAME: &'static str;
}

impl PoolKind for Max {
    const NAME: &'static str = "MaxPool2d";
}

impl PoolKind for Average {
    const NAME: &'static str = "AvgPool2d";
}

pool2d_impl!(<P: PoolKind>, [] {
    /// The layer (no parameters).
    pub const fn new() -> Self {
        Pool2d { shape: PhantomData }
    }

    const CHECK: () = Window::<KH, KW, H, W, O>::check(P::NAME, H_OUT, W_OUT);
});

pool2d_impl!(Max, [] {

    /// Where each output's maximum is (input row, column); the first maximum, or the first
    /// NaN; `None` for a window wholly in the padding.
    fn argmax(x: &[[[T; C]; W]; H], i: usize, j: usize, c: usize) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize)> = None;
        for u in 0..KH {
            let Some(r) = Window::<KH, KW, H, W, O>::source(i, u, 0, H) else { continue };
            for v in 0..KW {
                let Some(col) = Window::<KH, KW, H, W, O>::source(j, v, 1, W) else { continue };
                let value = x[r][col][c];
                best = match best {
                    None => Some((r, col)),
                    Some((br, bc)) => {
                        let m = x[br][bc][c];
                        if !m.is_nan() && (value > m || value.is_nan()) {
                            Some((r, col))
                        } else {
                            best
                        }
                    }
                };
            }
        }
        best
    }
});

impl<const C: usize, const H: usize, const W: usize, T: Scalar> GlobalAvgPool2d<C, H, W, T> {
    /// The layer (no parameters).
    pub const fn new() -> Self {
        const {
            assert!(
                H * W > 0,
                "GlobalAvgPool2d: the image needs at least one pixel"
            )
        };
        GlobalAvgPool2d { shape: PhantomData }
    }
}

parameter_free!(
    impl[
        P: PoolKind, const C: usize, const KH: usize, const KW: usize, const H: usize,
        const W: usize, const H_OUT: usize, const W_OUT: usize, T: Scalar, O: Conv2dOptions
    ] for Pool2d<P, C, KH, KW, H, W, H_OUT, W_OUT, T, O>,
    scalar T,
    modules 1,
    "One module, `nn.MaxPool2d` or `nn.AvgPool2d`."
);

parameter_free!(
    impl[const C: usize, const H: usize, const W: usize, T: Scalar] for GlobalAvgPool2d<C, H, W, T>,
    scalar T,
    modules 2,
    "Two modules, `nn.AdaptiveAvgPool2d(1)` and `nn.Flatten()`."
);

pool2d_impl!(Max, [Layer for] {
    type Input = [[[T; C]; W]; H];
    type Output = [[[T; C]; W_OUT]; H_OUT];
    /// The input (backward finds each window's maximum again).
    type Cache = [[[T; C]; W]; H];
    type BatchCache<const B: usize> = [[[[T; C]; W]; H]; B];

    fn forward(&self, x: &Self::Input) -> Self::Output {
        let () = Self::CHECK;
        let mut y = [[[T::neg_infinity(); C]; W_OUT]; H_OUT];
        for (i, row) in y.iter_mut().enumerate() {
            for (j, out) in row.iter_mut().enumerate() {
                for (c, value) in out.iter_mut().enumerate() {
                    if let Some((r, col)) = Self::argmax(x, i, j, c) {
                        *value = x[r][col][c];
                    }
                }
            }
        }
        y
    }

    fn forward_train(&self, x: &Self::Input, _ctx: &mut TrainCtx) -> (Self::Output, Self::Cache) {
        (self.forward(x), *x)
    }

    fn backward(&self, x: &Self::Cache, dy: &Self::Output, _grads: &mut Self) -> Self::Input {
        let mut dx = [[[T::zero(); C]; W]; H];
        for (i, row) in dy.iter().enumerate() {
            for (j, out) in row.iter().enumerate() {
                for (c, &d) in out.iter().enumerate() {
                    if let Some((r, col)) = Self::argmax(x, i, j, c) {
                        dx[r][col][c] += d;
                    }
                }
            }
        }
        dx
    }
});

pool2d_impl!(Average, [Layer for] {
    type Input = [[[T; C]; W]; H];
    type Output = [[[T; C]; W_OUT]; H_OUT];
    type Cache = ();
    type BatchCache<const B: usize> = [(); B];

    fn forward(&self, x: &Self::Input) -> Self::Output {
        let () = Self::CHECK;
        let scale = T::one() / T::from_f64((KH * KW) as f64);
        let mut y = [[[T::zero(); C]; W_OUT]; H_OUT];
        for (i, row) in y.iter_mut().enumerate() {
            for (j, out) in row.iter_mut().enumerate() {
                for u in 0..KH {
                    let Some(r) = Window::<KH, KW, H, W, O>::source(i, u, 0, H) else { continue };
                    for v in 0..KW {
                        let Some(col) = Window::<KH, KW, H, W, O>::source(j, v, 1, W) else {
                            continue;
                        };
                        for (o, &value) in out.iter_mut().zip(x[r][col].iter()) {
                            *o += value;
                        }
                    }
                }
                for o in out.iter_mut() {
                    *o *= scale;
                }
            }
        }
        y
    }

    fn forward_train(&self, x: &Self::Input, _ctx: &mut TrainCtx) -> (Self::Output, ()) {
        (self.forward(x), ())
    }

    fn backward(&self, _cache: &(), dy: &Self::Output, _grads: &mut Self) -> Self::Input {
        let scale = T::one() / T::from_f64((KH * KW) as f64);
        let mut dx = [[[T::zero(); C]; W]; H];
        for (i, row) in dy.iter().enumerate() {
            for (j, out) in row.iter().enumerate() {
                for u in 0..KH {
                    let Some(r) = Window::<KH, KW, H, W, O>::source(i, u, 0, H) else { continue };
                    for v in 0..KW {
                        let Some(col) = Window::<KH, KW, H, W, O>::source(j, v, 1, W) else {
                            continue;
                        };
                        for (d, &g) in dx[r][col].iter_mut().zip(out.iter()) {
                            *d += g * scale;
                        }
                    }
                }
            }
        }
        dx
    }
});

impl<const C: usize, const H: usize, const W: usize, T: Scalar> Layer
    for GlobalAvgPool2d<C, H, W, T>
{
    type Input = [[[T; C]; W]; H];
    type Output = [T; C];
    type Cache = ();
    type BatchCache<const B: usize> = [(); B];

    fn forward(&self, x: &Self::Input) -> [T; C] {
        let mut sum = [T::zero(); C];
        for pixel in x.iter().flatten() {
            for (s, &v) in sum.iter_mut().zip(pixel.iter()) {
                *s += v;
            }
        }
        let scale = T::one() / T::from_f64((H * W) as f64);
        sum.map(|s| s * scale)
    }

    fn forward_train(&self, x: &Self::Input, _ctx: &mut TrainCtx) -> ([T; C], ()) {
        (self.forward(x), ())
    }

    fn backward(&self, _cache: &(), dy: &[T; C], _grads: &mut Self) -> Self::Input {
        let scale = T::one() / T::from_f64((H * W) as f64);
        [[dy.map(|d| d * scale); W]; H]
    }
}
