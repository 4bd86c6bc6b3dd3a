//! Int8 kernels: the products of TensorFlow Lite's integer layers, exact in every build
//! (int8 × int8 products summed in wrapping int32, as the reference kernels' accumulators).

/// `acc[r] = Σ_k w[r·K + k] · x[k]` for each row `r` (`K = x.len()`), wrapping in int32.
#[inline(always)]
fn matvec_body(x: &[i8], w: &[i8], acc: &mut [i32]) {
    let k = x.len();
    if k == 0 {
        acc.fill(0);
        return;
    }
    for (a, row) in acc.iter_mut().zip(w.chunks_exact(k)) {
        let mut sum = 0i32;
        for (&wi, &xi) in row.iter().zip(x) {
            sum = sum.wrapping_add(wi as i32 * xi as i32);
        }
        *a = sum;
    }
}

/// The portable kernels.
pub(crate) mod portable {
    /// See `matvec_body`.
    pub(crate) fn matvec(x: &[i8], w: &[i8], acc: &mut [i32]) {
        super::matvec_body(x, w, acc);
    }
}

/// The AVX2 kernels: int8 widened to int16 and multiplied pairwise into int32
/// (`vpmaddwd`), exact (a pair of int8 products is at most 2 · 128² in magnitude).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) mod avx2 {
    use core::arch::x86_64::*;

    /// The sum of the eight int32 lanes.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn sum_lanes(v: __m256i) -> i32 {
        let pair = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let pair = _mm_add_epi32(pair, _mm_shuffle_epi32::<0b01_00_11_10>(pair));
        let pair = _mm_add_epi32(pair, _mm_shuffle_epi32::<0b10_11_00_01>(pair));
        _mm_cvtsi128_si32(pair)
    }

    /// 16 int8 at `p`, widened to int16.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn widen(v: &[i8; 16]) -> __m256i {
        // SAFETY: `v` is 16 readable bytes; the load is unaligned.
        _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(v.as_ptr().cast()) })
    }

    /// See `matvec_body`: four rows at a time, 16 inputs per step.
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn matvec(x: &[i8], w: &[i8], acc: &mut [i32]) {
        let k = x.len();
        if k < 16 {
            return super::matvec_body(x, w, acc);
        }
        let steps = k / 16;
        let (x_chunks, x_tail) = x.split_at(steps * 16);
        let x_chunks: &[[i8; 16]] = x_chunks.as_chunks::<16>().0;
        let tail = |row: &[i8]| -> i32 {
            let mut s = 0i32;
            for (&a, &b) in row[steps * 16..].iter().zip(x_tail) {
                s = s.wrapping_add(a as i32 * b as i32);
            }
            s
        };
        let rows = acc.len();
        let mut r = 0;
        while r + 4 <= rows {
            let row = |i: usize| &w[(r + i) * k..(r + i + 1) * k];
            let (w0, w1, w2, w3) = (row(0), row(1), row(2), row(3));
            let (c0, c1, c2, c3) = (
                w0.as_chunks::<16>().0,
                w1.as_chunks::<16>().0,
                w2.as_chunks::<16>().0,
                w3.as_chunks::<16>().0,
            );
            let (mut s0, mut s1, mut s2, mut s3) = (
                _mm256_setzero_si256(),
                _mm256_setzero_si256(),
                _mm256_setzero_si256(),
                _mm256_setzero_si256(),
            );
            for (j, xc) in x_chunks.iter().enumerate() {
                let xv = widen(xc);
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(xv, widen(&c0[j])));
                s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(xv, widen(&c1[j])));
                s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(xv, widen(&c2[j])));
                s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(xv, widen(&c3[j])));
            }
            acc[r] = sum_lanes(s0).wrapping_add(tail(w0));
            acc[r + 1] = sum_lanes(s1).wrapping_add(tail(w1));
            acc[r + 2] = sum_lanes(s2).wrapping_add(tail(w2));
            acc[r + 3] = sum_lanes(s3).wrapping_add(tail(w3));
            r += 4;
        }
        while r < rows {
            let row = &w[r * k..(r + 1) * k];
            let chunks = row.as_chunks::<16>().0;
            let mut s = _mm256_setzero_si256();
            for (j, xc) in x_chunks.iter().enumerate() {
                s = _mm256_add_epi32(s, _mm256_madd_epi16(widen(xc), widen(&chunks[j])));
            }
            acc[r] = sum_lanes(s).wrapping_add(tail(row));
            r += 1;
        }
    }
}

