//! Sums of lane-wise products over many steps: the weight gradients of a recurrent cell's
//! batched training (`layers::recurrent_batch`), where each step keeps its vectors
//! transposed (the sample index in the lanes) and one gradient element is the sum, over every
//! step and lane, of one row times another.
//!
//! [`lane_dots`] returns, for `R` rows `v_r` and one row `a` per step,
//! `Σₛ Σ_b a(s)[b] · v_r(s)[b]` for each `r` and `Σₛ Σ_b a(s)[b]` (a bias gradient, nearly
//! free beside the products). Each lane of a 16-lane accumulator sums its steps in order;
//! the 16 lanes are then added by halves (`l + 8`, `l + 4`, `l + 2`, `l + 1`), and the lanes
//! past the last full chunk of 16 are added last, one by one.
//!
//! The AVX-512F build keeps one 16-float register per accumulator, the AVX2+FMA build two
//! 8-float ones: the same operations in the same order, the same bits. The portable build
//! (any `T`, and any CPU) keeps arrays and multiplies and adds as its task does (`M`). The
//! vector builds exist because the compiler, left to vectorize the portable loops inside
//! the training step, vectorized across the accumulators (gathers and shuffles) instead of
//! across the lanes: four to six times slower, and changing with unrelated code nearby.

#[cfg(all(feature = "std", target_arch = "x86_64"))]
use core::any::TypeId;

use super::math::MulAdd;
use crate::scalar::Scalar;

/// Lanes per accumulator.
pub(crate) const LANES: usize = 16;

/// `(Σₛ a(s) · v_r(s) for each r, Σₛ a(s))` over every lane, where `step(s) = (a(s), [v_r(s)])`.
/// `M` is how the caller's task multiplies and adds (the portable build's arithmetic).
#[inline(always)]
pub(crate) fn lane_dots<'a, T: Scalar, M: MulAdd, S: 'a, const B: usize, const R: usize>(
    steps: &'a [S],
    step: impl Fn(&'a S) -> (&'a [T; B], [&'a [T; B]; R]),
) -> ([T; R], T) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if TypeId::of::<T>() == TypeId::of::<f32>() && B >= LANES {
        use super::dispatch::{SimdLevel, simd_level};
        let step = |s: &'a S| {
            let (a, v) = step(s);
            (as_f32(a), v.map(as_f32))
        };
        let out = match simd_level() {
            // SAFETY: the level is Avx512 only when the CPU has AVX-512F, AVX2 and FMA.
            SimdLevel::Avx512 => Some(unsafe { avx512::lane_dots::<S, B, R>(steps, step) }),
            // SAFETY: the level is Avx2Fma only when the CPU has AVX2 and FMA.
            SimdLevel::Avx2Fma => Some(unsafe { avx2::lane_dots::<S, B, R>(steps, step) }),
            SimdLevel::Portable => None,
        };
        if let Some((dots, sum)) = out {
            return (dots.map(from_f32), from_f32(sum));
        }
    }
    portable::<T, M, S, B, R>(steps, step)
}

/// `x` as `f32`s (`T` is `f32`: checked by the caller).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
fn as_f32<T: 'static, const B: usize>(x: &[T; B]) -> &[f32; B] {
    assert!(TypeId::of::<T>() == TypeId::of::<f32>());
    // SAFETY: T is f32 (asserted): the same type, size and alignment.
    unsafe { &*(x as *const [T; B]).cast::<[f32; B]>() }
}

/// `x` as a `T` that is `f32` (checked by the caller).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
fn from_f32<T: Scalar>(x: f32) -> T {
    T::from_f64(f64::from(x))
}

/// The portable build: arrays of `LANES` partial sums.
#[inline(always)]
pub(crate) fn portable<'a, T: Scalar, M: MulAdd, S: 'a, const B: usize, const R: usize>(
    steps: &'a [S],
    step: impl Fn(&'a S) -> (&'a [T; B], [&'a [T; B]; R]),
) -> ([T; R], T) {
    let full = B / LANES * LANES;
    let mut acc = [[T::zero(); LANES]; R];
    let mut acc_sum = [T::zero(); LANES];
    let mut tail = [T::zero(); R];
    let mut tail_sum = T::zero();
    for s in steps {
        let (a, v) = step(s);
        for c in (0..full).step_by(LANES) {
            for (acc_r, v_r) in acc.iter_mut().zip(v.iter()) {
                for l in 0..LANES {
                    acc_r[l] = M::mul_add(a[c + l], v_r[c + l], acc_r[l]);
                }
            }
            for l in 0..LANES {
                acc_sum[l] += a[c + l];
            }
        }
        for b in full..B {
            for (t, v_r) in tail.iter_mut().zip(v.iter()) {
                *t = M::mul_add(a[b], v_r[b], *t);
            }
            tail_sum += a[b];
        }
    }
    let mut dots = [T::zero(); R];
    for ((d, acc_r), &t) in dots.iter_mut().zip(acc.iter()).zip(tail.iter()) {
        *d = halves(*acc_r) + t;
    }
    (dots, halves(acc_sum) + tail_sum)
}

/// `Σ v[l]` by halves: `l + 8`, then `l + 4`, `l + 2`, `l + 1`.
#[inline(always)]
fn halves<T: Scalar>(mut v: [T; LANES]) -> T {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            v[l] += v[l + width];
        }
    }
    v[0]
}

