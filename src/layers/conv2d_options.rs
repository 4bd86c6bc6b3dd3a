//! The geometry of a [`Conv2d`](crate::Conv2d) (and of the 2-D pools) besides its sizes:
//! stride, dilation, padding (PyTorch's symmetric padding or TensorFlow's `SAME`) and bias,
//! as a type, so that a layer names only what differs from the defaults.

/// Stride, dilation, padding and bias of a 2-D convolution or pool. Implemented by
/// [`Padded`], [`Same`] and [`NoBias`]; [`Valid`] is `Padded` with no padding.
pub trait Conv2dOptions: Copy + Default + core::fmt::Debug + 'static {
    /// `(height, width)` stride.
    const STRIDE: [usize; 2];
    /// `(height, width)` dilation.
    const DILATION: [usize; 2];
    /// PyTorch's symmetric zero padding, `(height, width)`: `padding` rows above and below,
    /// columns left and right. Ignored when [`SAME`](Conv2dOptions::SAME).
    const PADDING: [usize; 2];
    /// TensorFlow's `SAME` padding: the output is `ceil(input / stride)` and the padding
    /// that needs is split with the odd extra row or column at the bottom or right.
    const SAME: bool;
    /// Whether the layer has a bias (PyTorch's `bias=True`).
    const BIAS: bool;
}

/// PyTorch-style zero padding `PH` (rows above and below) and `PW` (columns left and right),
/// stride `SH × SW`, dilation `DH × DW`, with bias. `Padded<1, 1>` is a 3×3 convolution's
/// "same size" padding at stride 1.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Padded<
    const PH: usize,
    const PW: usize,
    const SH: usize = 1,
    const SW: usize = 1,
    const DH: usize = 1,
    const DW: usize = 1,
>;

/// No padding (`padding="valid"`), stride `SH × SW`, dilation `DH × DW`.
pub type Valid<const SH: usize = 1, const SW: usize = 1, const DH: usize = 1, const DW: usize = 1> =
    Padded<0, 0, SH, SW, DH, DW>;

/// TensorFlow's `padding="SAME"`: output `ceil(input / stride)`, the padding split with the
/// odd extra row or column at the bottom or right; stride `SH × SW`, dilation `DH × DW`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Same<const SH: usize = 1, const SW: usize = 1, const DH: usize = 1, const DW: usize = 1>;

/// The options `O` without a bias (PyTorch's `bias=False`, the convolutions before a
/// BatchNorm).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NoBias<O = Valid>(core::marker::PhantomData<O>);

impl<
    const PH: usize,
    const PW: usize,
    const SH: usize,
    const SW: usize,
    const DH: usize,
    const DW: usize,
> Conv2dOptions for Padded<PH, PW, SH, SW, DH, DW>
{
    const STRIDE: [usize; 2] = [SH, SW];
    const DILATION: [usize; 2] = [DH, DW];
    const PADDING: [usize; 2] = [PH, PW];
    const SAME: bool = false;
    const BIAS: bool = true;
}

impl<const SH: usize, const SW: usize, const DH: usize, const DW: usize> Conv2dOptions
    for Same<SH, SW, DH, DW>
{
    const STRIDE: [usize; 2] = [SH, SW];
    const DILATION: [usize; 2] = [DH, DW];
    const PADDING: [usize; 2] = [0, 0];
    const SAME: bool = true;
    const BIAS: bool = true;
}

impl<O: Conv2dOptions> Conv2dOptions for NoBias<O> {
    const STRIDE: [usize; 2] = O::STRIDE;
    const DILATION: [usize; 2] = O::DILATION;
    const PADDING: [usize; 2] = O::PADDING;
    const SAME: bool = O::SAME;
    const BIAS: bool = false;
}

/// One axis of a 2-D window: where the padded window starts and the output size it gives.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Axis {
    /// Padding before the first input row or column.
    pub before: usize,
    /// The output size the options give for this input size.
    pub out: usize,
}

/// The geometry of one axis (0: height, 1: width) for input size `n` and kernel size `k`.
pub(crate) const fn axis<O: Conv2dOptions>(axis: usize, n: usize, k: usize) -> Axis {
    let (s, d) = (O::STRIDE[axis], O::DILATION[axis]);
    let span = d * (k - 1) + 1;
    if O::SAME {
        let out = n.div_ceil(s);
        let needed = (out - 1) * s + span;
        let total = needed.saturating_sub(n);
        Axis {
            before: total / 2,
            out,
        }
    } else {
        let p = O::PADDING[axis];
        let padded = n + 2 * p;
        let out = if padded < span {
            0
        } else {
            (padded - span) / s + 1
        };
        Axis { before: p, out }
    }
}
