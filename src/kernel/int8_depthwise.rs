//! The int8 depthwise convolution: for every output pixel and output channel `o`,
//! `Σ_{u,v} w[u][v][o] · x[tap (u, v)][o / M]` in int32 (depth multiplier `M = C_OUT / C_IN`;
//! a tap outside the image reads the padding pixel, the input zero point in every channel).
//!
//! With `M = 1` (every MobileNet and DS-CNN) the vector builds keep a block of channels in the lanes (16 with AVX-512, 8 with AVX2),
//! the block's `KH × KW` weights widened once per call, and per tap sign-extend 16 (or 8)
//! input bytes to int32 (`vpmovsxbd`) and multiply-add them with `vpmaddwd` against weights
//! whose upper 16 bits are zero: the upper halves of the sign-extended inputs (0 or −1) then
//! meet a zero weight, so each lane gets exactly `x · w` (AVX-512 VNNI fuses the addition:
//! `vpdpwssd`). Other multipliers take the portable loop. Every build gives the same wrapping
//! int32 sums, so the results are exact.

/// The image a depthwise layer reads and where its taps fall.
pub(crate) struct DepthwiseImage<'a> {
    /// `height · width · C_IN` int8, channels-last.
    pub(crate) image: &'a [i8],
    /// One pixel of padding values (`C_IN` int8).
    pub(crate) padding: &'a [i8],
    /// Input rows and columns.
    pub(crate) height: usize,
    pub(crate) width: usize,
    /// Output columns and the number of output pixels.
    pub(crate) out_width: usize,
    pub(crate) outputs: usize,
    /// `[rows, columns]` of the stride, the dilation and the padding before the image.
    pub(crate) stride: [usize; 2],
    pub(crate) dilation: [usize; 2],
    pub(crate) before: [usize; 2],
}

/// Output pixels per span handed to the caller's `done`.
pub(crate) const SPAN: usize = 16;

/// Where one output pixel's taps are.
#[derive(Clone, Copy)]
enum Window<const KH: usize, const KW: usize> {
    /// Inside the image: tap `(u, v)` is at `base + offsets[u][v]`.
    Inside(*const i8),
    /// At an edge: each tap's pixel (in the image or the padding pixel).
    Edge([[*const i8; KW]; KH]),
}

impl DepthwiseImage<'_> {
    /// Where tap `(u, v)` of a window inside the image is, from the window's first pixel.
    #[inline(always)]
    fn offsets<const C: usize, const KH: usize, const KW: usize>(&self) -> [[usize; KW]; KH] {
        let mut offsets = [[0; KW]; KH];
        for (u, row) in offsets.iter_mut().enumerate() {
            for (v, offset) in row.iter_mut().enumerate() {
                *offset = (u * self.dilation[0] * self.width + v * self.dilation[1]) * C;
            }
        }
        offsets
    }

    /// The windows of output pixels `first`, `first + 1`, … (row-major).
    #[inline(always)]
    fn windows(&self, first: usize) -> Windows<'_, '_> {
        Windows {
            image: self,
            at: [first / self.out_width, first % self.out_width],
        }
    }

    /// The tap pixels of output pixels `first + p` for each `p < taps.len()`: pointers to the
    /// first of each pixel's `C` channels (in the image or the padding pixel), computed once
    /// per span for all its channel blocks.
    #[inline(always)]
    fn fill_taps<const C: usize, const KH: usize, const KW: usize>(
        &self,
        first: usize,
        taps: &mut [[[*const i8; KW]; KH]],
    ) {
        let offsets = self.offsets::<C, KH, KW>();
        let mut windows = self.windows(first);
        for pixel in taps.iter_mut() {
            match windows.next::<C, KH, KW>() {
                // In bounds: the window lies inside the image (checked by `Windows::next`).
                Window::Inside(base) => {
                    for (row, offsets) in pixel.iter_mut().zip(&offsets) {
                        for (tap, &offset) in row.iter_mut().zip(offsets) {
                            *tap = base.wrapping_add(offset);
                        }
                    }
                }
                Window::Edge(taps) => *pixel = taps,
            }
        }
    }

    /// The taps of a window from `(y0, x0)` that reaches outside the image: each a pointer
    /// to the first of its `C` channels, in the image or the padding pixel.
    #[inline(never)]
    fn edge_taps<const C: usize, const KH: usize, const KW: usize>(
        &self,
        y0: isize,
        x0: isize,
    ) -> [[*const i8; KW]; KH] {
        let mut taps = [[self.padding.as_ptr(); KW]; KH];
        for (u, row) in taps.iter_mut().enumerate() {
            let iy = y0 + (u * self.dilation[0]) as isize;
            if iy < 0 || iy as usize >= self.height {
                continue;
            }
            for (v, tap) in row.iter_mut().enumerate() {
                let ix = x0 + (v * self.dilation[1]) as isize;
                if ix >= 0 && (ix as usize) < self.width {
                    *tap = self.image[(iy as usize * self.width + ix as usize) * C..].as_ptr();
                }
            }
        }
        taps
    }
}