/// The lanes past the last full chunk: `(Σₛ a·v_r, Σₛ a)` over lanes `B/16·16..B`.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
fn tail_f32<'a, S: 'a, const B: usize, const R: usize>(
    steps: &'a [S],
    step: &impl Fn(&'a S) -> (&'a [f32; B], [&'a [f32; B]; R]),
) -> ([f32; R], f32) {
    let full = B / LANES * LANES;
    let mut tail = [0.0f32; R];
    let mut tail_sum = 0.0f32;
    if full < B {
        for s in steps {
            let (a, v) = step(s);
            for b in full..B {
                for (t, v_r) in tail.iter_mut().zip(v.iter()) {
                    *t = a[b].mul_add(v_r[b], *t);
                }
                tail_sum += a[b];
            }
        }
    }
    (tail, tail_sum)
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod avx512 {
    use core::arch::x86_64::{
        __m512, _mm256_castpd_ps, _mm512_add_ps, _mm512_castps_pd, _mm512_castps512_ps256,
        _mm512_extractf64x4_pd, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_setzero_ps,
    };

    use super::{LANES, avx2::reduce8, tail_f32};

    /// [`lane_dots`](super::lane_dots) with one AVX-512 register per accumulator.
    ///
    /// # Safety
    /// The CPU must have AVX-512F, AVX2 and FMA.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn lane_dots<'a, S: 'a, const B: usize, const R: usize>(
        steps: &'a [S],
        step: impl Fn(&'a S) -> (&'a [f32; B], [&'a [f32; B]; R]),
    ) -> ([f32; R], f32) {
        let mut acc: [__m512; R] = [_mm512_setzero_ps(); R];
        let mut acc_sum = _mm512_setzero_ps();
        for s in steps {
            let (a, v) = step(s);
            let mut c = 0;
            while c + LANES <= B {
                // SAFETY: `c + 16 <= B`: 16 floats inside `a` and each `v_r`.
                let a_c = unsafe { _mm512_loadu_ps(a.as_ptr().add(c)) };
                for (acc_r, v_r) in acc.iter_mut().zip(v.iter()) {
                    // SAFETY: as above.
                    let v_c = unsafe { _mm512_loadu_ps(v_r.as_ptr().add(c)) };
                    *acc_r = _mm512_fmadd_ps(a_c, v_c, *acc_r);
                }
                acc_sum = _mm512_add_ps(acc_sum, a_c);
                c += LANES;
            }
        }
        let (tail, tail_sum) = tail_f32(steps, &step);
        let total = |x: __m512| {
            // Lanes l + 8 first: the AVX2 build's two halves.
            let low = _mm512_castps512_ps256(x);
            let high = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(x)));
            reduce8(low, high)
        };
        let mut dots = [0.0f32; R];
        for ((d, &acc_r), &t) in dots.iter_mut().zip(acc.iter()).zip(tail.iter()) {
            *d = total(acc_r) + t;
        }
        (dots, total(acc_sum) + tail_sum)
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod avx2 {
    use core::arch::x86_64::{
        __m256, _mm_add_ps, _mm_add_ss, _mm_cvtss_f32, _mm_movehl_ps, _mm_shuffle_ps,
        _mm256_add_ps, _mm256_castps256_ps128, _mm256_extractf128_ps, _mm256_fmadd_ps,
        _mm256_loadu_ps, _mm256_setzero_ps,
    };

    use super::{LANES, tail_f32};

    /// `Σ` of 16 lanes held as two halves (`low` lanes 0..8, `high` 8..16), by halves:
    /// `l + 8`, `l + 4`, `l + 2`, `l + 1`.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn reduce8(low: __m256, high: __m256) -> f32 {
        let x8 = _mm256_add_ps(low, high);
        let x4 = _mm_add_ps(_mm256_castps256_ps128(x8), _mm256_extractf128_ps::<1>(x8));
        let x2 = _mm_add_ps(x4, _mm_movehl_ps(x4, x4));
        let x1 = _mm_add_ss(x2, _mm_shuffle_ps::<0b01>(x2, x2));
        _mm_cvtss_f32(x1)
    }

    /// [`lane_dots`](super::lane_dots) with two AVX2 registers per accumulator.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn lane_dots<'a, S: 'a, const B: usize, const R: usize>(
        steps: &'a [S],
        step: impl Fn(&'a S) -> (&'a [f32; B], [&'a [f32; B]; R]),
    ) -> ([f32; R], f32) {
        let mut acc: [[__m256; 2]; R] = [[_mm256_setzero_ps(); 2]; R];
        let mut acc_sum = [_mm256_setzero_ps(); 2];
        for s in steps {
            let (a, v) = step(s);
            let mut c = 0;
            while c + LANES <= B {
                // SAFETY: `c + 16 <= B`: 16 floats inside `a` and each `v_r`.
                let a_c = unsafe {
                    [
                        _mm256_loadu_ps(a.as_ptr().add(c)),
                        _mm256_loadu_ps(a.as_ptr().add(c + 8)),
                    ]
                };
                for (acc_r, v_r) in acc.iter_mut().zip(v.iter()) {
                    for h in 0..2 {
                        // SAFETY: as above.
                        let v_c = unsafe { _mm256_loadu_ps(v_r.as_ptr().add(c + 8 * h)) };
                        acc_r[h] = _mm256_fmadd_ps(a_c[h], v_c, acc_r[h]);
                    }
                }
                for h in 0..2 {
                    acc_sum[h] = _mm256_add_ps(acc_sum[h], a_c[h]);
                }
                c += LANES;
            }
        }
        let (tail, tail_sum) = tail_f32(steps, &step);
        let mut dots = [0.0f32; R];
        for ((d, acc_r), &t) in dots.iter_mut().zip(acc.iter()).zip(tail.iter()) {
            *d = reduce8(acc_r[0], acc_r[1]) + t;
        }
        (dots, reduce8(acc_sum[0], acc_sum[1]) + tail_sum)
    }
}

#[cfg(all(test, feature = "std", target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::kernel::math::Fused;

    struct Step<const B: usize> {
        a: [f32; B],
        v: [[f32; B]; 5],
    }

    fn steps<const B: usize>(n: usize) -> Vec<Step<B>> {
        let value = |k: usize| ((k * 7919 % 1013) as f32 / 1013.0 - 0.5) * 2.0;
        (0..n)
            .map(|s| Step {
                a: core::array::from_fn(|b| value(s * 31 + b)),
                v: core::array::from_fn(|r| {
                    core::array::from_fn(|b| value(s * 131 + r * 17 + b * 3 + 5))
                }),
            })
            .collect()
    }

    /// The vector builds against the portable one (the same sums, `Fused` arithmetic), and
    /// the AVX-512 build against the AVX2 one, bit for bit.
    fn check<const B: usize>() {
        let steps = steps::<B>(37);
        fn get<const B: usize>(s: &Step<B>) -> (&[f32; B], [&[f32; B]; 5]) {
            (&s.a, [&s.v[0], &s.v[1], &s.v[2], &s.v[3], &s.v[4]])
        }
        let get = get::<B>;
        let (want, want_sum) = portable::<f32, Fused, _, B, 5>(&steps, get);
        let mut exact = [0.0f64; 5];
        for s in &steps {
            for (e, v) in exact.iter_mut().zip(&s.v) {
                for (&a, &v) in s.a.iter().zip(v) {
                    *e += f64::from(a) * f64::from(v);
                }
            }
        }
        for (&w, &e) in want.iter().zip(&exact) {
            assert!((f64::from(w) - e).abs() < 1e-4 * (1.0 + e.abs()));
        }
        let exact_sum: f64 = steps.iter().flat_map(|s| s.a).map(f64::from).sum();
        assert!((f64::from(want_sum) - exact_sum).abs() < 1e-4 * (1.0 + exact_sum.abs()));
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: checked above.
            let (got, got_sum) = unsafe { avx2::lane_dots::<_, B, 5>(&steps, get) };
            assert_eq!(
                got.map(f32::to_bits),
                want.map(f32::to_bits),
                "avx2, B = {B}"
            );
            assert_eq!(got_sum.to_bits(), want_sum.to_bits());
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: checked above.
                let (wide, wide_sum) = unsafe { avx512::lane_dots::<_, B, 5>(&steps, get) };
                assert_eq!(
                    wide.map(f32::to_bits),
                    got.map(f32::to_bits),
                    "avx512, B = {B}"
                );
                assert_eq!(wide_sum.to_bits(), got_sum.to_bits());
            }
        }
    }

    #[test]
    fn vector_lane_dots_equal_the_portable_ones() {
        check::<16>();
        check::<32>();
        check::<21>();
        check::<48>();
    }
}
