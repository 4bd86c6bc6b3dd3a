//! Requantization kernels: a layer's int32 accumulators to int8 outputs
//! (`clamp(M_o(acc[o] + bias[o]) + zero_point)`, one multiplier per channel), and the int8
//! ADD of two tensors with their own rescaling, 16 values per AVX-512 step; exact (the same
//! integers as [`QuantizedMultiplier::apply`], tested).

use super::fixed_point::{QuantizedMultiplier, apply_branch_free};

/// The integers of an int8 ADD (see `quant::Int8Add`): each operand `x` becomes
/// `M_i((x − z_i) · 2^20)`, the sum `clamp(M_out(sum) + z_out)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AddParams {
    pub first_zero: i32,
    pub first: QuantizedMultiplier,
    pub second_zero: i32,
    pub second: QuantizedMultiplier,
    pub output: QuantizedMultiplier,
    pub output_zero: i32,
    pub range: [i8; 2],
}

/// TensorFlow Lite's `left_shift` for int8 ADD.
const ADD_LEFT_SHIFT: u32 = 20;

/// The channels `c = bias.len()` and rows `out.len() / c` of a requantization, after the check
/// the vector builds' unchecked loads rely on: `c > 0`, a multiplier per channel, whole rows,
/// and as many accumulators as outputs.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
fn channel_rows(
    acc: &[i32],
    bias: &[i32],
    m: &[QuantizedMultiplier],
    out: &[i8],
) -> (usize, usize) {
    let c = bias.len();
    assert!(
        c > 0 && m.len() >= c && out.len().is_multiple_of(c) && acc.len() >= out.len(),
        "requantize: sizes"
    );
    (c, out.len() / c)
}

/// `acc` and `out` hold rows of `bias.len()` channels (as many rows as `out` has).
#[inline(always)]
fn requantize_body(
    acc: &[i32],
    bias: &[i32],
    multipliers: &[QuantizedMultiplier],
    zero: i32,
    range: [i8; 2],
    out: &mut [i8],
) {
    let (low, high) = (range[0] as i32, range[1] as i32);
    let c = bias.len();
    let multipliers = &multipliers[..c];
    for (acc, out) in acc.chunks_exact(c).zip(out.chunks_exact_mut(c)) {
        for o in 0..c {
            let m = multipliers[o];
            let v = apply_branch_free(acc[o].wrapping_add(bias[o]), m.multiplier, m.shift)
                .wrapping_add(zero);
            out[o] = v.clamp(low, high) as i8;
        }
    }
}

#[inline(always)]
fn add_body(first: &[i8], second: &[i8], p: &AddParams, out: &mut [i8]) {
    let (low, high) = (p.range[0] as i32, p.range[1] as i32);
    let n = out.len();
    let (first, second) = (&first[..n], &second[..n]);
    for i in 0..n {
        let a = (first[i] as i32 - p.first_zero).wrapping_shl(ADD_LEFT_SHIFT);
        let b = (second[i] as i32 - p.second_zero).wrapping_shl(ADD_LEFT_SHIFT);
        let sum = apply_branch_free(a, p.first.multiplier, p.first.shift)
            .wrapping_add(apply_branch_free(b, p.second.multiplier, p.second.shift));
        let v =
            apply_branch_free(sum, p.output.multiplier, p.output.shift).wrapping_add(p.output_zero);
        out[i] = v.clamp(low, high) as i8;
    }
}

/// The portable kernels.
pub(crate) mod portable {
    use super::*;

    /// See `requantize_body`.
    pub(crate) fn requantize(
        acc: &[i32],
        bias: &[i32],
        m: &[QuantizedMultiplier],
        zero: i32,
        range: [i8; 2],
        out: &mut [i8],
    ) {
        requantize_body(acc, bias, m, zero, range, out);
    }

    /// See `add_body`.
    pub(crate) fn add(first: &[i8], second: &[i8], p: &AddParams, out: &mut [i8]) {
        add_body(first, second, p, out);
    }
}