/// The windows of consecutive output pixels.
struct Windows<'a, 'b> {
    image: &'a DepthwiseImage<'b>,
    /// The next output pixel's row and column.
    at: [usize; 2],
}

impl Windows<'_, '_> {
    /// The next output pixel's window.
    #[inline(always)]
    fn next<const C: usize, const KH: usize, const KW: usize>(&mut self) -> Window<KH, KW> {
        let image = self.image;
        let [oy, ox] = self.at;
        self.at = if ox + 1 == image.out_width {
            [oy + 1, 0]
        } else {
            [oy, ox + 1]
        };
        let y0 = (oy * image.stride[0]) as isize - image.before[0] as isize;
        let x0 = (ox * image.stride[1]) as isize - image.before[1] as isize;
        let reach = [
            (KH.max(1) - 1) * image.dilation[0],
            (KW.max(1) - 1) * image.dilation[1],
        ];
        if y0 >= 0
            && x0 >= 0
            && y0 as usize + reach[0] < image.height
            && x0 as usize + reach[1] < image.width
        {
            Window::Inside(image.image[(y0 as usize * image.width + x0 as usize) * C..].as_ptr())
        } else {
            Window::Edge(image.edge_taps::<C, KH, KW>(y0, x0))
        }
    }
}

/// Tap pointers of a span's pixels.
type SpanTaps<const KH: usize, const KW: usize> = [[[*const i8; KW]; KH]; SPAN];

/// The portable body of output channels `c0..C` for a span's pixels (`taps` from
/// `fill_taps`, pixels of `C_IN` channels; output channel `c` reads input channel
/// `c / (C / C_IN)`).
#[inline(always)]
fn block_body<const C_IN: usize, const C: usize, const KH: usize, const KW: usize>(
    taps: &[[[*const i8; KW]; KH]],
    weights: &[[[i8; C]; KW]; KH],
    c0: usize,
    acc: &mut [[i32; C]],
) {
    let multiplier = C / C_IN;
    for (out, pixel_taps) in acc.iter_mut().zip(taps) {
        out[c0..].fill(0);
        for (row, weight_row) in pixel_taps.iter().zip(weights) {
            for (&tap, w) in row.iter().zip(weight_row) {
                for c in c0..C {
                    // SAFETY: `tap` points at C_IN readable values (see `fill_taps`) and
                    // c / multiplier < C_IN.
                    let x = unsafe { *tap.add(c / multiplier) };
                    out[c] = out[c].wrapping_add(x as i32 * w[c] as i32);
                }
            }
        }
    }
}

/// Calls `block(taps, first, acc)` for each span (the span's taps filled once), then
/// `done(first, span)`.
#[inline(always)]
fn spans<const C_IN: usize, const C: usize, const KH: usize, const KW: usize>(
    image: &DepthwiseImage,
    acc: &mut [[i32; C]; SPAN],
    mut block: impl FnMut(&[[[*const i8; KW]; KH]], &mut [[i32; C]]),
    mut done: impl FnMut(usize, &[[i32; C]]),
) {
    let mut taps: SpanTaps<KH, KW> = [[[image.padding.as_ptr(); KW]; KH]; SPAN];
    let mut first = 0;
    while first < image.outputs {
        let span = (image.outputs - first).min(SPAN);
        image.fill_taps::<C_IN, KH, KW>(first, &mut taps[..span]);
        block(&taps[..span], &mut acc[..span]);
        done(first, &acc[..span]);
        first += span;
    }
}

/// The portable kernel.
pub(crate) mod portable {
    use super::*;

    /// See [`int8_depthwise`](super::int8_depthwise).
    pub(crate) fn depthwise<const C_IN: usize, const C: usize, const KH: usize, const KW: usize>(
        image: &DepthwiseImage,
        weights: &[[[i8; C]; KW]; KH],
        acc: &mut [[i32; C]; SPAN],
        done: impl FnMut(usize, &[[i32; C]]),
    ) {
        spans::<C_IN, C, KH, KW>(
            image,
            acc,
            |taps, acc| block_body::<C_IN, C, KH, KW>(taps, weights, 0, acc),
            done,
        );
    }
}

