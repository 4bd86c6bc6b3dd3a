//! `Int8Pool2d`: TensorFlow Lite's int8 MAX_POOL_2D and AVERAGE_POOL_2D.

use core::marker::PhantomData;

use super::int8_conv2d::{Image, window_start};
use super::{Int8Layer, Quantization};
use crate::layers::conv2d_options::{Conv2dOptions, Valid, axis};
use crate::layers::{Average, Max};
use crate::zeros::{InPlace, Zeros};

/// TensorFlow Lite's int8 2-D pools: [`Int8MaxPool2d`] and [`Int8AvgPool2d`]. The input and
/// output share one quantization; a window covers only the image (padding is left out of
/// the maximum and of the average's count, TensorFlow Lite's rule, unlike PyTorch's
/// `count_include_pad=True`), then the fused activation's clamp applies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Int8Pool2d<
    P,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O = Valid<KH, KW>,
> {
    quantization: Quantization,
    range: [i8; 2],
    kind: PhantomData<(P, O)>,
}

/// TensorFlow Lite's int8 `MAX_POOL_2D` on `C` channels of an `H × W` image, window
/// `KH × KW`, geometry `O` (default: stride = window, `VALID`).
///
/// ```
/// use constnet::quant::{Int8Layer, Int8MaxPool2d, Quantization};
/// let pool = Int8MaxPool2d::<1, 2, 2, 2, 2, 1, 1>::new(Quantization::new(0.1, 0), [-128, 127]);
/// assert_eq!(pool.forward(&[[[1], [-4]], [[7], [3]]]), [[[7]]]);
/// ```
pub type Int8MaxPool2d<
    const C: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O = Valid<KH, KW>,
> = Int8Pool2d<Max, C, KH, KW, H, W, H_OUT, W_OUT, O>;

/// TensorFlow Lite's int8 `AVERAGE_POOL_2D`: the window's sum over the pixels inside the
/// image, divided by their count with rounding half away from zero.
///
/// ```
/// use constnet::quant::{Int8AvgPool2d, Int8Layer, Quantization};
/// let pool = Int8AvgPool2d::<1, 2, 2, 2, 2, 1, 1>::new(Quantization::new(0.1, 0), [-128, 127]);
/// assert_eq!(pool.forward(&[[[1], [-4]], [[7], [3]]]), [[[2]]]); // 7 / 4 = 1.75
/// ```
pub type Int8AvgPool2d<
    const C: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O = Valid<KH, KW>,
> = Int8Pool2d<Average, C, KH, KW, H, W, H_OUT, W_OUT, O>;

/// What a pool does with one window (sealed: [`Max`] and [`Average`]).
pub trait Int8PoolKind: Copy + core::fmt::Debug + 'static {
    /// `true` for the average.
    const AVERAGE: bool;
}

impl Int8PoolKind for Max {
    const AVERAGE: bool = false;
}

impl Int8PoolKind for Average {
    const AVERAGE: bool = true;
}

impl<
    P: Int8PoolKind,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O: Conv2dOptions,
> Int8Pool2d<P, C, KH, KW, H, W, H_OUT, W_OUT, O>
{
    const SHAPE: () = {
        let (rows, columns) = (axis::<O>(0, H, KH), axis::<O>(1, W, KW));
        assert!(
            rows.out == H_OUT && columns.out == W_OUT,
            "Int8Pool2d: H_OUT × W_OUT differs from what the input size, window, stride and padding give"
        );
    };

    /// The pool for tensors quantized as `quantization`, its output clamped to `range`.
    pub const fn new(quantization: Quantization, range: [i8; 2]) -> Self {
        let () = Self::SHAPE;
        Int8Pool2d {
            quantization,
            range,
            kind: PhantomData,
        }
    }

    /// The output clamp `[min, max]`.
    pub fn range(&self) -> [i8; 2] {
        self.range
    }

    #[cfg_attr(not(feature = "tflite"), allow(dead_code))]
    #[cfg_attr(not(feature = "tflite"), allow(dead_code))]
    pub(crate) fn set(&mut self, quantization: Quantization, range: [i8; 2]) {
        self.quantization = quantization;
        self.range = range;
    }
}

impl<
    P: Int8PoolKind,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O: Conv2dOptions,
> Zeros for Int8Pool2d<P, C, KH, KW, H, W, H_OUT, W_OUT, O>
{
    fn zeros() -> Self {
        Int8Pool2d {
            quantization: Quantization::default(),
            range: [-128, 127],
            kind: PhantomData,
        }
    }

    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        InPlace::write(slot, Self::zeros())
    }
}

impl<
    P: Int8PoolKind,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O: Conv2dOptions,
> Int8Layer for Int8Pool2d<P, C, KH, KW, H, W, H_OUT, W_OUT, O>
{
    type Input = Image<C, W, H>;
    type Output = Image<C, W_OUT, H_OUT>;
    type Scratch = ();

    fn input_quantization(&self) -> Quantization {
        self.quantization
    }

    fn output_quantization(&self) -> Quantization {
        self.quantization
    }

    fn forward_into(&self, x: &Self::Input, y: &mut Self::Output, _: &mut ()) {
        let () = Self::SHAPE;
        let (rows, columns) = (axis::<O>(0, H, KH), axis::<O>(1, W, KW));
        let [sh, sw] = O::STRIDE;
        let [dh, dw] = O::DILATION;
        let [low, high] = self.range;
        for (oy, out_row) in y.iter_mut().enumerate() {
            let y0 = window_start(oy, sh, rows.before);
            for (ox, out) in out_row.iter_mut().enumerate() {
                let x0 = window_start(ox, sw, columns.before);
                let mut sums = [0i32; C];
                let mut maxima = [i8::MIN; C];
                let mut count = 0i32;
                for u in 0..KH {
                    let iy = y0 + (u * dh) as isize;
                    if iy < 0 || iy as usize >= H {
                        continue;
                    }
                    for v in 0..KW {
                        let ix = x0 + (v * dw) as isize;
                        if ix < 0 || ix as usize >= W {
                            continue;
                        }
                        let pixel = &x[iy as usize][ix as usize];
                        count += 1;
                        if P::AVERAGE {
                            for (s, &p) in sums.iter_mut().zip(pixel) {
                                *s += p as i32;
                            }
                        } else {
                            for (m, &p) in maxima.iter_mut().zip(pixel) {
                                *m = (*m).max(p);
                            }
                        }
                    }
                }
                for c in 0..C {
                    let v = if P::AVERAGE {
                        if count == 0 {
                            0
                        } else {
                            let s = sums[c];
                            let q = if s > 0 {
                                (s + count / 2) / count
                            } else {
                                (s - count / 2) / count
                            };
                            super::clamp_i8(q)
                        }
                    } else {
                        maxima[c]
                    };
                    out[c] = v.clamp(low, high);
                }
            }
        }
    }
}