/// AVX2: 8 or 16 values per step (what an AVX2-only CPU such as the Zen 3 runs); channels
/// past the last multiple of 8, and tensors of fewer than 8 channels, take the portable
/// arithmetic.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) mod avx2 {
    use super::*;
    use core::arch::x86_64::*;

    /// The per-lane constants of [`multiply`] for 8 channels.
    #[derive(Clone, Copy)]
    struct Lanes {
        left: __m256i,
        /// The multipliers, and those of the odd lanes moved to the even positions.
        multiplier: __m256i,
        odd_multiplier: __m256i,
        right: __m256i,
        /// `2^right − 1` and half of it.
        mask: __m256i,
        half: __m256i,
    }

    /// The constants for each lane's multiplier and shift.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn lanes(multiplier: [i32; 8], shift: [i32; 8]) -> Lanes {
        // SAFETY: both arrays are 32 readable bytes.
        let (m, s) = unsafe {
            (
                _mm256_loadu_si256(multiplier.as_ptr().cast()),
                _mm256_loadu_si256(shift.as_ptr().cast()),
            )
        };
        let zero = _mm256_setzero_si256();
        let right = _mm256_min_epi32(
            _mm256_max_epi32(_mm256_sub_epi32(zero, s), zero),
            _mm256_set1_epi32(31),
        );
        let mask = _mm256_sub_epi32(
            _mm256_sllv_epi32(_mm256_set1_epi32(1), right),
            _mm256_set1_epi32(1),
        );
        Lanes {
            left: _mm256_max_epi32(s, zero),
            multiplier: m,
            odd_multiplier: _mm256_shuffle_epi32::<0b11_11_01_01>(m),
            right,
            mask,
            half: _mm256_srli_epi32::<1>(mask),
        }
    }

    /// `MultiplyByQuantizedMultiplier` on 8 lanes. The doubling high multiply is
    /// `⌊(a·m + 2^30) / 2^31⌋` (gemmlowp's nudge and truncation, for either sign): bits
    /// 31..62 of the 64-bit sum, which a logical shift extracts as well as an arithmetic one
    /// (AVX2 has no 64-bit arithmetic shift). `a = m = i32::MIN` saturates when `SATURATE`
    /// (the caller passes false only when no multiplier is `i32::MIN`).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn multiply<const SATURATE: bool>(x: __m256i, l: &Lanes) -> __m256i {
        let a = _mm256_sllv_epi32(x, l.left);
        let half = _mm256_set1_epi64x(1 << 30);
        let even = _mm256_add_epi64(_mm256_mul_epi32(a, l.multiplier), half);
        // The odd lanes moved down by a shuffle, not by `srli_epi64::<32>`: after a logical
        // shift LLVM rewrites the multiply's sign extension as a 64-bit arithmetic shift,
        // which AVX2 lacks, and emulates it with several instructions.
        let odd = _mm256_add_epi64(
            _mm256_mul_epi32(_mm256_shuffle_epi32::<0b11_11_01_01>(a), l.odd_multiplier),
            half,
        );
        let mut h = _mm256_blend_epi32::<0b1010_1010>(
            _mm256_srli_epi64::<31>(even),
            _mm256_slli_epi64::<1>(odd),
        );
        if SATURATE {
            let min = _mm256_set1_epi32(i32::MIN);
            let both = _mm256_and_si256(
                _mm256_cmpeq_epi32(a, min),
                _mm256_cmpeq_epi32(l.multiplier, min),
            );
            h = _mm256_blendv_epi8(h, _mm256_set1_epi32(i32::MAX), both);
        }
        // Rounding division by 2^right, ties away from zero.
        let remainder = _mm256_and_si256(h, l.mask);
        let threshold = _mm256_sub_epi32(l.half, _mm256_srai_epi32::<31>(h));
        let shifted = _mm256_srav_epi32(h, l.right);
        // The comparison is −1 where the remainder passes the threshold.
        _mm256_sub_epi32(shifted, _mm256_cmpgt_epi32(remainder, threshold))
    }

    /// 8 values already within int8, stored as bytes.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn store(out: &mut [i8], v: __m256i) {
        let words = _mm256_packs_epi32(v, v);
        let bytes = _mm256_packs_epi16(words, words);
        let both = _mm_unpacklo_epi32(
            _mm256_castsi256_si128(bytes),
            _mm256_extracti128_si256::<1>(bytes),
        );
        // SAFETY: `out[..8]` is 8 writable bytes (the slice checks it).
        unsafe { _mm_storel_epi64(out[..8].as_mut_ptr().cast(), both) };
    }

    /// 16 values already within int8 (`a` then `b`), stored as bytes with one 16-byte store:
    /// about half the shuffles per value of [`store`] (they share one port on Intel cores).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn store_16(out: &mut [i8], a: __m256i, b: __m256i) {
        // [a0..a3 b0..b3 | a4..a7 b4..b7] as int16, then [a0..a7 | b0..b7].
        let words = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi32(a, b));
        let bytes = _mm_packs_epi16(
            _mm256_castsi256_si128(words),
            _mm256_extracti128_si256::<1>(words),
        );
        // SAFETY: `out[..16]` is 16 writable bytes (the slice checks it).
        unsafe { _mm_storeu_si128(out[..16].as_mut_ptr().cast(), bytes) };
    }

    /// See `requantize_body`.
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn requantize(
        acc: &[i32],
        bias: &[i32],
        m: &[QuantizedMultiplier],
        zero: i32,
        range: [i8; 2],
        out: &mut [i8],
    ) {
        if m.iter().any(|q| q.multiplier == i32::MIN) {
            requantize_lanes::<true>(acc, bias, m, zero, range, out);
        } else {
            requantize_lanes::<false>(acc, bias, m, zero, range, out);
        }
    }

    /// `requantize`, per block of 8 channels for all rows.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn requantize_lanes<const SATURATE: bool>(
        acc: &[i32],
        bias: &[i32],
        m: &[QuantizedMultiplier],
        zero: i32,
        range: [i8; 2],
        out: &mut [i8],
    ) {
        let (c, rows) = super::channel_rows(acc, bias, m, out);
        let (zero_lanes, low, high) = (
            _mm256_set1_epi32(zero),
            _mm256_set1_epi32(range[0] as i32),
            _mm256_set1_epi32(range[1] as i32),
        );
        let lanes_at = |o: usize| {
            lanes(
                core::array::from_fn(|j| m[o + j].multiplier),
                core::array::from_fn(|j| m[o + j].shift),
            )
        };
        let requantized = |x: __m256i, b: __m256i, l: &Lanes| {
            let v = _mm256_add_epi32(multiply::<SATURATE>(_mm256_add_epi32(x, b), l), zero_lanes);
            _mm256_min_epi32(_mm256_max_epi32(v, low), high)
        };
        let blocks = c / 8;
        // Channels 16 at a time when every row has whole pairs of blocks (one 16-byte store
        // per row), else 8 at a time.
        let pairs = if c.is_multiple_of(16) { blocks / 2 } else { 0 };
        for pair in 0..pairs {
            let o = 16 * pair;
            let (l0, l1) = (lanes_at(o), lanes_at(o + 8));
            // SAFETY: bias has c ≥ o + 16 entries.
            let (b0, b1) = unsafe {
                (
                    _mm256_loadu_si256(bias[o..o + 8].as_ptr().cast()),
                    _mm256_loadu_si256(bias[o + 8..o + 16].as_ptr().cast()),
                )
            };
            for row in 0..rows {
                let at = row * c + o;
                // SAFETY: acc has at least rows · c ≥ at + 16 entries (the slices check it).
                let (x0, x1) = unsafe {
                    (
                        _mm256_loadu_si256(acc[at..at + 8].as_ptr().cast()),
                        _mm256_loadu_si256(acc[at + 8..at + 16].as_ptr().cast()),
                    )
                };
                store_16(
                    &mut out[at..at + 16],
                    requantized(x0, b0, &l0),
                    requantized(x1, b1, &l1),
                );
            }
        }
        for block in 2 * pairs..blocks {
            let o = 8 * block;
            let l = lanes_at(o);
            // SAFETY: bias has c ≥ o + 8 entries.
            let b = unsafe { _mm256_loadu_si256(bias[o..o + 8].as_ptr().cast()) };
            for row in 0..rows {
                let at = row * c + o;
                // SAFETY: acc has at least rows · c ≥ at + 8 entries (the slice checks it).
                let x = unsafe { _mm256_loadu_si256(acc[at..at + 8].as_ptr().cast()) };
                store(&mut out[at..at + 8], requantized(x, b, &l));
            }
        }
        let first = 8 * blocks;
        if first < c {
            let (low, high) = (range[0] as i32, range[1] as i32);
            for row in 0..rows {
                for o in first..c {
                    let q = m[o];
                    let v = apply_branch_free(
                        acc[row * c + o].wrapping_add(bias[o]),
                        q.multiplier,
                        q.shift,
                    )
                    .wrapping_add(zero);
                    out[row * c + o] = v.clamp(low, high) as i8;
                }
            }
        }
    }

    /// See `add_body`.
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn add(first: &[i8], second: &[i8], p: &AddParams, out: &mut [i8]) {
        if [p.first, p.second, p.output]
            .iter()
            .any(|q| q.multiplier == i32::MIN)
        {
            add_lanes::<true>(first, second, p, out);
        } else {
            add_lanes::<false>(first, second, p, out);
        }
    }

    /// `add`, 16 values per step, the tail portable.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn add_lanes<const SATURATE: bool>(first: &[i8], second: &[i8], p: &AddParams, out: &mut [i8]) {
        let n = out.len();
        assert!(first.len() >= n && second.len() >= n, "add: sizes");
        let broadcast = |q: QuantizedMultiplier| lanes([q.multiplier; 8], [q.shift; 8]);
        let (l1, l2, lo) = (broadcast(p.first), broadcast(p.second), broadcast(p.output));
        let (z1, z2, zo) = (
            _mm256_set1_epi32(p.first_zero),
            _mm256_set1_epi32(p.second_zero),
            _mm256_set1_epi32(p.output_zero),
        );
        let (low, high) = (
            _mm256_set1_epi32(p.range[0] as i32),
            _mm256_set1_epi32(p.range[1] as i32),
        );
        let scaled = |i: usize| {
            // SAFETY: bytes i .. i + 8 of both operands are in bounds (i + 8 ≤ n; the slices
            // check it).
            let (a, b) = unsafe {
                (
                    _mm256_cvtepi8_epi32(_mm_loadl_epi64(first[i..i + 8].as_ptr().cast())),
                    _mm256_cvtepi8_epi32(_mm_loadl_epi64(second[i..i + 8].as_ptr().cast())),
                )
            };
            let a = _mm256_slli_epi32::<{ ADD_LEFT_SHIFT as i32 }>(_mm256_sub_epi32(a, z1));
            let b = _mm256_slli_epi32::<{ ADD_LEFT_SHIFT as i32 }>(_mm256_sub_epi32(b, z2));
            let sum = _mm256_add_epi32(multiply::<SATURATE>(a, &l1), multiply::<SATURATE>(b, &l2));
            let v = _mm256_add_epi32(multiply::<SATURATE>(sum, &lo), zo);
            _mm256_min_epi32(_mm256_max_epi32(v, low), high)
        };
        // 16 values per step (one 16-byte store), the rest portable: one call of `scaled` in
        // the loop, which LLVM inlines (two call sites and a third for a step of 8 left it an
        // out-of-line call).
        let mut i = 0;
        while i + 16 <= n {
            let mut v = [_mm256_setzero_si256(); 2];
            for (h, v) in v.iter_mut().enumerate() {
                *v = scaled(i + 8 * h);
            }
            store_16(&mut out[i..i + 16], v[0], v[1]);
            i += 16;
        }
        let full = i;
        add_body(&first[full..n], &second[full..n], p, &mut out[full..]);
    }
}