/// The AVX2 kernel: blocks of 8 channels (`vpmovsxbd`, `vpmaddwd`, `vpaddd`), the last
/// `C % 8` channels portable.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) mod avx2 {
    use super::*;
    use core::arch::x86_64::*;

    /// 8 weights as int32 lanes with zero upper halves (`w as u16`).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn weight_lanes(w: &[i8]) -> __m256i {
        // SAFETY: `w` has at least 8 readable bytes (the slice below checks it).
        let bytes = unsafe { _mm_loadl_epi64(w[..8].as_ptr().cast()) };
        // Sign-extend to 16 bits, then zero-extend those to 32: `w as u16`.
        _mm256_cvtepu16_epi32(_mm_cvtepi8_epi16(bytes))
    }

    /// One block of 8 channels from `c0` for a span's pixels.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn block<const C: usize, const KH: usize, const KW: usize>(
        taps: &[[[*const i8; KW]; KH]],
        weights: &[[[i8; C]; KW]; KH],
        c0: usize,
        acc: &mut [[i32; C]],
    ) {
        let mut w = [[_mm256_setzero_si256(); KW]; KH];
        for (lanes, weights) in w.iter_mut().zip(weights) {
            for (l, weights) in lanes.iter_mut().zip(weights) {
                *l = weight_lanes(&weights[c0..c0 + 8]);
            }
        }
        for (out, pixel_taps) in acc.iter_mut().zip(taps) {
            let mut sum = _mm256_setzero_si256();
            for (row, w) in pixel_taps.iter().zip(&w) {
                for (&tap, &w) in row.iter().zip(w) {
                    // SAFETY: `tap` points at C readable values and c0 + 8 ≤ C.
                    let x = _mm256_cvtepi8_epi32(unsafe {
                        _mm_loadl_epi64(tap.add(c0).cast::<__m128i>())
                    });
                    sum = _mm256_add_epi32(sum, _mm256_madd_epi16(x, w));
                }
            }
            // SAFETY: `out` has C entries and c0 + 8 ≤ C.
            unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(c0).cast(), sum) };
        }
    }

    /// See [`int8_depthwise`](super::int8_depthwise).
    #[target_feature(enable = "avx2")]
    pub(crate) fn depthwise<const C: usize, const KH: usize, const KW: usize>(
        image: &DepthwiseImage,
        weights: &[[[i8; C]; KW]; KH],
        acc: &mut [[i32; C]; SPAN],
        done: impl FnMut(usize, &[[i32; C]]),
    ) {
        spans::<C, C, KH, KW>(
            image,
            acc,
            |taps, acc| {
                let mut c0 = 0;
                while c0 + 8 <= C {
                    block(taps, weights, c0, acc);
                    c0 += 8;
                }
                if c0 < C {
                    block_body::<C, C, KH, KW>(taps, weights, c0, acc);
                }
            },
            done,
        );
    }
}

