//! `Int8Conv2d`: TensorFlow Lite's int8 CONV_2D with per-channel weights.

use core::marker::PhantomData;

use super::int8_dense::{fold_bias, row_sums};
use super::{Int8Layer, Quantization, QuantizedMultiplier};
use crate::layers::conv2d_options::{Valid, axis};
use crate::zeros::{InPlace, Zeros};

/// TensorFlow Lite's int8 `CONV_2D` on a channels-last `H × W × C_IN` image: `C_OUT` filters
/// of `KH × KW × CG` int8 weights (`OHWI` order, one scale per output channel), int32 bias,
/// stride, dilation and padding from `O` ([`Same`](crate::layers::Same) for
/// `padding="SAME"`, [`Valid`] for `"VALID"`), the output clamp of its fused activation.
/// Padding contributes nothing, as in TensorFlow Lite's reference kernel. `H_OUT × W_OUT` is
/// checked at compile time.
///
/// `CG` is the number of input channels each filter reads, as in the float
/// [`Conv2d`](crate::Conv2d): `C_IN` (the default) for an ordinary convolution, 1 for a
/// depthwise one ([`Int8DepthwiseConv2d`](crate::quant::Int8DepthwiseConv2d), TensorFlow
/// Lite's `DEPTHWISE_CONV_2D`: output channel `o` filters input channel `o / M`, depth
/// multiplier `M = C_OUT / C_IN`), or any divisor of `C_IN` for a grouped one (`C_IN / CG`
/// groups, each of `C_OUT / G` consecutive output channels reading `CG` consecutive input
/// channels: TensorFlow Lite's `CONV_2D` with filters of `CG` channels). The weights are kept in
/// the order each kernel reads (the VNNI product's packed blocks, or taps × channels for a
/// depthwise one); [`weight`](Self::weight) and [`weights`](Self::weights) give them in
/// `OHWI` order.
///
/// ```
/// use constnet::layers::Same;
/// use constnet::quant::{Int8Conv2d, Int8Layer, Quantization, QuantizedMultiplier};
/// let q = Quantization::new(1.0, 0);
/// // A 3×3 SAME box filter on a 3×3 image of ones, multiplier 1.
/// let conv = Int8Conv2d::<1, 1, 3, 3, 3, 3, 3, 3, Same>::new(
///     [[[[1]; 3]; 3]], [0], [QuantizedMultiplier::new(1 << 30, 1)], q, q, [-128, 127]);
/// let y = conv.forward(&[[[1]; 3]; 3]);
/// assert_eq!(y, [[[4], [6], [4]], [[6], [9], [6]], [[4], [6], [4]]]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
// The weights start on a cache line, as `Dense`'s do: the VNNI kernels read them 64 bytes at
// a time from there, and loads straddling two lines made M int8 half as slow again (1.40
// against 0.92 µs on the Xeon, a probe moving the heap address).
#[repr(C, align(64))]
pub struct Int8Conv2d<
    const C_IN: usize,
    const C_OUT: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O = Valid,
    const CG: usize = C_IN,
> {
    pub(super) weights: [[[[i8; CG]; KW]; KH]; C_OUT],
    pub(super) multipliers: [QuantizedMultiplier; C_OUT],
    pub(super) input: Quantization,
    pub(super) output: Quantization,
    pub(super) range: [i8; 2],
    /// `bias[o] − z_x · Σ w[o]` (padding reads as the zero point, so it adds nothing); the
    /// bias itself is not kept: it is `folded_bias[o] + z_x · Σ w[o]` (wrapping, exactly).
    pub(super) folded_bias: [i32; C_OUT],
    /// `Σ w[o]`, which the VNNI kernel needs.
    weight_sums: [i32; C_OUT],
    options: PhantomData<O>,
}

