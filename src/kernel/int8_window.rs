//! Packed int8 products over filter windows read in place: a convolution copies the input
//! rows its output row reads into a band, flipped to unsigned (`x + 128`, padding as the
//! zero point), once per output row; each output pixel's window is then `runs` stretches of
//! that band (one per filter row), which the VNNI kernel broadcasts from directly, four bytes
//! at a time. The per-pixel gather into a patch, the flip of every patch and the copy the
//! broadcasts were made from (see `int8_packed.rs`) all go. The weights are the packed ones
//! of `int8_packed.rs`; each run is a whole number of quads, so quad `q` of the filter is quad
//! `q mod (run / 4)` of run `q / (run / 4)`.

use super::int8_packed::packable;

/// Where `P` output pixels' windows lie in a band of flipped input bytes: pixel `p`'s window
/// is the runs `band[start + p·step .. start + p·step + run]` for each `start` of `starts`,
/// one after the other.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WindowRuns<'a> {
    /// The flipped input bytes (`x + 128`, as `u8`).
    pub(crate) band: &'a [u8],
    /// Where each run of the first pixel's window starts.
    pub(crate) starts: &'a [usize],
    /// The length of each run in bytes: a positive multiple of 4.
    pub(crate) run: usize,
    /// The bytes from one pixel's window to the next one's.
    pub(crate) step: usize,
}

/// Whether [`int8_window_product`] runs on this CPU (the AVX-512 VNNI build; the other
/// builds gather patches for `int8_packed_product`).
#[inline]
pub(crate) fn int8_windows_in_place() -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        super::int8::use_vnni()
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        false
    }
}

/// `acc[p · rows + o] = Σ_i w[o][i] · (window_p[i] − 128)` for the `pixels` windows of
/// `windows` (each `starts.len() · run` bytes long), the `rows × K` weights packed and
/// `sums[o]` row `o`'s weight sum. Only where [`int8_windows_in_place`] says so.
#[inline]
pub(crate) fn int8_window_product(
    windows: WindowRuns<'_>,
    pixels: usize,
    packed: &[i8],
    sums: &[i32],
    acc: &mut [i32],
) {
    let k = windows.starts.len() * windows.run;
    let rows = acc.len().checked_div(pixels).unwrap_or(0);
    assert!(
        pixels > 0
            && windows.run > 0
            && windows.run.is_multiple_of(4)
            && acc.len() == pixels * rows
            && packable(rows, k)
            && packed.len() >= rows * k
            && sums.len() >= rows,
        "int8_window_product: sizes"
    );
    assert!(
        windows
            .starts
            .iter()
            .all(|&s| s + (pixels - 1) * windows.step + windows.run <= windows.band.len()),
        "int8_window_product: a window outside the band"
    );
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::int8::use_vnni() {
        // SAFETY: the CPU has AVX-512F, BW, VL and VNNI (checked by `use_vnni`); the sizes
        // and the windows' bounds were checked above.
        unsafe { vnni::product(windows, pixels, packed, sums, acc) };
        return;
    }
    panic!("int8_window_product: no VNNI (see int8_windows_in_place)");
}

