//! The `f32` depthwise convolution (one input channel per output channel) over one output
//! row, channels-last: `out[j][c] = bias[c] + Σ_u Σ_v x[u][stride·j + v − before][c] ·
//! w[v][u][c]`, the taps in the kernel's row order, then column order, each one fused
//! multiply-add; taps in the padding are skipped (the caller passes only the input rows
//! inside the image).
//!
//! The vector builds keep a block of channels in the lanes (16 with AVX-512, 8 with AVX2)
//! and 8 output pixels of the row in 8 accumulators: per kernel row, its `KW` weight vectors
//! are loaded once and every input pixel of the tile is multiplied into each of its
//! accumulators. One pixel at a time (the generic loop) loads a pixel and a weight vector
//! per multiply-add and leaves one chain per accumulator; the tiles are bounded by
//! multiply-adds instead. Kernels of 1 to 7 columns, strides 1 and 2, dilation 1; other
//! shapes take the caller's loop. Every build gives the bits of [`portable`] (a test).

use crate::scalar::Scalar;

/// Output pixels per tile.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const TILE: usize = 8;

/// One output row of a depthwise layer and where its taps fall.
#[cfg_attr(
    not(all(feature = "std", target_arch = "x86_64")),
    allow(dead_code, reason = "only the vector builds read it")
)]
pub(crate) struct DepthwiseRow<'a, T> {
    /// The input rows the kernel reaches (`(kernel row u, the row's pixels)`, `C` values
    /// per pixel, in `u` order): rows in the padding are left out.
    pub(crate) rows: &'a [(usize, &'a [T])],
    /// The weights, `[KW][KH][C]` (the layer's layout).
    pub(crate) weight: &'a [T],
    /// The bias (`C` values).
    pub(crate) bias: &'a [T],
    /// Column stride and dilation, and the padding's columns before the image.
    pub(crate) stride: usize,
    pub(crate) dilation: usize,
    pub(crate) before: usize,
    /// `(low, high)` to clamp the outputs to (ReLU, ReLU6) as they are written.
    pub(crate) clamp: Option<(T, T)>,
}

/// Whether [`depthwise_row`] has a vector build for this shape (else the caller's loop
/// runs): `f32`, a CPU with AVX2 and FMA, `C` a multiple of 8, `KW` below 8, stride 1 or 2,
/// dilation 1.
#[inline(always)]
pub(crate) fn depthwise_vectorized<T: Scalar, const C: usize, const KW: usize>(
    stride: usize,
    dilation: usize,
) -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        use super::dispatch::{SimdLevel, simd_level};
        core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>()
            && C.is_multiple_of(8)
            && (1..8).contains(&KW)
            && (stride == 1 || stride == 2)
            && dilation == 1
            && simd_level() != SimdLevel::Portable
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        let _ = (stride, dilation, core::marker::PhantomData::<T>);
        false
    }
}