/// The stack buffer of `Int8Conv2d`'s in-place forward passes: room for `KH` rows of `2·W`
/// pixels, which `IN_PLACE` checks holds a row's windows (`(W_OUT − 1)·stride + KW` pixels,
/// with padding).
type Band<const C: usize, const KH: usize, const W: usize> = [[[[u8; C]; W]; KH]; 2];

/// The accumulators of the in-place forward passes (8 KiB on the stack): as many pixels at
/// a time as fit (all of a row of ResNet-8's), requantized together.
const ACCUMULATORS: usize = 2048;

/// The most bytes of weights `Int8Conv2d::relaid` lays out on the stack.
const RELAID_BYTES: usize = 4096;

/// An image `[[[i8; C]; W]; H]`.
pub type Image<const C: usize, const W: usize, const H: usize> = [[[i8; C]; W]; H];

crate::quant::int8_window_impl!(impl[] Int8Conv2d {
    /// The compile-time checks of the shape and groups.
    pub(crate) const SHAPE: () = {
        let (rows, columns) = (axis::<O>(0, H, KH), axis::<O>(1, W, KW));
        assert!(
            rows.out == H_OUT && columns.out == W_OUT,
            "Int8Conv2d: H_OUT × W_OUT differs from what the input size, kernel, stride, dilation and padding give"
        );
        assert!(
            CG > 0 && C_IN.is_multiple_of(CG) && C_OUT.is_multiple_of(C_IN / CG),
            "Int8Conv2d: CG must divide C_IN (C_IN / CG groups of CG channels) and C_OUT be a multiple of the number of groups"
        );
    };

    /// Whether this is a depthwise convolution (one input channel per filter, `C_IN > 1`).
    pub(super) const DEPTHWISE: bool = CG == 1 && C_IN > 1;

    /// Whether this is a grouped convolution of more than one channel per group
    /// (`1 < CG < C_IN`).
    const GROUPED: bool = CG > 1 && CG != C_IN;

    /// The length of a filter (`KH·KW·CG`).
    const K: usize = KH * KW * CG;

    /// Whether the weights are kept in the packed order of the VNNI kernel (16 output
    /// channels × 4 filter values per 64-byte block): with 8 or more output channels.
    const PACKED: bool = CG == C_IN && crate::kernel::packable(C_OUT, Self::K);

    /// Where weight `(o, k)` (`k` in `OHWI` order within the filter) is kept: packed, in
    /// `OHWI` order, or (depthwise) tap by tap with the channels side by side, TensorFlow
    /// Lite's `[1, KH, KW, C_OUT]`.
    const fn at(o: usize, k: usize) -> usize {
        if Self::DEPTHWISE {
            k * C_OUT + o
        } else if Self::PACKED {
            crate::kernel::packed_index(o, k, Self::K, C_OUT)
        } else {
            o * Self::K + k
        }
    }

    /// Weight `(o, u, v, c)` (`c < CG`, the input channel within the filter's group).
    pub fn weight(&self, o: usize, u: usize, v: usize, c: usize) -> i8 {
        assert!(
            o < C_OUT && u < KH && v < KW && c < CG,
            "Int8Conv2d: index outside the filter"
        );
        self.weights.as_flattened().as_flattened().as_flattened()
            [Self::at(o, (u * KW + v) * CG + c)]
    }

    /// The layer from its integers: `weights[o][u][v][c]` (`OHWI`: TensorFlow Lite's order
    /// for `CONV_2D`; a depthwise filter's `[1, KH, KW, C_OUT]` transposed), the int32 bias,
    /// one multiplier per output channel, the input and output quantization and the output
    /// clamp `[min, max]`.
    pub const fn new(
        weights: [[[[i8; CG]; KW]; KH]; C_OUT],
        bias: [i32; C_OUT],
        multipliers: [QuantizedMultiplier; C_OUT],
        input: Quantization,
        output: Quantization,
        range: [i8; 2],
    ) -> Self {
        let () = Self::SHAPE;
        let weight_sums = row_sums(weights.as_flattened().as_flattened().as_flattened());
        let folded_bias = fold_bias(&weight_sums, &bias, input.zero_point);
        let weights = if Self::PACKED || Self::DEPTHWISE {
            let mut stored = [[[[0i8; CG]; KW]; KH]; C_OUT];
            let mut o = 0;
            while o < C_OUT {
                let mut k = 0;
                while k < Self::K {
                    let at = Self::at(o, k);
                    let (c, v, u) = (k % CG, (k / CG) % KW, k / (CG * KW));
                    let (c2, v2, u2, o2) = (
                        at % CG,
                        (at / CG) % KW,
                        (at / (CG * KW)) % KH,
                        at / Self::K,
                    );
                    stored[o2][u2][v2][c2] = weights[o][u][v][c];
                    k += 1;
                }
                o += 1;
            }
            stored
        } else {
            weights
        };
        Int8Conv2d {
            weights,
            multipliers,
            input,
            output,
            range,
            folded_bias,
            weight_sums,
            options: PhantomData,
        }
    }
});