/// The AVX-512 VNNI kernel.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod vnni {
    use super::WindowRuns;
    use core::arch::x86_64::*;

    /// See [`int8_window_product`](super::int8_window_product), whose checks it relies on:
    /// eight pixels at a time, then four, then one.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    pub(super) fn product(
        windows: WindowRuns<'_>,
        pixels: usize,
        packed: &[i8],
        sums: &[i32],
        acc: &mut [i32],
    ) {
        let rows = acc.len() / pixels;
        let mut first = 0;
        while pixels - first >= 8 {
            blocks::<8>(
                windows,
                first,
                packed,
                sums,
                &mut acc[first * rows..(first + 8) * rows],
            );
            first += 8;
        }
        while pixels - first >= 4 {
            blocks::<4>(
                windows,
                first,
                packed,
                sums,
                &mut acc[first * rows..(first + 4) * rows],
            );
            first += 4;
        }
        while first < pixels {
            blocks::<1>(
                windows,
                first,
                packed,
                sums,
                &mut acc[first * rows..(first + 1) * rows],
            );
            first += 1;
        }
    }

    /// Pixels `first .. first + P`: groups of blocks of 16 outputs sized so that `P · G`
    /// accumulators fit the registers, then a narrower last block.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    #[inline]
    fn blocks<const P: usize>(
        windows: WindowRuns<'_>,
        first: usize,
        packed: &[i8],
        sums: &[i32],
        acc: &mut [i32],
    ) {
        let rows = acc.len() / P;
        let full = rows / 16;
        let mut block = 0;
        while block < full {
            let left = full - block;
            block += if P <= 2 && left >= 8 {
                pass::<P, 8, false>(windows, first, packed, sums, acc, block);
                8
            } else if P <= 4 && left >= 4 {
                pass::<P, 4, false>(windows, first, packed, sums, acc, block);
                4
            } else if left >= 2 {
                pass::<P, 2, false>(windows, first, packed, sums, acc, block);
                2
            } else {
                pass::<P, 1, false>(windows, first, packed, sums, acc, block);
                1
            };
        }
        if !rows.is_multiple_of(16) {
            pass::<P, 1, true>(windows, first, packed, sums, acc, full);
        }
    }

    /// Blocks `block .. block + G` of 16 outputs (with `NARROW`, the one last block of
    /// `rows % 16` outputs) for the `P` windows: per quad of the filter, each block's 64
    /// weight bytes loaded once and each pixel's quad broadcast from the band. A lone block
    /// alternates two sets of accumulators, so that consecutive `vpdpbusd`s on one
    /// accumulator do not wait on each other's latency (wrapping sums: any order gives the
    /// same integers).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    #[inline]
    fn pass<const P: usize, const G: usize, const NARROW: bool>(
        windows: WindowRuns<'_>,
        first_pixel: usize,
        packed: &[i8],
        sums: &[i32],
        acc: &mut [i32],
        block: usize,
    ) {
        let rows = acc.len() / P;
        let k = windows.starts.len() * windows.run;
        let quads = windows.run / 4;
        let width = if NARROW { rows % 16 } else { 16 };
        let lanes: __mmask16 = ((1u32 << width) - 1) as u16;
        let bytes: __mmask64 = if NARROW {
            (1u64 << (4 * width)) - 1
        } else {
            u64::MAX
        };
        let first = block * 16;
        let weights = packed.as_ptr();
        let band = windows.band.as_ptr();
        let mut even = [[_mm512_setzero_si512(); G]; P];
        let mut odd = [[_mm512_setzero_si512(); G]; P];
        for (run, &start) in windows.starts.iter().enumerate() {
            // Each block's weights for this run, and each pixel's run in the band.
            let mut blocks = [weights; G];
            for (g, w) in blocks.iter_mut().enumerate() {
                // SAFETY: block `block + g` starts at byte (block + g)·16·k of `packed`, and
                // this run's quads at 4·width·run·quads more (within its 16·k bytes).
                *w = unsafe { weights.add((block + g) * 16 * k + 4 * width * run * quads) };
            }
            let mut pixels = [band; P];
            for (p, at) in pixels.iter_mut().enumerate() {
                // SAFETY: start + (first_pixel + p)·step + run ≤ band.len() (checked by the
                // caller: first_pixel + p < pixels).
                *at = unsafe { band.add(start + (first_pixel + p) * windows.step) };
            }
            let multiply = |j: usize, totals: &mut [[__m512i; G]; P]| {
                let mut w = [_mm512_setzero_si512(); G];
                for (w, &from) in w.iter_mut().zip(blocks.iter()) {
                    // SAFETY: quad j < quads of the run: the 4·width bytes read lie within
                    // the block's 16·k bytes (width·k for the narrow last one), all below
                    // rows·k ≤ packed.len().
                    *w = unsafe {
                        let at = from.add(4 * width * j);
                        if NARROW {
                            _mm512_maskz_loadu_epi8(bytes, at)
                        } else {
                            _mm512_loadu_si512(at.cast())
                        }
                    };
                }
                for (total, &at) in totals.iter_mut().zip(pixels.iter()) {
                    // SAFETY: 4·j + 4 ≤ run: inside the pixel's run (see above); the read is
                    // unaligned.
                    let quad = unsafe { at.add(4 * j).cast::<i32>().read_unaligned() };
                    let b = _mm512_set1_epi32(quad);
                    for (t, &w) in total.iter_mut().zip(w.iter()) {
                        *t = _mm512_dpbusd_epi32(*t, b, w);
                    }
                }
            };
            let mut j = 0;
            if G == 1 {
                while j + 2 <= quads {
                    multiply(j, &mut even);
                    multiply(j + 1, &mut odd);
                    j += 2;
                }
            }
            while j < quads {
                multiply(j, &mut even);
                j += 1;
            }
        }
        for g in 0..G {
            let from = first + 16 * g;
            // SAFETY: `sums` has `rows` entries (checked by the caller): the mask reads the
            // block's `width` from `from`.
            let correction = _mm512_slli_epi32::<7>(unsafe {
                _mm512_maskz_loadu_epi32(lanes, sums.as_ptr().add(from))
            });
            for p in 0..P {
                let total = if G == 1 {
                    _mm512_add_epi32(even[p][g], odd[p][g])
                } else {
                    even[p][g]
                };
                // The flip added 128 · Σ w to every output.
                let sum = _mm512_sub_epi32(total, correction);
                let out = &mut acc[p * rows + from..p * rows + from + width];
                // SAFETY: the mask writes the `width` entries of `out`.
                unsafe { _mm512_mask_storeu_epi32(out.as_mut_ptr(), lanes, sum) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::packed_index;

    /// The VNNI kernel equals the plain loop over the windows, for 1 to 13 pixels, blocks
    /// of 8 to 144 outputs (groups of 8, 4, 2 and 1, narrow last blocks) and runs of 4 to 192
    /// bytes, on random and extreme bytes.
    #[test]
    fn the_kernel_equals_the_plain_loop() {
        if !int8_windows_in_place() {
            return;
        }
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        };
        for (rows, runs, run, step) in [
            (16, 3, 48, 16),
            (16, 3, 48, 32),
            (32, 3, 96, 32),
            (64, 3, 192, 64),
            (8, 1, 4, 8),
            (24, 2, 12, 4),
            (144, 1, 16, 32),
            (128, 1, 64, 64),
            (40, 10, 4, 2),
            (96, 2, 8, 8),
        ] {
            for extreme in [false, true] {
                let k = runs * run;
                let w: Vec<i8> = (0..rows * k)
                    .map(|_| if extreme { -128 } else { next() as i8 })
                    .collect();
                let mut packed = vec![0i8; rows * k];
                for o in 0..rows {
                    for i in 0..k {
                        packed[packed_index(o, i, k, rows)] = w[o * k + i];
                    }
                }
                let sums: Vec<i32> = w
                    .chunks(k)
                    .map(|r| r.iter().map(|&v| v as i32).sum())
                    .collect();
                // Runs of a band of rows `run + 12·step + 5` bytes apart, at odd offsets.
                let row = run + 12 * step + 5;
                let starts: Vec<usize> = (0..runs).map(|r| r * row + 3).collect();
                let band: Vec<u8> = (0..runs * row + 3)
                    .map(|_| if extreme { 0 } else { next() })
                    .collect();
                let windows = WindowRuns {
                    band: &band,
                    starts: &starts,
                    run,
                    step,
                };
                let expected = |p: usize, o: usize| {
                    (0..k).fold(0i32, |s, i| {
                        let at = starts[i / run] + p * step + i % run;
                        s.wrapping_add(w[o * k + i] as i32 * (band[at] as i32 - 128))
                    })
                };
                // Every count from 1 to 8 (eight, four and one at a time), and 13 = 8 + 4 + 1.
                for pixels in [1, 2, 3, 4, 5, 7, 8, 13] {
                    let mut got = vec![0i32; pixels * rows];
                    int8_window_product(windows, pixels, &packed, &sums, &mut got);
                    for p in 0..pixels {
                        for o in 0..rows {
                            assert_eq!(
                                got[p * rows + o],
                                expected(p, o),
                                "{pixels} pixels, {rows} rows, {runs}x{run}"
                            );
                        }
                    }
                }
            }
        }
    }
}