/// AVX-512: 16 values per step, the tail masked.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) mod avx512 {
    use super::*;
    use core::arch::x86_64::*;

    /// `MultiplyByQuantizedMultiplier` on 16 lanes (`m`, `s`: each lane's multiplier and
    /// shift).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    #[inline]
    fn multiply(x: __m512i, m: __m512i, s: __m512i) -> __m512i {
        let zero = _mm512_setzero_si512();
        let one = _mm512_set1_epi32(1);
        let left = _mm512_max_epi32(s, zero);
        let right = _mm512_min_epi32(
            _mm512_max_epi32(_mm512_sub_epi32(zero, s), zero),
            _mm512_set1_epi32(31),
        );
        let a = _mm512_sllv_epi32(x, left);
        // The 64-bit products of the even and the odd lanes. gemmlowp's nudge toward zero
        // followed by a truncating division by 2^31 is, for either sign, the floor of
        // (p + 2^30) / 2^31: an arithmetic shift.
        let even = _mm512_mul_epi32(a, m);
        let odd = _mm512_mul_epi32(_mm512_srli_epi64::<32>(a), _mm512_srli_epi64::<32>(m));
        let half = _mm512_set1_epi64(1 << 30);
        let high = |p: __m512i| _mm512_srai_epi64::<31>(_mm512_add_epi64(p, half));
        let mut h = _mm512_mask_blend_epi32(0xAAAA, high(even), _mm512_slli_epi64::<32>(high(odd)));
        let min = _mm512_set1_epi32(i32::MIN);
        let saturate = _mm512_cmpeq_epi32_mask(a, min) & _mm512_cmpeq_epi32_mask(m, min);
        h = _mm512_mask_mov_epi32(h, saturate, _mm512_set1_epi32(i32::MAX));
        // Rounding division by 2^right, ties away from zero.
        let mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
        let remainder = _mm512_and_si512(h, mask);
        let threshold = _mm512_sub_epi32(_mm512_srai_epi32::<1>(mask), _mm512_srai_epi32::<31>(h));
        let shifted = _mm512_srav_epi32(h, right);
        _mm512_mask_add_epi32(
            shifted,
            _mm512_cmpgt_epi32_mask(remainder, threshold),
            shifted,
            one,
        )
    }

    /// The bias, multipliers and shifts of channels `o .. o + count` (`count ≤ 16`) in the
    /// first `count` lanes (the rest zero): `m`'s (multiplier, shift) pairs loaded and
    /// separated.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    #[inline]
    fn channels(
        bias: &[i32],
        m: &[QuantizedMultiplier],
        o: usize,
        count: usize,
    ) -> (__m512i, __m512i, __m512i) {
        assert!(count <= 16 && o + count <= bias.len() && o + count <= m.len());
        let lanes: __mmask16 = ((1u32 << count) - 1) as u16;
        let first_pairs: __mmask16 = ((1u32 << (2 * count.min(8))) - 1) as u16;
        let second_pairs: __mmask16 = ((1u32 << (2 * count.saturating_sub(8))) - 1) as u16;
        let pairs = m.as_ptr().cast::<i32>();
        // SAFETY: the masks read only entries o .. o + count of `bias` and `m` (checked
        // above); `QuantizedMultiplier` is `repr(C)` of two `i32`, so `m` is 2·len `i32`
        // (multiplier, shift) in a row.
        let (b, p0, p1) = unsafe {
            (
                _mm512_maskz_loadu_epi32(lanes, bias.as_ptr().add(o)),
                _mm512_maskz_loadu_epi32(first_pairs, pairs.add(2 * o)),
                _mm512_maskz_loadu_epi32(second_pairs, pairs.add(2 * o + 16)),
            )
        };
        let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        (
            b,
            _mm512_permutex2var_epi32(p0, even, p1),
            _mm512_permutex2var_epi32(p0, odd, p1),
        )
    }

    /// gemmlowp's two roundings as one 64-bit step on 16 lanes ([`Step::apply`]): per
    /// 64-bit lane (even, odd) the multiplier in the low half, the rounding constant, the
    /// correction for products below −2^30 and the total right shift `31 + r`.
    #[derive(Clone, Copy)]
    struct Step {
        multiplier: [__m512i; 2],
        round: [__m512i; 2],
        negative: [__m512i; 2],
        shift: [__m512i; 2],
    }

    impl Step {
        /// From each lane's multiplier `m` and right shift `right` (in `0..=31`). The
        /// rounding constant is `2^30 + [r ≥ 1] · 2^(r+30) + zero · 2^(31+r)`: adding a
        /// multiple of the divisor adds `zero` to the quotient (0 for none, the output zero
        /// point in [`Folded`]); the correction is `2^31` where r ≥ 1. Loops rather than
        /// closures: a closure passed to `array::map` is a call that cannot inline this
        /// function's vector instructions.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
        #[inline]
        fn new(m: __m512i, right: __m512i, zero: i32) -> Step {
            let none = _mm512_setzero_si512();
            let rights = [
                _mm512_and_si512(right, _mm512_set1_epi64(0xffff_ffff)),
                _mm512_srli_epi64::<32>(right),
            ];
            let (mut round, mut negative, mut shift) = ([none; 2], [none; 2], [none; 2]);
            for half in 0..2 {
                let r = rights[half];
                let some = _mm512_cmpgt_epi64_mask(r, none);
                let extra = _mm512_sllv_epi64(
                    _mm512_set1_epi64(1),
                    _mm512_add_epi64(r, _mm512_set1_epi64(30)),
                );
                shift[half] = _mm512_add_epi64(r, _mm512_set1_epi64(31));
                let zero_part = _mm512_sllv_epi64(_mm512_set1_epi64(zero as i64), shift[half]);
                round[half] = _mm512_add_epi64(
                    _mm512_add_epi64(
                        _mm512_set1_epi64(1 << 30),
                        _mm512_maskz_mov_epi64(some, extra),
                    ),
                    zero_part,
                );
                negative[half] = _mm512_maskz_mov_epi64(some, _mm512_set1_epi64(1 << 31));
            }
            Step {
                multiplier: [m, _mm512_srli_epi64::<32>(m)],
                round,
                negative,
                shift,
            }
        }

        /// `MultiplyByQuantizedMultiplier` of `a` (already shifted left) on 16 lanes, with
        /// both roundings in one 64-bit step. With `p = a · m`: gemmlowp's doubling high
        /// multiply is `h = ⌊(p + 2^30) / 2^31⌋` and its rounding division `⌊(h + 2^(r−1) −
        /// [h < 0]) / 2^r⌋` (r ≥ 1), so the result is `⌊(p + 2^30 + 2^(r+30) − 2^31 · [p <
        /// −2^30]) / 2^(31+r)⌋` (nested floor divisions by positive integers compose), and
        /// `h` itself when r = 0; plus the zero point folded into the rounding constant.
        /// Exact unless `a = m = i32::MIN` (gemmlowp saturates that product), which a
        /// multiplier other than `i32::MIN` rules out.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
        #[inline]
        fn apply(&self, a: __m512i) -> __m512i {
            let halves = [a, _mm512_srli_epi64::<32>(a)];
            let threshold = _mm512_set1_epi64(-(1 << 30));
            let mut out = [_mm512_setzero_si512(); 2];
            for (half, o) in out.iter_mut().enumerate() {
                let p = _mm512_mul_epi32(halves[half], self.multiplier[half]);
                let sum = _mm512_add_epi64(p, self.round[half]);
                let sum = _mm512_mask_sub_epi64(
                    sum,
                    _mm512_cmplt_epi64_mask(p, threshold),
                    sum,
                    self.negative[half],
                );
                *o = _mm512_srav_epi64(sum, self.shift[half]);
            }
            // The low halves of the even and the odd results, interleaved back.
            let pick = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
            _mm512_permutex2var_epi32(out[0], pick, out[1])
        }
    }

    /// `MultiplyByQuantizedMultiplier` for 16 channels: each lane's left shift, then its
    /// [`Step`].
    #[derive(Clone, Copy)]
    struct Rescale {
        left: __m512i,
        step: Step,
    }

    impl Rescale {
        /// From each lane's multiplier and shift (no multiplier may be `i32::MIN`: see
        /// [`Step::apply`]).
        #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
        #[inline]
        fn new(m: __m512i, s: __m512i) -> Rescale {
            let zero = _mm512_setzero_si512();
            let left = _mm512_max_epi32(s, zero);
            let right = _mm512_min_epi32(
                _mm512_max_epi32(_mm512_sub_epi32(zero, s), zero),
                _mm512_set1_epi32(31),
            );
            Rescale {
                left,
                step: Step::new(m, right, 0),
            }
        }

        /// `MultiplyByQuantizedMultiplier` on 16 lanes.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
        #[inline]
        fn apply(&self, x: __m512i) -> __m512i {
            self.step.apply(_mm512_sllv_epi32(x, self.left))
        }
    }

    /// `M(acc + bias) + zero` for 16 channels without a left shift: the bias added first,
    /// the output zero point folded into the [`Step`]'s rounding constant.
    #[derive(Clone, Copy)]
    struct Folded {
        bias: __m512i,
        step: Step,
    }

    /// Whether every channel suits [`Folded`]: no left shift, a right shift `r` of at most
    /// 23 (so that `zero · 2^(31 + r)` and the product together stay within `i64`), and an
    /// int8 zero point.
    fn foldable(m: &[QuantizedMultiplier], zero: i32) -> bool {
        (-128..=127).contains(&zero) && m.iter().all(|m| (-23..=0).contains(&m.shift))
    }

    impl Folded {
        /// From 16 channels' bias, multipliers and shifts (which [`foldable`] accepted) and
        /// the output zero point.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
        #[inline]
        fn new(bias: __m512i, m: __m512i, s: __m512i, zero: i32) -> Folded {
            let right = _mm512_sub_epi32(_mm512_setzero_si512(), s);
            Folded {
                bias,
                step: Step::new(m, right, zero),
            }
        }

        /// `M(acc + bias) + zero` on 16 lanes (the [`Step`]'s comparison with −2^30 is of the
        /// product alone, before the zero point's part).
        #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
        #[inline]
        fn apply(&self, acc: __m512i) -> __m512i {
            self.step.apply(_mm512_add_epi32(acc, self.bias))
        }
    }

    /// The first rows of `requantize` for 16, 32 or a multiple of 64 channels whose
    /// multipliers [`foldable`] accepts, 64 outputs per step: four vectors of [`Folded`]
    /// results narrowed together with signed saturation (two packs and one permutation
    /// instead of a clamp and a narrowing store each), then clamped as bytes and stored at
    /// once. Returns how many rows it did (whole steps: the rest, fewer than `64 / c`, are
    /// left to the caller); none where the channels do not suit it.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    #[inline]
    fn requantize_packed(
        acc: &[i32],
        bias: &[i32],
        m: &[QuantizedMultiplier],
        zero: i32,
        range: [i8; 2],
        out: &mut [i8],
    ) -> usize {
        let (c, rows) = super::channel_rows(acc, bias, m, out);
        if !(c.is_multiple_of(16) && (64 % c == 0 || c.is_multiple_of(64)))
            || !foldable(&m[..c], zero)
        {
            return 0;
        }
        let rows_per_step = 64usize.div_ceil(c);
        let done = rows / rows_per_step * rows_per_step;
        match c {
            16 => packed_steps::<1>(acc, bias, m, zero, range, out, done),
            32 => packed_steps::<2>(acc, bias, m, zero, range, out, done),
            _ => packed_steps::<4>(acc, bias, m, zero, range, out, done),
        }
        done
    }

    /// `requantize_packed`'s steps over its first `done` rows, with `SETS` blocks of 16
    /// channels per group of 64 outputs (1 for 16 channels, 2 for 32, else 4): a step's
    /// vector j takes block `j mod SETS` of its group.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    #[inline]
    fn packed_steps<const SETS: usize>(
        acc: &[i32],
        bias: &[i32],
        m: &[QuantizedMultiplier],
        zero: i32,
        range: [i8; 2],
        out: &mut [i8],
        done: usize,
    ) {
        let c = bias.len();
        let (low, high) = (_mm512_set1_epi8(range[0]), _mm512_set1_epi8(range[1]));
        let zeros = _mm512_setzero_si512();
        let steps = done * c / 64;
        let groups = c.div_ceil(64);
        for group in 0..groups {
            let none = Folded {
                bias: zeros,
                step: Step {
                    multiplier: [zeros; 2],
                    round: [zeros; 2],
                    negative: [zeros; 2],
                    shift: [zeros; 2],
                },
            };
            let mut folded = [none; SETS];
            for (j, f) in folded.iter_mut().enumerate() {
                let (b, multiplier, shift) = channels(bias, m, 16 * (group * SETS + j), 16);
                *f = Folded::new(b, multiplier, shift, zero);
            }
            for step in (group..steps).step_by(groups) {
                let at = 64 * step;
                let mut v = [zeros; 4];
                for (j, v) in v.iter_mut().enumerate() {
                    // SAFETY: at + 64 ≤ done·c ≤ acc.len().
                    let x = unsafe { _mm512_loadu_si512(acc.as_ptr().add(at + 16 * j).cast()) };
                    *v = folded[j % SETS].apply(x);
                }
                let (chunk, _) = out[at..at + 64].as_chunks_mut::<64>();
                store_four(&mut chunk[0], &v, low, high);
            }
        }
    }

    /// Four vectors of int32 results narrowed to int8 with signed saturation (two packs and
    /// a permutation back into order), clamped to `[low, high]` (bytes) and stored as the 64
    /// bytes of `out`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    #[inline]
    fn store_four(out: &mut [i8; 64], v: &[__m512i; 4], low: __m512i, high: __m512i) {
        // After the two packs, dword `4·L + j` of the result holds values `4·L .. 4·L + 4`
        // of vector j.
        let order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        let bytes = _mm512_packs_epi16(
            _mm512_packs_epi32(v[0], v[1]),
            _mm512_packs_epi32(v[2], v[3]),
        );
        let bytes = _mm512_permutexvar_epi32(order, bytes);
        let bytes = _mm512_min_epi8(_mm512_max_epi8(bytes, low), high);
        // SAFETY: `out` is 64 writable bytes; the store is unaligned.
        unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), bytes) };
    }

    /// The first `⌊n / 64⌋ · 64` values of an ADD whose operands run in 32-bit lanes and
    /// whose output rescaling [`foldable`] accepts (`folded`, without bias), 64 per step as
    /// `requantize_packed` stores them. Returns how many it did.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    #[inline]
    fn add_packed(
        first: &[i8],
        second: &[i8],
        range: [i8; 2],
        out: &mut [i8],
        operands: (&Operand, &Operand),
        folded: &Folded,
    ) -> usize {
        let (low, high) = (_mm512_set1_epi8(range[0]), _mm512_set1_epi8(range[1]));
        let (chunks, _) = out.as_chunks_mut::<64>();
        let (first, _) = first.as_chunks::<64>();
        let (second, _) = second.as_chunks::<64>();
        let mut done = 0;
        for ((out, a), b) in chunks.iter_mut().zip(first).zip(second) {
            let mut v = [_mm512_setzero_si512(); 4];
            for (j, v) in v.iter_mut().enumerate() {
                // SAFETY: bytes 16·j .. 16·j + 16 of the 64-byte chunks.
                let (a, b) = unsafe {
                    (
                        _mm512_cvtepi8_epi32(_mm_loadu_si128(a.as_ptr().add(16 * j).cast())),
                        _mm512_cvtepi8_epi32(_mm_loadu_si128(b.as_ptr().add(16 * j).cast())),
                    )
                };
                let sum = _mm512_add_epi32(operands.0.apply(a), operands.1.apply(b));
                *v = folded.apply(sum);
            }
            store_four(out, &v, low, high);
            done += 64;
        }
        done
    }

    /// `count` (≤ 16) lanes of `v` (already within int8) stored as bytes.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    #[inline]
    fn store(out: &mut [i8], v: __m512i) {
        let mask: __mmask16 = if out.len() >= 16 {
            0xffff
        } else {
            (1u16 << out.len()) - 1
        };
        // SAFETY: the mask writes only the first `min(out.len(), 16)` bytes of `out`.
        unsafe { _mm_mask_storeu_epi8(out.as_mut_ptr(), mask, _mm512_cvtepi32_epi8(v)) };
    }

    /// See `requantize_body`: per block of 16 channels, the bias and multipliers are loaded
    /// once for all rows. No multiplier may be `i32::MIN` (see [`Rescale::apply`]; the
    /// dispatcher sends such layers to the AVX2 build).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    pub(crate) fn requantize(
        acc: &[i32],
        bias: &[i32],
        m: &[QuantizedMultiplier],
        zero: i32,
        range: [i8; 2],
        out: &mut [i8],
    ) {
        let done = requantize_packed(acc, bias, m, zero, range, out);
        let (acc, out) = (&acc[done * bias.len()..], &mut out[done * bias.len()..]);
        if out.is_empty() {
            return;
        }
        let (c, rows) = super::channel_rows(acc, bias, m, out);
        let (zero, low, high) = (
            _mm512_set1_epi32(zero),
            _mm512_set1_epi32(range[0] as i32),
            _mm512_set1_epi32(range[1] as i32),
        );
        let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        let pairs = m.as_ptr().cast::<i32>();
        if c < 16 && 16 % c == 0 {
            // 1, 2, 4 or 8 channels: the per-channel vectors repeated across the 16 lanes, so
            // each step takes 16 / c rows at once.
            let lanes: __mmask16 = ((1u32 << c) - 1) as u16;
            let pair_lanes: __mmask16 = ((1u32 << (2 * c)) - 1) as u16;
            // SAFETY: the masks read entries 0 .. c of `bias` and of `m` (as 2·c `i32`; see
            // below for the layout).
            let (b, p0) = unsafe {
                (
                    _mm512_maskz_loadu_epi32(lanes, bias.as_ptr()),
                    _mm512_maskz_loadu_epi32(pair_lanes, pairs),
                )
            };
            let repeat = _mm512_and_si512(
                _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                _mm512_set1_epi32(c as i32 - 1),
            );
            let zero_pairs = _mm512_setzero_si512();
            let b = _mm512_permutexvar_epi32(repeat, b);
            let multiplier =
                _mm512_permutexvar_epi32(repeat, _mm512_permutex2var_epi32(p0, even, zero_pairs));
            let shift =
                _mm512_permutexvar_epi32(repeat, _mm512_permutex2var_epi32(p0, odd, zero_pairs));
            let rescale = Rescale::new(multiplier, shift);
            let total = rows * c;
            let mut at = 0;
            while at < total {
                let count = (total - at).min(16);
                let mask: __mmask16 = if count == 16 {
                    0xffff
                } else {
                    (1u16 << count) - 1
                };
                // SAFETY: entries at .. at + count of `acc` are in bounds (acc.len() ≥ rows·c).
                let x = _mm512_add_epi32(
                    unsafe { _mm512_maskz_loadu_epi32(mask, acc.as_ptr().add(at)) },
                    b,
                );
                let v = _mm512_add_epi32(rescale.apply(x), zero);
                store(
                    &mut out[at..at + count],
                    _mm512_min_epi32(_mm512_max_epi32(v, low), high),
                );
                at += 16;
            }
            return;
        }
        let mut o = 0;
        while o < c {
            let count = (c - o).min(16);
            let lanes: __mmask16 = if count == 16 {
                0xffff
            } else {
                (1u16 << count) - 1
            };
            let (b, multiplier, shift) = channels(bias, m, o, count);
            let rescale = Rescale::new(multiplier, shift);
            for row in 0..rows {
                let at = row * c + o;
                // SAFETY: entries at .. at + count of `acc` are in bounds (acc.len() ≥ rows·c).
                let x = _mm512_add_epi32(
                    unsafe { _mm512_maskz_loadu_epi32(lanes, acc.as_ptr().add(at)) },
                    b,
                );
                let v = _mm512_add_epi32(rescale.apply(x), zero);
                store(
                    &mut out[at..at + count],
                    _mm512_min_epi32(_mm512_max_epi32(v, low), high),
                );
            }
            o += 16;
        }
    }

    /// An ADD operand's rescaling `M((x − z) · 2^20)` in 32-bit lanes, for an operand whose
    /// `v = x − z` is within ±255 and whose multiplier is at least 2^11 with a shift in
    /// `-19..=0` (every operand `Int8Add::from_scales` makes: its multipliers are at most
    /// 1/2). With `p = v · m · 2^20`, the one-step form of [`Rescale::apply`] divided through
    /// by 2^20 is `⌊(v·m + C) / 2^(11+r)⌋`, `C = 2^10 + 2^(r+10) − 2^11·[v < 0]` (`2^10` when
    /// r = 0; `p < −2^30` exactly when `v < 0`, as `m ≥ 2^30`), and splitting `m = mh·2^11 +
    /// ml` keeps every step in `i32`: `⌊(v·mh + ⌊(v·ml + C) / 2^11⌋) / 2^r⌋`.
    #[derive(Clone, Copy)]
    pub(super) struct Operand {
        zero: __m512i,
        /// Per 32-bit lane the int16 pair `(mh mod 64, mh / 64)`: `vpmaddwd` of it with the
        /// pair `(v, 64·v)` is `v·mh` (each part fits int16: `mh < 2^20`).
        high: __m512i,
        /// Per 32-bit lane the int16 pair `(ml, 0)`: `vpmaddwd` with `(v, 64·v)` is `v·ml`.
        low: __m512i,
        /// `C` for `v ≥ 0` and for `v < 0`.
        round: __m512i,
        round_negative: __m512i,
        right: __m512i,
    }

    impl Operand {
        /// `None` unless the operand meets the conditions above.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
        #[inline]
        pub(super) fn new(zero: i32, m: QuantizedMultiplier) -> Option<Operand> {
            let r = -m.shift;
            if !((-128..=127).contains(&zero) && m.multiplier >= 1 << 11 && (0..=19).contains(&r)) {
                return None;
            }
            let (round, round_negative) = if r == 0 {
                (1 << 10, 1 << 10)
            } else {
                let c = (1 << 10) + (1 << (r + 10));
                (c, c - (1 << 11))
            };
            let high = m.multiplier >> 11;
            Some(Operand {
                zero: _mm512_set1_epi32(zero),
                high: _mm512_set1_epi32((high & 63) | ((high >> 6) << 16)),
                low: _mm512_set1_epi32(m.multiplier & 0x7ff),
                round: _mm512_set1_epi32(round),
                round_negative: _mm512_set1_epi32(round_negative),
                right: _mm512_set1_epi32(r),
            })
        }

        /// The rescaled operand of 16 int8 values `x` (sign-extended): both products by
        /// `vpmaddwd` (one uop each, where `vpmulld` takes two) on the int16 pair
        /// `(v, 64·v)` of each lane (`|64·v| ≤ 16320`).
        #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
        #[inline]
        pub(super) fn apply(&self, x: __m512i) -> __m512i {
            let v = _mm512_sub_epi32(x, self.zero);
            // (v & 0xffff) | (v << 22): v in the low int16, 64·v in the high one.
            let pair = _mm512_ternarylogic_epi32::<0xEA>(
                v,
                _mm512_set1_epi32(0xffff),
                _mm512_slli_epi32::<22>(v),
            );
            let negative = _mm512_cmplt_epi32_mask(v, _mm512_setzero_si512());
            let c = _mm512_mask_blend_epi32(negative, self.round, self.round_negative);
            let t = _mm512_srai_epi32::<11>(_mm512_add_epi32(_mm512_madd_epi16(pair, self.low), c));
            _mm512_srav_epi32(
                _mm512_add_epi32(_mm512_madd_epi16(pair, self.high), t),
                self.right,
            )
        }
    }

    /// See `add_body`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    pub(crate) fn add(first: &[i8], second: &[i8], p: &AddParams, out: &mut [i8]) {
        let broadcast =
            |m: QuantizedMultiplier| (_mm512_set1_epi32(m.multiplier), _mm512_set1_epi32(m.shift));
        let ((m1, s1), (m2, s2), (mo, so)) =
            (broadcast(p.first), broadcast(p.second), broadcast(p.output));
        let (z1, z2) = (
            _mm512_set1_epi32(p.first_zero),
            _mm512_set1_epi32(p.second_zero),
        );
        let shifted = |x: __m512i, z: __m512i| {
            _mm512_slli_epi32::<{ ADD_LEFT_SHIFT }>(_mm512_sub_epi32(x, z))
        };
        if let (Some(o1), Some(o2), true) = (
            Operand::new(p.first_zero, p.first),
            Operand::new(p.second_zero, p.second),
            p.output.multiplier != i32::MIN,
        ) {
            // The operands in 32-bit lanes, the sum's one 64-bit step: 64 values per store
            // where the output rescaling allows, the rest one vector at a time.
            let done = if foldable(&[p.output], p.output_zero) {
                let folded = Folded::new(_mm512_setzero_si512(), mo, so, p.output_zero);
                add_packed(first, second, p.range, out, (&o1, &o2), &folded)
            } else {
                0
            };
            let (first, second, out) = (&first[done..], &second[done..], &mut out[done..]);
            let ro = Rescale::new(mo, so);
            add_with(
                first,
                second,
                p,
                out,
                |x| o1.apply(x),
                |x| o2.apply(x),
                |x| ro.apply(x),
            );
        } else if [p.first, p.second, p.output]
            .iter()
            .all(|m| m.multiplier != i32::MIN)
        {
            // One 64-bit rounding step per multiplier (see `Rescale::apply`).
            let (r1, r2, ro) = (
                Rescale::new(m1, s1),
                Rescale::new(m2, s2),
                Rescale::new(mo, so),
            );
            add_with(
                first,
                second,
                p,
                out,
                |x| r1.apply(shifted(x, z1)),
                |x| r2.apply(shifted(x, z2)),
                |x| ro.apply(x),
            );
        } else {
            add_with(
                first,
                second,
                p,
                out,
                |x| multiply(shifted(x, z1), m1, s1),
                |x| multiply(shifted(x, z2), m2, s2),
                |x| multiply(x, mo, so),
            );
        }
    }

    /// `add` with the three rescalings given, the operands' of the sign-extended int8 values.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    #[inline]
    fn add_with(
        first: &[i8],
        second: &[i8],
        p: &AddParams,
        out: &mut [i8],
        first_scale: impl Fn(__m512i) -> __m512i,
        second_scale: impl Fn(__m512i) -> __m512i,
        output_scale: impl Fn(__m512i) -> __m512i,
    ) {
        let n = out.len();
        assert!(first.len() >= n && second.len() >= n, "add: sizes");
        let zo = _mm512_set1_epi32(p.output_zero);
        let (low, high) = (
            _mm512_set1_epi32(p.range[0] as i32),
            _mm512_set1_epi32(p.range[1] as i32),
        );
        let mut i = 0;
        while i < n {
            let count = (n - i).min(16);
            let lanes: __mmask16 = if count == 16 {
                0xffff
            } else {
                (1u16 << count) - 1
            };
            // SAFETY: the mask reads only bytes i .. i + count of both operands (at least n
            // long).
            let (a, b) = unsafe {
                (
                    _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, first.as_ptr().add(i))),
                    _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, second.as_ptr().add(i))),
                )
            };
            let sum = _mm512_add_epi32(first_scale(a), second_scale(b));
            let v = _mm512_add_epi32(output_scale(sum), zo);
            store(
                &mut out[i..],
                _mm512_min_epi32(_mm512_max_epi32(v, low), high),
            );
            i += 16;
        }
    }
}