crate::quant::int8_window_impl!(impl[] Int8Conv2d {
    /// The layer with its multipliers computed from the per-channel weight scales (or one
    /// scale for all) as TensorFlow Lite does: `input_scale · weight_scale / output_scale` in
    /// `f64`.
    pub fn from_scales(
        weights: [[[[i8; CG]; KW]; KH]; C_OUT],
        bias: [i32; C_OUT],
        input: Quantization,
        weight_scales: &[f32],
        output: Quantization,
        range: [i8; 2],
    ) -> Self {
        let multipliers = core::array::from_fn(|o| {
            let scale = weight_scales[if weight_scales.len() == 1 { 0 } else { o }];
            crate::quant::convolution_multiplier(input, scale, output)
        });
        Self::new(weights, bias, multipliers, input, output, range)
    }

    /// All weights, `weights[o][u][v][c]` (`OHWI`), copied out of the kernel's order.
    pub fn weights(&self) -> [[[[i8; CG]; KW]; KH]; C_OUT] {
        core::array::from_fn(|o| {
            core::array::from_fn(|u| {
                core::array::from_fn(|v| core::array::from_fn(|c| self.weight(o, u, v, c)))
            })
        })
    }

    /// The int32 bias (recovered from the folded one, which is what is kept).
    pub fn bias(&self) -> [i32; C_OUT] {
        let zero_point = self.input.zero_point;
        core::array::from_fn(|o| {
            self.folded_bias[o].wrapping_add(zero_point.wrapping_mul(self.weight_sums[o]))
        })
    }

    /// The requantization multiplier of each output channel.
    pub fn multipliers(&self) -> &[QuantizedMultiplier; C_OUT] {
        &self.multipliers
    }

    /// The output clamp `[min, max]`.
    pub fn range(&self) -> [i8; 2] {
        self.range
    }

    /// Replaces every value (the importers' write, after every check passed); `weights` is
    /// read in `OHWI` order (`o·KH·KW·CG + (u·KW + v)·CG + c`).
    #[cfg_attr(not(feature = "tflite"), allow(dead_code))]
    pub(crate) fn set(
        &mut self,
        weights: impl Fn(usize) -> i8,
        bias: impl Fn(usize) -> i32,
        multipliers: impl Fn(usize) -> QuantizedMultiplier,
        input: Quantization,
        output: Quantization,
        range: [i8; 2],
    ) {
        let flat = self
            .weights
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut();
        for o in 0..C_OUT {
            let mut sum = 0i32;
            for k in 0..Self::K {
                let w = weights(o * Self::K + k);
                flat[Self::at(o, k)] = w;
                sum = sum.wrapping_add(w as i32);
            }
            self.weight_sums[o] = sum;
            // The bias is kept folded (see `folded_bias`), as `fold_bias` folds it.
            self.folded_bias[o] = bias(o).wrapping_sub(input.zero_point.wrapping_mul(sum));
            self.multipliers[o] = multipliers(o);
        }
        self.input = input;
        self.output = output;
        self.range = range;
    }
});

