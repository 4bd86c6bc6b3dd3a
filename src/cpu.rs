//! Facts about the machine, for benchmark reports: the CPU's model name and its measured
//! single-core AVX2 FMA peak (`examples/perf_report.rs` prints both next to its timings).

use std::time::Instant;

use crate::kernel::peak;

/// The single-core AVX2 FMA peak in GFLOP/s, measured by running `iterations` rounds of 12
/// independent 8-lane `f32` fused multiply-adds (`12·8·2 = 192` flops per round) and dividing
/// by the elapsed time.
///
/// `None` when the CPU lacks AVX2 or FMA (detected at run time), on targets other than
/// x86-64, or when `iterations` is 0. Some 10⁸ iterations take a fraction of a second on a
/// recent core; the figure is noisy on a shared machine (take the median of a few calls).
///
/// ```
/// if let Some(gflops) = constnet::cpu::avx2_fma_peak_gflops(1_000_000) {
///     assert!(gflops > 0.0);
/// }
/// ```
pub fn avx2_fma_peak_gflops(iterations: u64) -> Option<f64> {
    if iterations == 0 {
        return None;
    }
    let start = Instant::now();
    let value = peak::fma_chains(iterations)?;
    let seconds = start.elapsed().as_secs_f64();
    std::hint::black_box(value);
    let flops = (peak::FLOPS_PER_ITERATION * iterations) as f64;
    (seconds > 0.0).then(|| flops / seconds / 1e9)
}

/// The AVX-512F FMA peak of one core in GFLOP/s: 12 independent chains of 16-lane fused
/// multiply-adds run `iterations` times and timed (`None` without AVX-512F, off x86-64, or
/// for 0 iterations). The peak of the instruction set constnet's large batched products use
/// at the AVX-512 level.
///
/// ```
/// if let Some(gflops) = constnet::cpu::avx512_fma_peak_gflops(1_000_000) {
///     assert!(gflops > 0.0);
/// }
/// ```
pub fn avx512_fma_peak_gflops(iterations: u64) -> Option<f64> {
    if iterations == 0 {
        return None;
    }
    let start = Instant::now();
    let value = peak::fma_chains_wide(iterations)?;
    let seconds = start.elapsed().as_secs_f64();
    std::hint::black_box(value);
    let flops = (peak::FLOPS_PER_ITERATION_WIDE * iterations) as f64;
    (seconds > 0.0).then(|| flops / seconds / 1e9)
}

/// The CPU's model name, as the first `model name` line of `/proc/cpuinfo` gives it (`None`
/// where that file or line does not exist, e.g. outside Linux).
pub fn model_name() -> Option<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_is_positive_and_finite_when_avx2_and_fma_exist() {
        #[cfg(target_arch = "x86_64")]
        let available = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        #[cfg(not(target_arch = "x86_64"))]
        let available = false;
        let peak = avx2_fma_peak_gflops(2_000_000);
        if available {
            let gflops = peak.expect("AVX2 and FMA are detected, so the peak is measured");
            assert!(gflops.is_finite() && gflops > 0.0, "peak {gflops} GFLOP/s");
        } else {
            assert_eq!(peak, None);
        }
        assert_eq!(avx2_fma_peak_gflops(0), None);
    }

    #[test]
    fn model_name_is_not_empty_when_present() {
        if let Some(name) = model_name() {
            assert!(!name.is_empty());
        }
    }
}