/// Whether the AVX-512 requantization may run (the AVX-512 level, with BW and VL).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
fn use_avx512() -> bool {
    super::dispatch::simd_level() == super::dispatch::SimdLevel::Avx512
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vl")
}

/// `out[r·C + o] = clamp(M_o(acc[r·C + o] + bias[o]) + zero)` for the rows `r` of `out`
/// (`C = bias.len()` channels each).
#[inline]
pub(crate) fn int8_requantize(
    acc: &[i32],
    bias: &[i32],
    m: &[QuantizedMultiplier],
    zero: i32,
    range: [i8; 2],
    out: &mut [i8],
) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        if use_avx512() && m.iter().all(|m| m.multiplier != i32::MIN) {
            // SAFETY: the CPU has AVX-512F, BW and VL (checked by `use_avx512`).
            return unsafe { avx512::requantize(acc, bias, m, zero, range, out) };
        }
        if super::dispatch::use_avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA (checked by `use_avx2_fma`).
            return unsafe { avx2::requantize(acc, bias, m, zero, range, out) };
        }
    }
    portable::requantize(acc, bias, m, zero, range, out);
}

/// The int8 ADD of `first` and `second` into `out` (`out.len()` values).
#[inline]
pub(crate) fn int8_add(first: &[i8], second: &[i8], p: &AddParams, out: &mut [i8]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        if use_avx512() {
            // SAFETY: the CPU has AVX-512F, BW and VL (checked by `use_avx512`).
            return unsafe { avx512::add(first, second, p, out) };
        }
        if super::dispatch::use_avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA (checked by `use_avx2_fma`).
            return unsafe { avx2::add(first, second, p, out) };
        }
    }
    portable::add(first, second, p, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random() -> impl FnMut() -> u64 {
        let mut state = 0xfeed_beef_0123_4567u64;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// Every build of both kernels equals `QuantizedMultiplier::apply` written out, for
    /// lengths around the vector width and multipliers and shifts over their whole range.
    #[test]
    fn kernels_equal_the_scalar_arithmetic() {
        let mut next = random();
        for n in [1, 2, 4, 5, 8, 15, 16, 17, 24, 31, 33, 48, 64, 100] {
            for _ in 0..50 {
                let mut value = || match next() % 16 {
                    0 => i32::MIN,
                    1 => i32::MAX,
                    2 => (next() % 3) as i32 - 1,
                    3..=8 => (next() % 4001) as i32 - 2000,
                    _ => (next() as i32) >> (next() % 24),
                };
                let acc: Vec<i32> = (0..n).map(|_| value()).collect();
                let bias: Vec<i32> = (0..n)
                    .map(|_| {
                        if next().is_multiple_of(4) {
                            0
                        } else {
                            (next() as i32) >> 12
                        }
                    })
                    .collect();
                let m: Vec<QuantizedMultiplier> = (0..n)
                    .map(|_| {
                        QuantizedMultiplier::new(
                            // Powers of two and their neighbours put products exactly on
                            // the rounding ties.
                            match next() % 8 {
                                0 => next() as i32,
                                1 => i32::MIN + (next() % 2) as i32,
                                2 => i32::MAX,
                                3 => 1 << 30,
                                4 => (1 << 30) + (1 << 29),
                                5 => -(1 << 30),
                                _ => (next() as i32) & i32::MAX,
                            },
                            (next() % 40) as i32 - 33,
                        )
                    })
                    .collect();
                // The AVX-512 build is not meant for a multiplier of i32::MIN (the
                // dispatcher checks); every other value is.
                let no_min = m.iter().all(|q| q.multiplier != i32::MIN);
                let zero = (next() % 256) as i32 - 128;
                let range = [-100, 120];
                let expected: Vec<i8> = (0..n)
                    .map(|o| {
                        let v = m[o].apply(acc[o].wrapping_add(bias[o])).wrapping_add(zero);
                        v.clamp(-100, 120) as i8
                    })
                    .collect();
                let mut got = vec![0i8; n];
                portable::requantize(&acc, &bias, &m, zero, range, &mut got);
                assert_eq!(got, expected, "portable n {n}");
                #[cfg(all(feature = "std", target_arch = "x86_64"))]
                {
                    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
                    {
                        // SAFETY: the CPU has AVX2 and FMA (checked just above).
                        unsafe { avx2::requantize(&acc, &bias, &m, zero, range, &mut got) };
                        assert_eq!(got, expected, "avx2 n {n}");
                    }
                    if std::is_x86_feature_detected!("avx512bw")
                        && std::is_x86_feature_detected!("avx512vl")
                        && no_min
                    {
                        // SAFETY: the CPU has AVX-512F, BW and VL (checked just above).
                        unsafe { avx512::requantize(&acc, &bias, &m, zero, range, &mut got) };
                        assert_eq!(got, expected, "avx512 n {n}");
                    }
                }
                // Three rows of n channels at once.
                let rows_acc: Vec<i32> = (0..3 * n)
                    .map(|_| (next() as i32) >> (next() % 24))
                    .collect();
                let rows_expected: Vec<i8> = (0..3 * n)
                    .map(|i| {
                        let o = i % n;
                        let v = m[o]
                            .apply(rows_acc[i].wrapping_add(bias[o]))
                            .wrapping_add(zero);
                        v.clamp(-100, 120) as i8
                    })
                    .collect();
                let mut rows_got = vec![0i8; 3 * n];
                portable::requantize(&rows_acc, &bias, &m, zero, range, &mut rows_got);
                assert_eq!(rows_got, rows_expected, "portable rows n {n}");
                int8_requantize(&rows_acc, &bias, &m, zero, range, &mut rows_got);
                assert_eq!(rows_got, rows_expected, "dispatched rows n {n}");
                #[cfg(all(feature = "std", target_arch = "x86_64"))]
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    rows_got.fill(0);
                    // SAFETY: the CPU has AVX2 and FMA (checked just above).
                    unsafe { avx2::requantize(&rows_acc, &bias, &m, zero, range, &mut rows_got) };
                    assert_eq!(rows_got, rows_expected, "avx2 rows n {n}");
                }
                #[cfg(all(feature = "std", target_arch = "x86_64"))]
                if std::is_x86_feature_detected!("avx512bw")
                    && std::is_x86_feature_detected!("avx512vl")
                    && no_min
                {
                    // SAFETY: the CPU has AVX-512F, BW and VL (checked just above).
                    unsafe { avx512::requantize(&rows_acc, &bias, &m, zero, range, &mut rows_got) };
                    assert_eq!(rows_got, rows_expected, "avx512 rows n {n}");
                }
                let a: Vec<i8> = (0..n).map(|_| next() as i8).collect();
                let b: Vec<i8> = (0..n).map(|_| next() as i8).collect();
                let p = AddParams {
                    first_zero: (next() % 256) as i32 - 128,
                    first: QuantizedMultiplier::from_real((next() % 1000) as f64 / 2000.0 + 0.001),
                    second_zero: (next() % 256) as i32 - 128,
                    second: QuantizedMultiplier::from_real((next() % 1000) as f64 / 2000.0 + 0.001),
                    output: QuantizedMultiplier::from_real((next() % 1000) as f64 / 1e9 + 1e-8),
                    output_zero: (next() % 256) as i32 - 128,
                    range: [-128, 127],
                };
                let expected: Vec<i8> = (0..n)
                    .map(|i| {
                        let x = (a[i] as i32 - p.first_zero) * (1 << 20);
                        let y = (b[i] as i32 - p.second_zero) * (1 << 20);
                        let s = p.first.apply(x).wrapping_add(p.second.apply(y));
                        (p.output.apply(s) + p.output_zero).clamp(-128, 127) as i8
                    })
                    .collect();
                portable::add(&a, &b, &p, &mut got);
                assert_eq!(got, expected, "portable add n {n}");
                #[cfg(all(feature = "std", target_arch = "x86_64"))]
                {
                    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
                    {
                        // SAFETY: the CPU has AVX2 and FMA (checked just above).
                        unsafe { avx2::add(&a, &b, &p, &mut got) };
                        assert_eq!(got, expected, "avx2 add n {n}");
                    }
                    if std::is_x86_feature_detected!("avx512bw")
                        && std::is_x86_feature_detected!("avx512vl")
                    {
                        // SAFETY: the CPU has AVX-512F, BW and VL (checked just above).
                        unsafe { avx512::add(&a, &b, &p, &mut got) };
                        assert_eq!(got, expected, "avx512 add n {n}");
                    }
                }
            }
        }
    }

    /// The AVX-512 path that packs four vectors per store (16, 32 or a multiple of 64
    /// channels without left shifts) equals the scalar arithmetic: rows that fill whole steps
    /// and rows left over, shifts from 0 to −23, extreme accumulators and multipliers, every
    /// zero point's sign, full and narrow clamps.
    #[test]
    fn the_packed_requantization_equals_the_scalar_arithmetic() {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        {
            if !(std::is_x86_feature_detected!("avx512bw")
                && std::is_x86_feature_detected!("avx512vl"))
            {
                return;
            }
            let mut next = random();
            for c in [16, 32, 64, 128, 192] {
                for rows in [1, 2, 3, 4, 5, 8, 9] {
                    for _ in 0..20 {
                        let mut value = || match next() % 8 {
                            0 => i32::MIN,
                            1 => i32::MAX,
                            2 => (next() % 3) as i32 - 1,
                            3..=5 => (next() % 40001) as i32 - 20000,
                            _ => (next() as i32) >> (next() % 24),
                        };
                        let acc: Vec<i32> = (0..rows * c).map(|_| value()).collect();
                        let bias: Vec<i32> = (0..c).map(|_| (next() as i32) >> 12).collect();
                        let m: Vec<QuantizedMultiplier> = (0..c)
                            .map(|_| {
                                QuantizedMultiplier::new(
                                    match next() % 6 {
                                        0 => i32::MAX,
                                        1 => 1 << 30,
                                        2 => -(1 << 30),
                                        3 => i32::MIN + 1,
                                        _ => (next() as i32) & i32::MAX,
                                    },
                                    match next() % 4 {
                                        0 => 0,
                                        1 => -23,
                                        _ => -((next() % 24) as i32),
                                    },
                                )
                            })
                            .collect();
                        let zero = match next() % 3 {
                            0 => -128,
                            1 => 127,
                            _ => (next() % 256) as i32 - 128,
                        };
                        let range = match next() % 3 {
                            0 => [-128, 127],
                            1 => [zero.clamp(-128, 127) as i8, 127],
                            _ => [-100, 20],
                        };
                        let expected: Vec<i8> = (0..rows * c)
                            .map(|i| {
                                let o = i % c;
                                let v = m[o].apply(acc[i].wrapping_add(bias[o])).wrapping_add(zero);
                                v.clamp(range[0] as i32, range[1] as i32) as i8
                            })
                            .collect();
                        let mut got = vec![0i8; rows * c];
                        // SAFETY: the CPU has AVX-512F, BW and VL (checked above).
                        unsafe { avx512::requantize(&acc, &bias, &m, zero, range, &mut got) };
                        assert_eq!(got, expected, "{c} channels, {rows} rows");
                    }
                }
            }
        }
    }

    /// The AVX-512 ADD's operands in 32-bit lanes (`Operand`) give the 64-bit arithmetic's
    /// integers for every pair of int8 values, over multipliers from 1/2 (shift 0) down to
    /// 2^-19 with ties, powers of two and their neighbours, and extreme zero points.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[test]
    fn the_add_operands_in_32_bit_lanes_are_exact() {
        if !(std::is_x86_feature_detected!("avx512bw") && std::is_x86_feature_detected!("avx512vl"))
        {
            return;
        }
        let mut next = random();
        let mut reals = vec![0.5, 0.5 - 1e-12, 0.375, 0.3, 0.25 + 1e-9];
        for k in 1..=20 {
            let power = (-(k as f64)).exp2();
            reals.extend([power, power * 1.5, power * (1.0 + 1e-7), power * 0.999_999]);
        }
        let a: Vec<i8> = (0..65536).map(|i| (i % 256) as u8 as i8).collect();
        let b: Vec<i8> = (0..65536).map(|i| (i / 256) as u8 as i8).collect();
        let (mut got, mut expected) = (vec![0i8; 65536], vec![0i8; 65536]);
        for (i, &first) in reals.iter().enumerate() {
            let second = reals[(i * 7 + 3) % reals.len()];
            for (z, zeros) in [(-128, 127), (127, -128), (0, -1), (5, 0)]
                .into_iter()
                .enumerate()
            {
                let output_zero = (next() % 256) as i32 - 128;
                let p = AddParams {
                    first_zero: zeros.0,
                    first: QuantizedMultiplier::from_real(first),
                    second_zero: zeros.1,
                    second: QuantizedMultiplier::from_real(second),
                    output: QuantizedMultiplier::from_real(
                        (next() % 1000) as f64 / 1e8 + 2.0f64.powi(-(20 + (next() % 6) as i32)),
                    ),
                    output_zero,
                    // The full range, and a fused ReLU's.
                    range: if z % 2 == 0 {
                        [-128, 127]
                    } else {
                        [output_zero as i8, 127]
                    },
                };
                portable::add(&a, &b, &p, &mut expected);
                // SAFETY: the CPU has AVX-512F, BW and VL (checked above).
                unsafe { avx512::add(&a, &b, &p, &mut got) };
                assert_eq!(
                    got, expected,
                    "multipliers {first} and {second}, zeros {zeros:?}"
                );
                // Each operand's rescaling itself, for every int8 value: the ADD's output
                // rescaling would hide most of its one-unit errors.
                for (zero, m) in [(p.first_zero, p.first), (p.second_zero, p.second)] {
                    // SAFETY: as above.
                    let Some(operand) = (unsafe { avx512::Operand::new(zero, m) }) else {
                        assert!(-m.shift > 19, "{m:?} should run in 32-bit lanes");
                        continue;
                    };
                    for first_x in (-128..128).step_by(16) {
                        let xs: [i32; 16] = core::array::from_fn(|j| first_x + j as i32);
                        // SAFETY: as above; the arrays are 64 bytes.
                        let lanes: [i32; 16] = unsafe {
                            use core::arch::x86_64::*;
                            let x = _mm512_loadu_si512(xs.as_ptr().cast());
                            core::mem::transmute(operand.apply(x))
                        };
                        for j in 0..16 {
                            let want = m.apply((xs[j] - zero) << ADD_LEFT_SHIFT);
                            assert_eq!(lanes[j], want, "x {} zero {zero} {m:?}", xs[j]);
                        }
                    }
                }
            }
        }
    }
}