crate::quant::int8_window_impl!(impl[] Zeros for Int8Conv2d {
    fn zeros() -> Self {
        Int8Conv2d {
            weights: Zeros::zeros(),
            multipliers: Zeros::zeros(),
            input: Quantization::default(),
            output: Quantization::default(),
            range: [-128, 127],
            folded_bias: Zeros::zeros(),
            weight_sums: Zeros::zeros(),
            options: PhantomData,
        }
    }

    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Int8Conv2d {
                weights: Zeros::zeros_in_place,
                multipliers: Zeros::zeros_in_place,
                input: Zeros::zeros_in_place,
                output: Zeros::zeros_in_place,
                range: super::quantization::full_range,
                folded_bias: Zeros::zeros_in_place,
                weight_sums: Zeros::zeros_in_place,
                options: Zeros::zeros_in_place,
            }
        )
    }
});

/// Where a window starts on one axis, and whether the whole window is inside the image.
#[inline(always)]
pub(crate) fn window_start(out: usize, stride: usize, before: usize) -> isize {
    (out * stride) as isize - before as isize
}

/// The filter windows of one input image, as a convolution's forward reads them.
struct Windows<
    'x,
    const C_IN: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
> {
    x: &'x [[[i8; C_IN]; W]; H],
    /// Padding before the first row and column.
    before: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    /// The input's zero point, which padding reads as.
    zero: i8,
}

impl<'x, const C_IN: usize, const KH: usize, const KW: usize, const H: usize, const W: usize>
    Windows<'x, C_IN, KH, KW, H, W>
{
    /// Where the window of output pixel `(oy, ox)` starts (row, column; negative in padding).
    #[inline(always)]
    fn start(&self, oy: usize, ox: usize) -> (isize, isize) {
        (
            window_start(oy, self.stride[0], self.before[0]),
            window_start(ox, self.stride[1], self.before[1]),
        )
    }

    /// Whether input pixel `(y, x)` is inside the image (not padding).
    #[inline(always)]
    fn inside(y: isize, x: isize) -> bool {
        y >= 0 && x >= 0 && (y as usize) < H && (x as usize) < W
    }

    /// Gathers the window of output pixel `(oy, ox)` into `patch` and returns `true`, or
    /// returns `false` for an unpadded 1×1 filter, whose window is the input pixel itself
    /// ([`direct`](Self::direct)). Inlined into the product passes (a call per pixel cost
    /// int8 ResNet-8 about 5%); a window that crosses the edge is a call.
    #[inline(always)]
    fn gather(&self, oy: usize, ox: usize, patch: &mut [[[i8; C_IN]; KW]; KH]) -> bool {
        let (y0, x0) = self.start(oy, ox);
        let inside = Self::inside;
        if KH == 1 && KW == 1 && inside(y0, x0) {
            return false;
        }
        let dh = self.dilation[0];
        if self.dilation[1] == 1
            && inside(y0, x0)
            && inside(y0 + ((KH - 1) * dh) as isize, x0 + KW as isize - 1)
        {
            // Inside the image: each filter row is KW contiguous pixels.
            let (y0, x0) = (y0 as usize, x0 as usize);
            for (u, patch_row) in patch.iter_mut().enumerate() {
                patch_row.copy_from_slice(&self.x[y0 + u * dh][x0..x0 + KW]);
            }
        } else {
            self.gather_at_edge(y0, x0, patch);
        }
        true
    }

    /// A window that crosses the image's edge (or has dilated columns), tap by tap: padding
    /// reads as the zero point.
    #[inline(never)]
    fn gather_at_edge(&self, y0: isize, x0: isize, patch: &mut [[[i8; C_IN]; KW]; KH]) {
        let [dh, dw] = self.dilation;
        for (u, patch_row) in patch.iter_mut().enumerate() {
            let iy = y0 + (u * dh) as isize;
            for (v, tap) in patch_row.iter_mut().enumerate() {
                let ix = x0 + (v * dw) as isize;
                *tap = if Self::inside(iy, ix) {
                    self.x[iy as usize][ix as usize]
                } else {
                    [self.zero; C_IN]
                };
            }
        }
    }

    /// The input pixel that is output pixel `(oy, ox)`'s whole window (see
    /// [`gather`](Self::gather)).
    #[inline(always)]
    fn direct(&self, oy: usize, ox: usize) -> &'x [i8] {
        let (y0, x0) = self.start(oy, ox);
        &self.x[y0 as usize][x0 as usize]
    }
}