/// The output row `out` (its pixels, `C` channels each) with the vector builds. Call only
/// where [`depthwise_vectorized`] holds.
#[inline]
pub(crate) fn depthwise_row<T: Scalar, const C: usize, const KH: usize, const KW: usize>(
    row: &DepthwiseRow<'_, T>,
    out: &mut [T],
) {
    assert!(
        depthwise_vectorized::<T, C, KW>(row.stride, row.dilation),
        "no vector build for this depthwise shape"
    );
    assert!(
        checked::<T, C, KH, KW>(row, out),
        "depthwise row: slices of the wrong sizes"
    );
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        use super::dispatch::{SimdLevel, simd_level};
        let out = super::as_f32_mut(out).expect("checked: T is f32");
        // SAFETY: `depthwise_vectorized` checked that T is f32 (same TypeId): the same
        // type, layout and alignment.
        let row = unsafe { &*(row as *const DepthwiseRow<'_, T>).cast::<DepthwiseRow<'_, f32>>() };
        let wide = C.is_multiple_of(16) && simd_level() == SimdLevel::Avx512;
        macro_rules! run {
            ($isa:ident) => {
                match row.stride {
                    // SAFETY: the level is Avx512 only on a CPU with AVX-512F, AVX2 and
                    // FMA, and not Portable only on one with AVX2 and FMA
                    // (`depthwise_vectorized`); the sizes are `checked`.
                    1 => unsafe { $isa::row::<C, KH, KW, 1>(row, out) },
                    // SAFETY: as above.
                    _ => unsafe { $isa::row::<C, KH, KW, 2>(row, out) },
                }
            };
        }
        if wide {
            run!(avx512);
        } else {
            run!(avx2);
        }
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    let _ = (row, out);
}

/// The kernel columns of an edge pixel that fall inside the row: `v_lo..v_hi`, kernel
/// column `v` at input column `first + v` (wrapping: `first` may lie before the row).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
struct EdgeColumns {
    first: usize,
    v_lo: usize,
    v_hi: usize,
}

/// Whether the slices have the sizes the vector builds rely on: whole pixels of `C` values
/// in every input row and in `out`, kernel rows below `KH`, `KW·KH·C` weights and `C`
/// biases.
fn checked<T, const C: usize, const KH: usize, const KW: usize>(
    row: &DepthwiseRow<'_, T>,
    out: &[T],
) -> bool {
    row.weight.len() == KW * KH * C
        && row.bias.len() == C
        && out.len().is_multiple_of(C)
        && row
            .rows
            .iter()
            .all(|&(u, x)| u < KH && x.len().is_multiple_of(C) && x.len() == row.rows[0].1.len())
}

/// The definition the vector builds follow, one output at a time with `f32::mul_add` (a
/// fused multiply-add, as theirs): the reference of their tests.
#[cfg(all(test, feature = "std"))]
pub(crate) fn portable<const C: usize, const KH: usize, const KW: usize>(
    row: &DepthwiseRow<'_, f32>,
    out: &mut [f32],
) {
    for (j, pixel) in out.chunks_exact_mut(C).enumerate() {
        for (c, output) in pixel.iter_mut().enumerate() {
            let mut sum = row.bias[c];
            for &(u, x) in row.rows {
                for v in 0..KW {
                    let column = (j * row.stride + v * row.dilation).wrapping_sub(row.before);
                    if column < x.len() / C {
                        sum = x[column * C + c].mul_add(row.weight[(v * KH + u) * C + c], sum);
                    }
                }
            }
            let mut one = [sum];
            if let Some((low, high)) = row.clamp {
                super::clamp::portable(&mut one, low, high);
            }
            *output = one[0];
        }
    }
}

/// One vector build: `$lanes`-float vectors of type `$v` under `$features`, at most `$most`
/// accumulators in the short tiles.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
macro_rules! depthwise_build {
    ($name:ident, $features:literal, $lanes:literal, $most:literal, $v:ty,
     $load:ident, $store:ident, $fmadd:ident, $max:ident, $min:ident, $set1:ident) => {
        mod $name {
            use core::arch::x86_64::*;

            use super::{DepthwiseRow, EdgeColumns, TILE};

            /// The row: tiles of [`TILE`] pixels, then the rest as one smaller tile.
            ///
            /// # Safety
            /// The CPU must have the build's features; `row` and `out` must satisfy
            /// [`checked`](super::checked) for `C`, `KH`, `KW`.
            #[target_feature(enable = $features)]
            pub(super) unsafe fn row<
                const C: usize,
                const KH: usize,
                const KW: usize,
                const S: usize,
            >(
                row: &DepthwiseRow<'_, f32>,
                out: &mut [f32],
            ) {
                let out_width = out.len() / C;
                let width = row.rows.first().map_or(0, |&(_, x)| x.len() / C);
                // The pixels whose taps all fall inside the row: `lo..hi`.
                let lo = row.before.div_ceil(S).min(out_width);
                let hi = (width + row.before)
                    .checked_sub(KW)
                    .map_or(0, |last| (last / S + 1).min(out_width))
                    .max(lo);
                for j in (0..lo).chain(hi..out_width) {
                    // SAFETY: the caller's checks; pixel `j` is in the row.
                    unsafe { edge_pixel::<C, KH, KW, S>(row, out, j, width) };
                }
                let mut j = lo;
                while j + TILE <= hi {
                    for first in (0..C).step_by($lanes) {
                        // SAFETY: the caller's checks; pixels `j..j + TILE` are in the row
                        // and their taps inside the input row.
                        unsafe { tile::<C, KH, KW, S, TILE, 1>(row, out, j, first) };
                    }
                    j += TILE;
                }
                // The rest of the row as one smaller tile.
                match hi - j {
                    // SAFETY: as above, pixels `j..hi`.
                    1 => unsafe { rest::<C, KH, KW, S, 1>(row, out, j) },
                    // SAFETY: as above, pixels `j..hi`.
                    2 => unsafe { rest::<C, KH, KW, S, 2>(row, out, j) },
                    // SAFETY: as above, pixels `j..hi`.
                    3 => unsafe { rest::<C, KH, KW, S, 3>(row, out, j) },
                    // SAFETY: as above, pixels `j..hi`.
                    4 => unsafe { rest::<C, KH, KW, S, 4>(row, out, j) },
                    // SAFETY: as above, pixels `j..hi`.
                    5 => unsafe { rest::<C, KH, KW, S, 5>(row, out, j) },
                    // SAFETY: as above, pixels `j..hi`.
                    6 => unsafe { rest::<C, KH, KW, S, 6>(row, out, j) },
                    // SAFETY: as above, pixels `j..hi`.
                    7 => unsafe { rest::<C, KH, KW, S, 7>(row, out, j) },
                    _ => {}
                }
            }

            /// A tile of `Q < TILE` pixels over all channels, `B` vectors of channels at a
            /// time so that about [`TILE`] accumulators run side by side (short rows:
            /// KWS's 5-pixel rows leave 3 pixels inside).
            ///
            /// # Safety
            /// As [`tile`] for every channel.
            #[target_feature(enable = $features)]
            #[inline]
            unsafe fn rest<
                const C: usize,
                const KH: usize,
                const KW: usize,
                const S: usize,
                const Q: usize,
            >(
                row: &DepthwiseRow<'_, f32>,
                out: &mut [f32],
                j: usize,
            ) {
                let vectors = C / $lanes;
                if 4 * Q <= $most && vectors.is_multiple_of(4) {
                    for first in (0..C).step_by(4 * $lanes) {
                        // SAFETY: the caller's; channels `first..first + 4·$lanes` exist.
                        unsafe { tile::<C, KH, KW, S, Q, 4>(row, out, j, first) };
                    }
                } else if 2 * Q <= $most && vectors.is_multiple_of(2) {
                    for first in (0..C).step_by(2 * $lanes) {
                        // SAFETY: the caller's; channels `first..first + 2·$lanes` exist.
                        unsafe { tile::<C, KH, KW, S, Q, 2>(row, out, j, first) };
                    }
                } else {
                    for first in (0..C).step_by($lanes) {
                        // SAFETY: the caller's; channels `first..first + $lanes` exist.
                        unsafe { tile::<C, KH, KW, S, Q, 1>(row, out, j, first) };
                    }
                }
            }

            /// Every channel of output pixel `j`, whose taps may fall in the padding (they
            /// are skipped): the kernel columns inside the row, `v_lo..v_hi`, found once,
            /// and 4 vectors of channels at a time (4 independent chains).
            ///
            /// # Safety
            /// The CPU must have the build's features; `row` and `out` must satisfy
            /// [`checked`](super::checked) for `C`, `KH`, `KW`; pixel `j` in `out`; `width`
            /// the input rows' pixels.
            #[target_feature(enable = $features)]
            #[inline]
            unsafe fn edge_pixel<
                const C: usize,
                const KH: usize,
                const KW: usize,
                const S: usize,
            >(
                row: &DepthwiseRow<'_, f32>,
                out: &mut [f32],
                j: usize,
                width: usize,
            ) {
                let columns = EdgeColumns {
                    first: (j * S).wrapping_sub(row.before),
                    v_lo: row.before.saturating_sub(j * S),
                    v_hi: KW.min((width + row.before).saturating_sub(j * S)),
                };
                let mut first = 0;
                while first + 4 * $lanes <= C {
                    // SAFETY: the caller's; channels `first..first + 4·$lanes` exist.
                    unsafe { edge_channels::<C, KH, 4>(row, out, j, first, &columns) };
                    first += 4 * $lanes;
                }
                while first < C {
                    // SAFETY: the caller's; channels `first..first + $lanes` exist.
                    unsafe { edge_channels::<C, KH, 1>(row, out, j, first, &columns) };
                    first += $lanes;
                }
            }

            /// Channels `first..first + G·$lanes` of the edge pixel `j`.
            ///
            /// # Safety
            /// As [`edge_pixel`], with `first + G·$lanes <= C`; kernel columns
            /// `columns.v_lo..columns.v_hi` inside the row, at `columns.first + v`.
            #[target_feature(enable = $features)]
            #[inline]
            unsafe fn edge_channels<const C: usize, const KH: usize, const G: usize>(
                row: &DepthwiseRow<'_, f32>,
                out: &mut [f32],
                j: usize,
                first: usize,
                columns: &EdgeColumns,
            ) {
                let weight = row.weight.as_ptr();
                // SAFETY: `first + G·$lanes <= C` floats of the bias.
                let mut acc: [$v; G] = core::array::from_fn(|g| unsafe {
                    $load(row.bias.as_ptr().add(first + g * $lanes))
                });
                for &(u, x) in row.rows {
                    for v in columns.v_lo..columns.v_hi {
                        let column = columns.first.wrapping_add(v);
                        for (g, a) in acc.iter_mut().enumerate() {
                            let channel = first + g * $lanes;
                            // SAFETY: the column is in the row; `u < KH` and `v < KW`
                            // (`checked`, `v_hi <= KW`); `channel + $lanes <= C`.
                            let (value, tap) = unsafe {
                                (
                                    $load(x.as_ptr().add(column * C + channel)),
                                    $load(weight.add((v * KH + u) * C + channel)),
                                )
                            };
                            *a = $fmadd(value, tap, *a);
                        }
                    }
                }
                if let Some((low, high)) = row.clamp {
                    for a in acc.iter_mut() {
                        *a = $min($set1(high), $max($set1(low), *a));
                    }
                }
                for (g, a) in acc.iter().enumerate() {
                    // SAFETY: pixel `j` is in `out`, `first + G·$lanes <= C`.
                    unsafe { $store(out.as_mut_ptr().add(j * C + first + g * $lanes), *a) };
                }
            }

            /// Channels `first..first + B·$lanes` of output pixels `j..j + Q`.
            ///
            /// # Safety
            /// The CPU must have the build's features; `row` and `out` must satisfy
            /// [`checked`](super::checked) for `C`, `KH`, `KW`; `first + B·$lanes <= C`;
            /// pixels `j..j + Q` in `out`, with every tap inside the input rows.
            #[target_feature(enable = $features)]
            #[inline]
            unsafe fn tile<
                const C: usize,
                const KH: usize,
                const KW: usize,
                const S: usize,
                const Q: usize,
                const B: usize,
            >(
                row: &DepthwiseRow<'_, f32>,
                out: &mut [f32],
                j: usize,
                first: usize,
            ) {
                let mut acc: [[$v; Q]; B] = core::array::from_fn(|b| {
                    // SAFETY: `first + B·$lanes <= C` floats of the bias (the caller).
                    [unsafe { $load(row.bias.as_ptr().add(first + b * $lanes)) }; Q]
                });
                // The input columns of the tile from its first, all inside the row.
                let start = j * S - row.before;
                let weight = row.weight.as_ptr();
                for &(u, x) in row.rows {
                    let taps: [[$v; KW]; B] = core::array::from_fn(|b| {
                        core::array::from_fn(|v| {
                            // SAFETY: `u < KH` and the weights hold KW·KH·C floats
                            // (`checked`), `first + B·$lanes <= C`.
                            unsafe { $load(weight.add((v * KH + u) * C + first + b * $lanes)) }
                        })
                    });
                    // SAFETY: the tile's columns are in the row (the caller).
                    let pixels = unsafe { x.as_ptr().add(start * C + first) };
                    for v in 0..KW {
                        for b in 0..B {
                            for p in 0..Q {
                                // SAFETY: column `start + S·p + v` is the tile's, channel
                                // `first + b·$lanes + $lanes <= C`.
                                let value =
                                    unsafe { $load(pixels.add((S * p + v) * C + b * $lanes)) };
                                acc[b][p] = $fmadd(value, taps[b][v], acc[b][p]);
                            }
                        }
                    }
                }
                if let Some((low, high)) = row.clamp {
                    // max, then min: the clamp kernel's order (NaN and -0.0 kept).
                    let (low, high) = ($set1(low), $set1(high));
                    for a in acc.as_flattened_mut() {
                        *a = $min(high, $max(low, *a));
                    }
                }
                let out = out.as_mut_ptr();
                for (b, pixels) in acc.iter().enumerate() {
                    for (p, a) in pixels.iter().enumerate() {
                        // SAFETY: pixel `j + p` is in `out` (the caller), channels
                        // `first + b·$lanes..` within `C`.
                        unsafe { $store(out.add((j + p) * C + first + b * $lanes), *a) };
                    }
                }
            }
        }
    };
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
depthwise_build!(
    avx2,
    "avx2,fma",
    8,
    6,
    __m256,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_fmadd_ps,
    _mm256_max_ps,
    _mm256_min_ps,
    _mm256_set1_ps
);
#[cfg(all(feature = "std", target_arch = "x86_64"))]
depthwise_build!(
    avx512,
    "avx512f,avx2,fma",
    16,
    12,
    __m512,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_fmadd_ps,
    _mm512_max_ps,
    _mm512_min_ps,
    _mm512_set1_ps
);

#[cfg(all(test, feature = "std", target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// Values with both zeros, NaN and a wide range of magnitudes, from a seed.
    fn values(seed: u64, n: usize) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|k| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                match k % 97 {
                    0 => -0.0,
                    1 => 0.0,
                    2 if seed.is_multiple_of(5) => f32::NAN,
                    _ => ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 4.0,
                }
            })
            .collect()
    }

    /// Each vector build against [`portable`], bit for bit, for one shape.
    fn check<const C: usize, const KH: usize, const KW: usize>(
        width: usize,
        stride: usize,
        before: usize,
        out_width: usize,
        seed: u64,
    ) {
        let image = values(seed, KH * width * C);
        let weight = values(seed + 1, KW * KH * C);
        let bias = values(seed + 2, C);
        // Every other kernel row inside the image, the first one always.
        let rows: Vec<(usize, &[f32])> = (0..KH)
            .filter(|u| u % 2 == 0 || !seed.is_multiple_of(3))
            .map(|u| (u, &image[u * width * C..(u + 1) * width * C]))
            .collect();
        for clamp in [None, Some((0.0, f32::INFINITY)), Some((0.0, 6.0))] {
            let row = DepthwiseRow {
                rows: &rows,
                weight: &weight,
                bias: &bias,
                stride,
                dilation: 1,
                before,
                clamp,
            };
            let mut expected = vec![0.0; out_width * C];
            portable::<C, KH, KW>(&row, &mut expected);
            let mut builds: Vec<(&str, Vec<f32>)> = Vec::new();
            let mut out = vec![1.0; out_width * C];
            // SAFETY: the test machine has AVX2 and FMA (checked by `depthwise_vectorized`
            // in the layer path; here asserted); the sizes satisfy `checked`.
            assert!(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
            assert!(checked::<f32, C, KH, KW>(&row, &out));
            match stride {
                1 => unsafe { avx2::row::<C, KH, KW, 1>(&row, &mut out) },
                _ => unsafe { avx2::row::<C, KH, KW, 2>(&row, &mut out) },
            }
            builds.push(("avx2", out));
            if C.is_multiple_of(16) && std::is_x86_feature_detected!("avx512f") {
                let mut out = vec![1.0; out_width * C];
                // SAFETY: the CPU has AVX-512F (and AVX2, FMA above); sizes as above.
                match stride {
                    1 => unsafe { avx512::row::<C, KH, KW, 1>(&row, &mut out) },
                    _ => unsafe { avx512::row::<C, KH, KW, 2>(&row, &mut out) },
                }
                builds.push(("avx512", out));
            }
            for (name, out) in builds {
                for (k, (a, b)) in out.iter().zip(&expected).enumerate() {
                    assert_eq!(
                        a.to_bits(),
                        b.to_bits(),
                        "{name}: C {C} KH {KH} KW {KW} width {width} stride {stride} \
                         before {before} clamp {clamp:?}: output {k}: {a} against {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn vector_builds_equal_the_definition() {
        for width in 1usize..=21 {
            for (stride, before) in [(1, 1), (1, 0), (2, 0), (2, 1), (1, 2)] {
                // The output widths a convolution of these paddings can have, and one more
                // or less where the padding after the image differs.
                let padded = width + 2 * before;
                let full = if padded >= 3 {
                    (padded - 3) / stride + 1
                } else {
                    0
                };
                for out_width in [full.saturating_sub(1), full, full + 1] {
                    if out_width == 0 {
                        continue;
                    }
                    let seed = (width * 31 + stride * 7 + before + out_width * 131) as u64;
                    check::<8, 3, 3>(width, stride, before, out_width, seed);
                    check::<16, 3, 3>(width, stride, before, out_width, seed);
                    check::<48, 3, 3>(width, stride, before, out_width, seed);
                    check::<64, 2, 5>(width, stride, before, out_width, seed);
                    check::<32, 1, 1>(width, stride, 0, out_width.min(width), seed);
                }
            }
        }
    }
}
