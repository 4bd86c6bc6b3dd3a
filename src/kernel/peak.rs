//! The AVX2 FMA peak loop: twelve independent chains of `_mm256_fmadd_ps`, enough to keep
//! both FMA ports of a core busy (latency 4–5 cycles × 2 ports < 12 chains), so the loop runs
//! at the core's fused multiply-add throughput. [`crate::cpu::avx2_fma_peak_gflops`] times it.

/// Floating-point operations per iteration of [`fma_chains`]: 12 chains × 8 lanes × 2 (a
/// fused multiply-add counts as a multiply and an add).
pub(crate) const FLOPS_PER_ITERATION: u64 = 12 * 8 * 2;

/// Runs `iterations` rounds of 12 independent 8-lane FMAs and returns a value depending on
/// every chain (so the loop cannot be removed); `None` when the CPU lacks AVX2 or FMA, or the
/// target is not x86-64.
pub(crate) fn fma_chains(iterations: u64) -> Option<f32> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: `fma_chains_avx2` only needs AVX2 and FMA, both detected just above.
            return Some(unsafe { x86::fma_chains_avx2(iterations) });
        }
    }
    let _ = iterations;
    None
}

/// Floating-point operations per iteration of [`fma_chains_wide`]: 12 chains × 16 lanes × 2.
pub(crate) const FLOPS_PER_ITERATION_WIDE: u64 = 12 * 16 * 2;

/// As [`fma_chains`] with AVX-512F's 16-lane FMAs; `None` without AVX-512F.
pub(crate) fn fma_chains_wide(iterations: u64) -> Option<f32> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: `fma_chains_avx512` only needs AVX-512F, detected just above.
            return Some(unsafe { x86::fma_chains_avx512(iterations) });
        }
    }
    let _ = iterations;
    None
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_cvtss_f32, _mm256_fmadd_ps, _mm256_set1_ps,
    };

    /// `acc = acc·a + b` on twelve accumulators. With `a` just below one every chain converges
    /// to `b / (1 − a)` (about 0.1), so no value overflows or becomes subnormal.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn fma_chains_avx2(iterations: u64) -> f32 {
        let a = _mm256_set1_ps(0.999_999);
        let b = _mm256_set1_ps(1.0e-7);
        let start = |k: f32| _mm256_set1_ps(0.01 * k);
        let (mut c0, mut c1, mut c2, mut c3) = (start(1.0), start(2.0), start(3.0), start(4.0));
        let (mut c4, mut c5, mut c6, mut c7) = (start(5.0), start(6.0), start(7.0), start(8.0));
        let (mut c8, mut c9, mut c10, mut c11) =
            (start(9.0), start(10.0), start(11.0), start(12.0));
        for _ in 0..iterations {
            c0 = _mm256_fmadd_ps(c0, a, b);
            c1 = _mm256_fmadd_ps(c1, a, b);
            c2 = _mm256_fmadd_ps(c2, a, b);
            c3 = _mm256_fmadd_ps(c3, a, b);
            c4 = _mm256_fmadd_ps(c4, a, b);
            c5 = _mm256_fmadd_ps(c5, a, b);
            c6 = _mm256_fmadd_ps(c6, a, b);
            c7 = _mm256_fmadd_ps(c7, a, b);
            c8 = _mm256_fmadd_ps(c8, a, b);
            c9 = _mm256_fmadd_ps(c9, a, b);
            c10 = _mm256_fmadd_ps(c10, a, b);
            c11 = _mm256_fmadd_ps(c11, a, b);
        }
        let sum = |x: __m256, y: __m256| _mm256_add_ps(x, y);
        let total = sum(
            sum(sum(sum(c0, c1), sum(c2, c3)), sum(sum(c4, c5), sum(c6, c7))),
            sum(sum(c8, c9), sum(c10, c11)),
        );
        // Lane 0 of the sum depends on every chain.
        _mm256_cvtss_f32(total)
    }

    /// [`fma_chains_avx2`] on 16-lane vectors.
    #[target_feature(enable = "avx512f")]
    pub(super) fn fma_chains_avx512(iterations: u64) -> f32 {
        use core::arch::x86_64::{
            _mm512_add_ps, _mm512_fmadd_ps, _mm512_reduce_add_ps, _mm512_set1_ps,
        };
        let a = _mm512_set1_ps(0.999_999);
        let b = _mm512_set1_ps(1.0e-7);
        let mut chains: [_; 12] = core::array::from_fn(|k| _mm512_set1_ps(0.01 * (k + 1) as f32));
        for _ in 0..iterations {
            for c in chains.iter_mut() {
                *c = _mm512_fmadd_ps(*c, a, b);
            }
        }
        let total = chains
            .iter()
            .fold(_mm512_set1_ps(0.0), |s, &c| _mm512_add_ps(s, c));
        _mm512_reduce_add_ps(total)
    }
}