crate::quant::int8_window_impl!(impl[] Int8Conv2d {
    /// The accumulators of `P` output pixels from `first` (row-major) in one packed product:
    /// each pixel's filter window gathered into `patches`, or read in place where it is the
    /// input pixel itself.
    #[inline(always)]
    fn packed_pixels<'x, const P: usize>(
        &self,
        first: usize,
        patches: &mut [[[[i8; C_IN]; KW]; KH]],
        windows: &Windows<'x, C_IN, KH, KW, H, W>,
        acc: &mut [[i32; C_OUT]],
    ) {
        let at = |q: usize| ((first + q) / W_OUT, (first + q) % W_OUT);
        let mut gathered = [false; P];
        for (q, (patch, g)) in patches.iter_mut().zip(gathered.iter_mut()).enumerate() {
            let (oy, ox) = at(q);
            *g = windows.gather(oy, ox, patch);
        }
        let patches = &*patches;
        let inputs: [&[i8]; P] = core::array::from_fn(|q| {
            if gathered[q] {
                patches[q].as_flattened().as_flattened()
            } else {
                let (oy, ox) = at(q);
                windows.direct(oy, ox)
            }
        });
        crate::kernel::int8_packed_product(
            inputs,
            self.weights.as_flattened().as_flattened().as_flattened(),
            &self.weight_sums,
            acc[..P].as_flattened_mut(),
        );
    }

    /// The bytes of a filter row's window as the in-place product reads it: `KW · C_IN`
    /// rounded up to whole quads (the bytes past the window, of the next pixel, meet zero
    /// weights).
    const RUN: usize = (KW * C_IN).next_multiple_of(4);

    /// Whether the in-place product needs the weights laid out again, each filter row's
    /// `KW · C_IN` values followed by zeros up to [`RUN`](Self::RUN) (and the room for it).
    const RELAID: bool = Self::RUN != KW * C_IN;

    /// Whether [`banded_forward`](Self::banded_forward) can read the windows in place: packed
    /// weights, undilated columns (each filter row's window is `KW · C_IN` contiguous bytes
    /// of its input row), weights laid out again in at most 4 KiB where a row's window is
    /// not a whole number of quads, and a band of at most 16 KiB on the stack that holds a
    /// row's windows and the last window's rounding.
    const IN_PLACE: bool = Self::PACKED
        && O::DILATION[1] == 1
        && (!Self::RELAID || C_OUT * KH * Self::RUN <= RELAID_BYTES)
        && C_OUT <= ACCUMULATORS
        && core::mem::size_of::<Band<C_IN, KH, W>>() <= 16 << 10
        && KH * ((W_OUT - 1) * O::STRIDE[1] + KW) * C_IN + Self::RUN - KW * C_IN
            <= core::mem::size_of::<Band<C_IN, KH, W>>();

    /// The packed weights with each filter row's window rounded up to [`RUN`](Self::RUN)
    /// bytes by zeros, in `buffer` (see [`RELAID`](Self::RELAID)).
    fn relaid<'b>(&self, buffer: &'b mut [i8; RELAID_BYTES]) -> &'b [i8] {
        let k = KH * Self::RUN;
        let weights = self.weights.as_flattened().as_flattened().as_flattened();
        let buffer = &mut buffer[..C_OUT * k];
        buffer.fill(0);
        for o in 0..C_OUT {
            for u in 0..KH {
                for b in 0..KW * C_IN {
                    let to = crate::kernel::packed_index(o, u * Self::RUN + b, k, C_OUT);
                    buffer[to] = weights[Self::at(o, u * KW * C_IN + b)];
                }
            }
        }
        buffer
    }

    /// The outputs of `acc.len()` pixels from their accumulators.
    #[inline(always)]
    fn requantize(&self, acc: &[[i32; C_OUT]], out: &mut [[i8; C_OUT]]) {
        super::fixed_point::requantize_channels(
            acc.as_flattened(),
            &self.folded_bias,
            &self.multipliers,
            self.output.zero_point,
            self.range,
            out.as_flattened_mut(),
        );
    }

    /// The accumulators of `acc.len()` pixels whose windows are the runs of `band` from
    /// `starts`, `step` bytes further for each next pixel.
    #[inline(always)]
    fn window_products(
        &self,
        band: &[u8],
        starts: &[usize; KH],
        step: usize,
        weights: &[i8],
        acc: &mut [[i32; C_OUT]],
    ) {
        let windows = crate::kernel::WindowRuns {
            band,
            starts,
            run: Self::RUN,
            step,
        };
        let pixels = acc.len();
        let acc = acc.as_flattened_mut();
        crate::kernel::int8_window_product(windows, pixels, weights, &self.weight_sums, acc);
    }

    /// The forward pass with the windows read in place: [`banded_forward`](Self::banded_forward),
    /// or [`contiguous_forward`](Self::contiguous_forward) for an unpadded 1×1 filter at
    /// stride 1, with the weights laid out again first where [`RELAID`](Self::RELAID).
    #[inline(never)]
    fn in_place_forward(
        &self,
        x: &Image<C_IN, W, H>,
        y: &mut Image<C_OUT, W_OUT, H_OUT>,
        contiguous: bool,
    ) {
        let mut buffer;
        let weights = if Self::RELAID {
            buffer = [0i8; RELAID_BYTES];
            self.relaid(&mut buffer)
        } else {
            self.weights.as_flattened().as_flattened().as_flattened()
        };
        if contiguous {
            self.contiguous_forward(x, y, weights)
        } else {
            self.banded_forward(x, y, weights)
        }
    }

    /// `banded_forward` for a 1×1 filter at stride 1 without padding, whose windows are the
    /// input pixels themselves: as many of them at a time as the band and the accumulators
    /// hold (in row-major order, across rows), flipped into the band.
    #[inline(always)]
    fn contiguous_forward(
        &self,
        x: &Image<C_IN, W, H>,
        y: &mut Image<C_OUT, W_OUT, H_OUT>,
        weights: &[i8],
    ) {
        let mut band: Band<C_IN, KH, W> = [[[[0u8; C_IN]; W]; KH]; 2];
        let band = band.as_flattened_mut().as_flattened_mut().as_flattened_mut();
        // Room for the last window's rounding up to whole quads.
        let slack = Self::RUN - C_IN;
        let mut acc = [0i32; ACCUMULATORS];
        let (acc, _) = acc.as_chunks_mut::<C_OUT>();
        let span = acc.len().min((band.len() - slack) / C_IN).max(1);
        let pixels = x.as_flattened().chunks(span);
        for (input, outputs) in pixels.zip(y.as_flattened_mut().chunks_mut(span)) {
            let count = input.len();
            let inside = input.as_flattened();
            for (b, &v) in band.iter_mut().zip(inside) {
                *b = v as u8 ^ 0x80;
            }
            let band = &band[..inside.len() + slack];
            self.window_products(band, &[0; KH], C_IN, weights, &mut acc[..count]);
            self.requantize(&acc[..count], outputs);
        }
    }

    /// The forward pass with the windows read in place (see `kernel::int8_window_product`):
    /// for each output row, the `KH` input rows it reads copied into a band, flipped to
    /// unsigned and padded with the zero point; then the row's pixels, as many at a time as
    /// the accumulators hold (all of them in ResNet-8), in one product and one
    /// requantization.
    #[inline(always)]
    fn banded_forward(
        &self,
        x: &Image<C_IN, W, H>,
        y: &mut Image<C_OUT, W_OUT, H_OUT>,
        weights: &[i8],
    ) {
        let (rows, columns) = (axis::<O>(0, H, KH), axis::<O>(1, W, KW));
        let [stride_y, stride_x] = O::STRIDE;
        let dilation_y = O::DILATION[0];
        // The band's columns: the padded ones the row's windows read, from the first
        // window's first.
        let width = (W_OUT - 1) * stride_x + KW;
        let row_bytes = width * C_IN;
        let flipped_zero = (super::clamp_i8(self.input.zero_point) as u8) ^ 0x80;
        let mut band: Band<C_IN, KH, W> = [[[[0u8; C_IN]; W]; KH]; 2];
        let band = band.as_flattened_mut().as_flattened_mut().as_flattened_mut();
        // The rows, and room for the last window's rounding up to whole quads.
        let band = &mut band[..KH * row_bytes + Self::RUN - KW * C_IN];
        // The image's columns in the band: from `left` up to `right`.
        let left = columns.before.min(width);
        let right = (columns.before + W).min(width);
        let mut acc = [0i32; ACCUMULATORS];
        let (acc, _) = acc.as_chunks_mut::<C_OUT>();
        let span = acc.len().max(1);
        for (oy, out_row) in y.iter_mut().enumerate() {
            for (u, band_row) in band.chunks_exact_mut(row_bytes).enumerate() {
                let iy = (oy * stride_y + u * dilation_y) as isize - rows.before as isize;
                if iy < 0 || iy as usize >= H {
                    band_row.fill(flipped_zero);
                    continue;
                }
                let input = x[iy as usize].as_flattened();
                band_row[..left * C_IN].fill(flipped_zero);
                band_row[right * C_IN..].fill(flipped_zero);
                let inside = &input[..(right - left) * C_IN];
                for (b, &v) in band_row[left * C_IN..right * C_IN].iter_mut().zip(inside) {
                    *b = v as u8 ^ 0x80;
                }
            }
            for (first, outputs) in out_row.chunks_mut(span).enumerate() {
                let at = first * span * stride_x * C_IN;
                let starts: [usize; KH] = core::array::from_fn(|u| u * row_bytes + at);
                let span = outputs.len();
                self.window_products(band, &starts, stride_x * C_IN, weights, &mut acc[..span]);
                self.requantize(&acc[..span], outputs);
            }
        }
    }

    /// A grouped convolution's accumulators for one output pixel: each group's `C_OUT / G`
    /// filters over its `CG` channels of every tap of `window` (`KH · KW` taps of `C_IN`
    /// channels, padding already the zero point), the weights in `OHWI` order.
    fn grouped_product(&self, window: &[i8], acc: &mut [i32; C_OUT]) {
        let groups = C_IN / CG;
        let rows = C_OUT / groups;
        let weights = self.weights.as_flattened().as_flattened().as_flattened();
        let mut part = [[[0i8; CG]; KW]; KH];
        for g in 0..groups {
            for (t, tap) in part.as_flattened_mut().iter_mut().enumerate() {
                let first = t * C_IN + g * CG;
                tap.copy_from_slice(&window[first..first + CG]);
            }
            crate::kernel::int8_matvec(
                part.as_flattened().as_flattened(),
                &weights[g * rows * Self::K..(g + 1) * rows * Self::K],
                &self.weight_sums[g * rows..(g + 1) * rows],
                &mut acc[g * rows..(g + 1) * rows],
            );
        }
    }
});