/// The AVX-512 VNNI kernel: `vpdpbusd` multiplies unsigned by signed bytes and sums four
/// products into each int32 lane without saturating, so `x + 128` (unsigned) times `w`, less
/// `128 · Σ w` (the row sums the layer keeps), is `Σ x · w` exactly.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) mod vnni {
    use core::arch::x86_64::*;

    /// 64 bytes of `x` from `at` (the tail masked, masked-off bytes zero), as unsigned
    /// `x + 128`, and the mask of the bytes read.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[inline]
    fn load(v: &[i8], at: usize, mask: __mmask64) -> __m512i {
        // SAFETY: the mask selects bytes at .. at + 64 that are within `v` (the callers pass
        // a full mask only for a whole 64-byte step, and the tail mask for the rest); masked
        // bytes are neither read nor faulted on.
        unsafe { _mm512_maskz_loadu_epi8(mask, v.as_ptr().add(at)) }
    }

    /// See `matvec_body`: four rows at a time (eight independent accumulations, so the
    /// instruction's latency is hidden), 64 inputs per step, the tail masked.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(crate) fn matvec(x: &[i8], w: &[i8], sums: &[i32], acc: &mut [i32]) {
        let k = x.len();
        let steps = k.div_ceil(64);
        let rest = k % 64;
        let mask_of = |j: usize| -> __mmask64 {
            if j + 1 == steps && rest != 0 {
                (1u64 << rest) - 1
            } else {
                u64::MAX
            }
        };
        let flip = _mm512_set1_epi8(-128);
        let rows = acc.len();
        let finish = |sum: __m512i, r: usize| -> i32 {
            _mm512_reduce_add_epi32(sum).wrapping_sub(sums[r].wrapping_mul(128))
        };
        let mut r = 0;
        while r + 4 <= rows {
            let row = |i: usize| &w[(r + i) * k..(r + i + 1) * k];
            let (w0, w1, w2, w3) = (row(0), row(1), row(2), row(3));
            let mut totals = [_mm512_setzero_si512(); 4];
            for j in 0..steps {
                let mask = mask_of(j);
                // Masked-off bytes of x become 128 after the flip, but their weights are 0.
                let xv = _mm512_xor_si512(load(x, 64 * j, mask), flip);
                for (i, wr) in [w0, w1, w2, w3].into_iter().enumerate() {
                    totals[i] = _mm512_dpbusd_epi32(totals[i], xv, load(wr, 64 * j, mask));
                }
            }
            for (i, &total) in totals.iter().enumerate() {
                acc[r + i] = finish(total, r + i);
            }
            r += 4;
        }
        while r < rows {
            let wr = &w[r * k..(r + 1) * k];
            let mut total = _mm512_setzero_si512();
            for j in 0..steps {
                let mask = mask_of(j);
                total = _mm512_dpbusd_epi32(
                    total,
                    _mm512_xor_si512(load(x, 64 * j, mask), flip),
                    load(wr, 64 * j, mask),
                );
            }
            acc[r] = finish(total, r);
            r += 1;
        }
    }
}

/// Whether the AVX-512 VNNI int8 kernel may run: the AVX-512 level is in use and the CPU has
/// VNNI, BW and VL.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
pub(crate) fn use_vnni() -> bool {
    super::dispatch::simd_level() == super::dispatch::SimdLevel::Avx512
        && std::is_x86_feature_detected!("avx512vnni")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vl")
}

/// `acc[r] = Σ_k w[r·K + k] · x[k]` (`K = x.len()`, `w.len() ≥ acc.len() · K`); `sums[r]` is
/// row `r`'s `Σ_k w[r·K + k]` (wrapping).
#[inline]
pub(crate) fn int8_matvec(x: &[i8], w: &[i8], sums: &[i32], acc: &mut [i32]) {
    assert!(
        w.len() >= acc.len() * x.len(),
        "int8_matvec: too few weights"
    );
    assert!(sums.len() >= acc.len(), "int8_matvec: too few row sums");
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if use_vnni() {
        // SAFETY: the CPU has AVX-512F, BW and VNNI (checked by `use_vnni`).
        unsafe { vnni::matvec(x, w, sums, acc) };
        return;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::dispatch::use_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked by `use_avx2_fma`).
        unsafe { avx2::matvec(x, w, acc) };
        return;
    }
    portable::matvec(x, w, acc);
}

#[cfg(test)]
mod tests {
    /// Every kernel equals the portable loop, on lengths around each block size and on the
    /// extreme values (−128 · −128 pairs).
    #[test]
    fn kernels_equal_the_portable_loop() {
        let mut state = 0x1234_5678_9abc_def1u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as i8
        };
        for k in [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 784] {
            for rows in [1, 3, 4, 5, 9, 10] {
                for extreme in [false, true] {
                    let x: Vec<i8> = (0..k)
                        .map(|_| if extreme { -128 } else { next() })
                        .collect();
                    let w: Vec<i8> = (0..k * rows)
                        .map(|_| if extreme { -128 } else { next() })
                        .collect();
                    let mut expected = vec![0; rows];
                    super::portable::matvec(&x, &w, &mut expected);
                    let sums: Vec<i32> = w
                        .chunks(k.max(1))
                        .take(rows)
                        .map(|r| r.iter().map(|&v| v as i32).sum())
                        .collect();
                    let sums = if k == 0 { vec![0; rows] } else { sums };
                    #[cfg(all(feature = "std", target_arch = "x86_64"))]
                    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
                    {
                        let mut got = vec![0; rows];
                        // SAFETY: the CPU has AVX2 and FMA (checked just above).
                        unsafe { super::avx2::matvec(&x, &w, &mut got) };
                        assert_eq!(got, expected, "avx2 k {k} rows {rows}");
                    }
                    #[cfg(all(feature = "std", target_arch = "x86_64"))]
                    if std::is_x86_feature_detected!("avx512vnni")
                        && std::is_x86_feature_detected!("avx512bw")
                    {
                        let mut got = vec![0; rows];
                        // SAFETY: the CPU has AVX-512F, BW and VNNI (checked just above).
                        unsafe { super::vnni::matvec(&x, &w, &sums, &mut got) };
                        assert_eq!(got, expected, "vnni k {k} rows {rows}");
                    }
                    let mut got = vec![0; rows];
                    super::int8_matvec(&x, &w, &sums, &mut got);
                    assert_eq!(got, expected, "dispatched k {k} rows {rows}");
                }
            }
        }
    }
}