/// The AVX-512 VNNI kernel: blocks of 16 channels (`vpmovsxbd`, `vpdpwssd`), then one block
/// of 8 and the last `C % 8` channels as in the AVX2 kernel.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) mod vnni {
    use super::*;
    use core::arch::x86_64::*;

    /// `vpdpwssd`, kept fused: written as the intrinsic, the compiler splits most of them into
    /// `vpmaddwd` and `vpaddd`, one more instruction per tap on the ports this loop is bound
    /// by.
    #[target_feature(enable = "avx512f,avx512vnni")]
    #[inline]
    fn dpwssd(mut sum: __m512i, x: __m512i, w: __m512i) -> __m512i {
        // SAFETY: the instruction reads and writes registers only, and the function is
        // compiled with AVX-512F and VNNI (the dispatcher checked the CPU).
        unsafe {
            core::arch::asm!(
                "vpdpwssd {sum}, {x}, {w}",
                sum = inout(zmm_reg) sum,
                x = in(zmm_reg) x,
                w = in(zmm_reg) w,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        sum
    }

    /// One block of 16 channels from `c0` for a span's pixels.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[inline]
    fn block<const C: usize, const KH: usize, const KW: usize>(
        taps: &[[[*const i8; KW]; KH]],
        weights: &[[[i8; C]; KW]; KH],
        c0: usize,
        acc: &mut [[i32; C]],
    ) {
        let mut w = [[_mm512_setzero_si512(); KW]; KH];
        for (lanes, weights) in w.iter_mut().zip(weights) {
            for (l, weights) in lanes.iter_mut().zip(weights) {
                // SAFETY: c0 + 16 ≤ C, so 16 readable bytes.
                let bytes = unsafe { _mm_loadu_si128(weights.as_ptr().add(c0).cast()) };
                // Sign-extend to 16 bits, then zero-extend those to 32: `w as u16`.
                *l = _mm512_cvtepu16_epi32(_mm256_cvtepi8_epi16(bytes));
            }
        }
        for (out, pixel_taps) in acc.iter_mut().zip(taps) {
            let mut sum = _mm512_setzero_si512();
            for (row, w) in pixel_taps.iter().zip(&w) {
                for (&tap, &w) in row.iter().zip(w) {
                    // SAFETY: `tap` points at C readable values and c0 + 16 ≤ C.
                    let x = _mm512_cvtepi8_epi32(unsafe {
                        _mm_loadu_si128(tap.add(c0).cast::<__m128i>())
                    });
                    sum = dpwssd(sum, x, w);
                }
            }
            // SAFETY: `out` has C entries and c0 + 16 ≤ C.
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(c0).cast(), sum) };
        }
    }

    /// See [`int8_depthwise`](super::int8_depthwise).
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2")]
    pub(crate) fn depthwise<const C: usize, const KH: usize, const KW: usize>(
        image: &DepthwiseImage,
        weights: &[[[i8; C]; KW]; KH],
        acc: &mut [[i32; C]; SPAN],
        done: impl FnMut(usize, &[[i32; C]]),
    ) {
        spans::<C, C, KH, KW>(
            image,
            acc,
            |taps, acc| {
                let mut c0 = 0;
                while c0 + 16 <= C {
                    block(taps, weights, c0, acc);
                    c0 += 16;
                }
                if c0 + 8 <= C {
                    super::avx2::block(taps, weights, c0, acc);
                    c0 += 8;
                }
                if c0 < C {
                    block_body::<C, C, KH, KW>(taps, weights, c0, acc);
                }
            },
            done,
        );
    }
}

/// The depthwise sums of every output pixel, `SPAN` pixels at a time: each span's
/// `acc[p][c]` (pixel `first + p`, row-major) is handed to `done(first, span)`, which
/// requantizes it. The best build for the CPU; all give the same bits.
#[inline]
pub(crate) fn int8_depthwise<
    const C_IN: usize,
    const C: usize,
    const KH: usize,
    const KW: usize,
