//! `y = clamp(y, low, high)` in place, the way ReLU and ReLU6 apply to a layer's outputs:
//! `low` where `y < low`, `high` where `y > high`, else `y` itself (so NaN and `-0.0` stay).
//!
//! The compiler makes the plain in-place loop (`*v = if *v < low { low } else { *v }`) into
//! masked stores of `low` where the comparison holds: `vmaskmovps` in AVX2 builds (slow on
//! AMD's cores), 16-lane masked stores in AVX-512 builds that overlap the next load over
//! 8-channel pixels (a store-forwarding stall per pixel), and scalar branches for ReLU6's
//! two bounds. The vector builds here load, take `max(low, y)` then `min(high, ·)` and store:
//! x86's `max`/`min` return their second operand on NaN and on equal values, which is the
//! same function, bit for bit, as the portable loop (a unit test).

use crate::scalar::Scalar;

/// Clamps every value of `y` to `[low, high]`, keeping NaN and `-0.0`.
#[inline]
pub(crate) fn clamp_in_place<T: Scalar>(y: &mut [T], low: T, high: T) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        use super::dispatch::{SimdLevel, simd_level};
        let (low32, high32) = (low.to_f64() as f32, high.to_f64() as f32);
        if let Some(y) = super::as_f32_mut(y) {
            match simd_level() {
                // SAFETY: the level is Avx512 only when the CPU has AVX-512F, AVX2 and FMA.
                SimdLevel::Avx512 => return unsafe { x86::clamp_avx512(y, low32, high32) },
                // SAFETY: the level is Avx2Fma only when the CPU has AVX2 and FMA.
                SimdLevel::Avx2Fma => return unsafe { x86::clamp_avx2(y, low32, high32) },
                SimdLevel::Portable => {}
            }
        }
    }
    portable(y, low, high);
}

/// The portable loop (and the vector builds' tail).
#[inline(always)]
pub(crate) fn portable<T: Scalar>(y: &mut [T], low: T, high: T) {
    for v in y {
        *v = if *v < low {
            low
        } else if *v > high {
            high
        } else {
            *v
        };
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86 {
    use core::arch::x86_64::{
        _mm256_loadu_ps, _mm256_max_ps, _mm256_min_ps, _mm256_set1_ps, _mm256_storeu_ps,
        _mm512_loadu_ps, _mm512_max_ps, _mm512_min_ps, _mm512_set1_ps, _mm512_storeu_ps,
    };

    /// [`clamp_in_place`](super::clamp_in_place) for `f32`, 8 lanes at a time.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn clamp_avx2(y: &mut [f32], low: f32, high: f32) {
        let (lo, hi) = (_mm256_set1_ps(low), _mm256_set1_ps(high));
        let (runs, rest) = y.as_chunks_mut::<8>();
        for run in runs {
            // SAFETY: `run` holds 8 floats.
            let v = unsafe { _mm256_loadu_ps(run.as_ptr()) };
            let v = _mm256_min_ps(hi, _mm256_max_ps(lo, v));
            // SAFETY: as above.
            unsafe { _mm256_storeu_ps(run.as_mut_ptr(), v) };
        }
        super::portable(rest, low, high);
    }

    /// [`clamp_in_place`](super::clamp_in_place) for `f32`, 16 lanes at a time.
    ///
    /// # Safety
    /// The CPU must have AVX-512F, AVX2 and FMA.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn clamp_avx512(y: &mut [f32], low: f32, high: f32) {
        let (lo, hi) = (_mm512_set1_ps(low), _mm512_set1_ps(high));
        let (runs, rest) = y.as_chunks_mut::<16>();
        for run in runs {
            // SAFETY: `run` holds 16 floats.
            let v = unsafe { _mm512_loadu_ps(run.as_ptr()) };
            let v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
            // SAFETY: as above.
            unsafe { _mm512_storeu_ps(run.as_mut_ptr(), v) };
        }
        // SAFETY: the caller's guarantee covers AVX2 and FMA.
        unsafe { clamp_avx2(rest, low, high) };
    }

    #[cfg(test)]
    mod tests {
        use crate::kernel::dispatch::{SimdLevel, simd_level};

        /// Every build gives the portable loop's bits, NaN, `±0.0`, the bounds and the
        /// infinities included, at every length (the vector tails).
        #[test]
        fn vector_builds_equal_the_portable_loop() {
            let specials = [
                f32::NAN,
                -f32::NAN,
                0.0,
                -0.0,
                6.0,
                -6.0,
                6.000_001,
                5.999_999,
                f32::INFINITY,
                f32::NEG_INFINITY,
                1e-40,
                -1e-40,
                3.5,
                -2.25,
            ];
            for len in 0..53 {
                let y: Vec<f32> = (0..len)
                    .map(|i| specials[(i * 7 + len) % specials.len()])
                    .collect();
                for (low, high) in [(0.0, f32::INFINITY), (0.0, 6.0)] {
                    let mut expected = y.clone();
                    super::super::portable(&mut expected, low, high);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    if simd_level() != SimdLevel::Portable {
                        let mut got = y.clone();
                        // SAFETY: the level is at least Avx2Fma: the CPU has AVX2 and FMA.
                        unsafe { super::clamp_avx2(&mut got, low, high) };
                        assert_eq!(bits(&got), bits(&expected), "AVX2, length {len}");
                    }
                    if simd_level() == SimdLevel::Avx512 {
                        let mut got = y.clone();
                        // SAFETY: the level is Avx512: the CPU has AVX-512F, AVX2 and FMA.
                        unsafe { super::clamp_avx512(&mut got, low, high) };
                        assert_eq!(bits(&got), bits(&expected), "AVX-512, length {len}");
                    }
                }
            }
        }
    }
}