crate::quant::int8_window_impl!(impl[] Int8Layer for Int8Conv2d {
    type Input = Image<C_IN, W, H>;
    type Output = Image<C_OUT, W_OUT, H_OUT>;
    type Scratch = ();

    fn input_quantization(&self) -> Quantization {
        self.input
    }

    fn output_quantization(&self) -> Quantization {
        self.output
    }

    fn forward_into(&self, x: &Self::Input, y: &mut Self::Output, _: &mut ()) {
        let () = Self::SHAPE;
        if Self::DEPTHWISE {
            return self.depthwise_forward(x, y);
        }
        let (rows, columns) = (axis::<O>(0, H, KH), axis::<O>(1, W, KW));
        let zero = super::clamp_i8(self.input.zero_point);
        let weights = self.weights.as_flattened().as_flattened().as_flattened();
        let windows = Windows {
            x,
            before: [rows.before, columns.before],
            stride: O::STRIDE,
            dilation: O::DILATION,
            zero,
        };
        // Up to 16 output pixels at a time: their accumulators, then one requantization
        // pass over all of them.
        const SPAN: usize = 16;
        let mut acc = [[0i32; C_OUT]; SPAN];
        let mut patches = [[[[zero; C_IN]; KW]; KH]; 8];
        // Up to 16 output pixels (in row-major order, across rows) at a time.
        let outputs = y.as_flattened_mut();
        let total = H_OUT * W_OUT;
        let at = |pixel: usize| (pixel / W_OUT, pixel % W_OUT);
        let mut start = 0;
        // A 1×1 filter at stride 1 without padding reads the image row by row: each span's
        // inputs are contiguous, one kernel call.
        let contiguous = Self::PACKED
            && KH == 1
            && KW == 1
            && O::STRIDE == [1, 1]
            && H_OUT == H
            && W_OUT == W
            && rows.before == 0
            && columns.before == 0;
        if Self::IN_PLACE && crate::kernel::int8_windows_in_place() {
            return self.in_place_forward(x, y, contiguous);
        }
        let eight_pixels = Self::PACKED && C_OUT <= 64 && crate::kernel::int8_eight_pixels();
        while start < total {
            let span = (total - start).min(SPAN);
            let mut p = 0;
            if contiguous {
                crate::kernel::int8_packed_rows(
                    &x.as_flattened().as_flattened()[start * C_IN..(start + span) * C_IN],
                    C_IN,
                    weights,
                    &self.weight_sums,
                    acc[..span].as_flattened_mut(),
                );
                p = span;
            }
            if eight_pixels {
                // Eight pixels per pass where the kernel gains from them (see
                // `int8_eight_pixels`; measured on ResNet-8's 16-, 32- and 64-output layers).
                while p + 8 <= span {
                    self.packed_pixels::<8>(start + p, &mut patches, &windows, &mut acc[p..]);
                    p += 8;
                }
            }
            if Self::PACKED {
                // Four output pixels per pass share each load of the weights.
                while p + 4 <= span {
                    self.packed_pixels::<4>(start + p, &mut patches, &windows, &mut acc[p..]);
                    p += 4;
                }
            }
            while p < span {
                let (oy, ox) = at(start + p);
                let gathered = windows.gather(oy, ox, &mut patches[0]);
                let input: &[i8] = if gathered {
                    patches[0].as_flattened().as_flattened()
                } else {
                    windows.direct(oy, ox)
                };
                if Self::PACKED {
                    crate::kernel::int8_packed_product(
                        [input],
                        weights,
                        &self.weight_sums,
                        &mut acc[p],
                    );
                } else if Self::GROUPED {
                    self.grouped_product(input, &mut acc[p]);
                } else {
                    crate::kernel::int8_matvec(input, weights, &self.weight_sums, &mut acc[p]);
                }
                p += 1;
            }
            self.requantize(&acc[..span], &mut outputs[start..start + span]);
            start += span;
        }
    }
});