>(
    image: &DepthwiseImage,
    weights: &[[[i8; C]; KW]; KH],
    acc: &mut [[i32; C]; SPAN],
    done: impl FnMut(usize, &[[i32; C]]),
) {
    assert!(
        C_IN > 0
            && C.is_multiple_of(C_IN)
            && image.image.len() == image.height * image.width * C_IN
            && image.padding.len() == C_IN
            && image.out_width > 0
            && image.outputs.is_multiple_of(image.out_width),
        "int8_depthwise: sizes"
    );
    if C_IN != C {
        portable::depthwise::<C_IN, C, KH, KW>(image, weights, acc, done);
        return;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::int8::use_vnni() {
        // SAFETY: the CPU has AVX-512F, BW and VNNI (checked by `use_vnni`; the level
        // Avx512 implies AVX2).
        unsafe { vnni::depthwise(image, weights, acc, done) };
        return;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::dispatch::use_avx2_fma() {
        // SAFETY: the CPU has AVX2 (checked by `use_avx2_fma`).
        unsafe { avx2::depthwise(image, weights, acc, done) };
        return;
    }
    portable::depthwise::<C, C, KH, KW>(image, weights, acc, done);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain definition: every output pixel's sums, padding where a tap falls outside.
    fn reference<const C_IN: usize, const C: usize, const KH: usize, const KW: usize>(
        image: &DepthwiseImage,
        weights: &[[[i8; C]; KW]; KH],
    ) -> Vec<[i32; C]> {
        let multiplier = C / C_IN;
        (0..image.outputs)
            .map(|q| {
                let (oy, ox) = (q / image.out_width, q % image.out_width);
                let mut out = [0i32; C];
                for (u, weight_row) in weights.iter().enumerate() {
                    for (v, w) in weight_row.iter().enumerate() {
                        let iy = (oy * image.stride[0] + u * image.dilation[0]) as isize
                            - image.before[0] as isize;
                        let ix = (ox * image.stride[1] + v * image.dilation[1]) as isize
                            - image.before[1] as isize;
                        let inside = iy >= 0
                            && ix >= 0
                            && (iy as usize) < image.height
                            && (ix as usize) < image.width;
                        for c in 0..C {
                            let i = c / multiplier;
                            let x = if inside {
                                image.image[(iy as usize * image.width + ix as usize) * C_IN + i]
                            } else {
                                image.padding[i]
                            };
                            out[c] = out[c].wrapping_add(x as i32 * w[c] as i32);
                        }
                    }
                }
                out
            })
            .collect()
    }

    /// What a kernel calls with each span.
    type Done<'a, const C: usize> = dyn FnMut(usize, &[[i32; C]]) + 'a;

    fn check<const C_IN: usize, const C: usize, const KH: usize, const KW: usize>(
        height: usize,
        width: usize,
        stride: [usize; 2],
        dilation: [usize; 2],
        before: [usize; 2],
        out: [usize; 2],
        extreme: bool,
    ) {
        let mut state = 0x1234_5678_9abc_def1u64 ^ (C * 31 + height) as u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if extreme { -128 } else { state as i8 }
        };
        let pixels: Vec<i8> = (0..height * width * C_IN).map(|_| next()).collect();
        let padding: Vec<i8> = (0..C_IN).map(|_| next()).collect();
        let mut weights = [[[0i8; C]; KW]; KH];
        for w in weights.as_flattened_mut().as_flattened_mut() {
            *w = next();
        }
        let image = DepthwiseImage {
            image: &pixels,
            padding: &padding,
            height,
            width,
            out_width: out[1],
            outputs: out[0] * out[1],
            stride,
            dilation,
            before,
        };
        let expected = reference::<C_IN, C, KH, KW>(&image, &weights);
        let mut acc = [[0i32; C]; SPAN];
        let run = |name: &str, f: &mut dyn FnMut(&mut Done<C>)| {
            let mut got = vec![[0i32; C]; image.outputs];
            let mut seen = 0;
            f(&mut |first, span| {
                assert_eq!(first, seen, "{name}: spans in order");
                got[first..first + span.len()].copy_from_slice(span);
                seen += span.len();
            });
            assert_eq!(seen, image.outputs, "{name}: every pixel");
            assert_eq!(
                got, expected,
                "{name} {C_IN}->{C} {KH}x{KW} {height}x{width}"
            );
        };
        run("portable", &mut |done| {
            portable::depthwise::<C_IN, C, KH, KW>(&image, &weights, &mut acc, done)
        });
        // The vector builds are for depth multiplier 1 only (the dispatcher checks).
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if C_IN == C {
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above).
                run("avx2", &mut |done| unsafe {
                    avx2::depthwise(&image, &weights, &mut acc, done)
                });
            }
            if std::is_x86_feature_detected!("avx512vnni")
                && std::is_x86_feature_detected!("avx512bw")
                && std::is_x86_feature_detected!("avx2")
            {
                // SAFETY: the CPU has AVX-512F, BW, VNNI and AVX2 (checked just above).
                run("vnni", &mut |done| unsafe {
                    vnni::depthwise(&image, &weights, &mut acc, done)
                });
            }
        }
        run("dispatched", &mut |done| {
            int8_depthwise::<C_IN, C, KH, KW>(&image, &weights, &mut acc, done)
        });
    }

    /// Every build equals the plain definition: channel counts that exercise the 16- and
    /// 8-wide blocks and the scalar rest, depth multipliers above 1, strides, dilation,
    /// padding on every side, and −128 everywhere (the largest products).
    #[test]
    fn kernels_equal_the_definition() {
        for extreme in [false, true] {
            check::<8, 8, 3, 3>(9, 7, [1, 1], [1, 1], [1, 1], [9, 7], extreme);
            check::<16, 16, 3, 3>(8, 8, [2, 2], [1, 1], [0, 0], [4, 4], extreme);
            check::<32, 32, 3, 3>(6, 5, [1, 1], [2, 2], [2, 2], [6, 5], extreme);
            check::<3, 3, 3, 3>(5, 5, [1, 1], [1, 1], [1, 1], [5, 5], extreme);
            check::<27, 27, 5, 3>(7, 6, [2, 1], [1, 1], [2, 1], [4, 6], extreme);
            check::<64, 64, 3, 3>(25, 5, [1, 1], [1, 1], [1, 1], [25, 5], extreme);
            check::<1, 1, 1, 1>(3, 3, [1, 1], [1, 1], [0, 0], [3, 3], extreme);
            // Depth multipliers 2 and 16 (the portable loop).
            check::<3, 6, 3, 3>(8, 8, [1, 1], [1, 1], [1, 1], [8, 8], extreme);
            check::<1, 16, 3, 3>(6, 7, [2, 2], [2, 1], [1, 1], [3, 4], extreme);
        }
    }
}
