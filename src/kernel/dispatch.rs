//! Which kernels run: chosen once per process, read with one relaxed atomic load.
//!
//! Under `std` on x86-64 the CPU is asked once (`is_x86_feature_detected!`) whether it has
//! AVX2 and FMA, and AVX-512F. AVX-512F serves only where its 16-float build measured faster
//! than the 8-float one on this project's machine: the one-row Dense forward with 64 or more
//! outputs (`x86::dense_forward_row_avx512`), the batched Dense products of 16 rows or more,
//! 64 outputs or more and 2¹⁸ multiply-adds or more (`x86::dense_forward_avx512` and its
//! gradients), the batched `f32` Dense forward of 12 rows or more and 9 to 15 outputs
//! (`dense_narrow.rs`), and the tasks of recurrent cells whose hidden state fills a 64-byte vector
//! (their steps, and a streamed chain holding one: `in_best_simd_wide`), and the `f32`
//! depthwise convolution's rows of 16k channels (`depthwise.rs`); every other kernel runs
//! its AVX2+FMA build on an AVX-512 CPU.
//!
//! Without `std` the portable kernels always run, and [`simd_level`] says so
//! ([`SimdLevel::Portable`]): the AVX2+FMA and AVX-512 builds and the run-time choice between
//! them exist only with `std`. The portable kernels are compiled for the build's target
//! features (`-C target-feature=+avx2,+fma` lets the compiler use AVX2 instructions in them),
//! but they still multiply and add separately (no fused multiply-add): the portable kernels'
//! bits.
//!
//! Setting the environment variable `CONSTNET_PORTABLE` (to any value) before the first kernel
//! call forces the portable kernels, and `CONSTNET_AVX2` (any value) keeps an AVX-512 CPU at
//! the AVX2+FMA level; they are read on the first call only. CI runs the unit and
//! integration tests three times: at the detected level, with `CONSTNET_PORTABLE=1` and with
//! `CONSTNET_AVX2=1`. On a CPU with AVX-512F that tests each of the three levels; on one
//! without, the AVX-512 builds run in no test (and the `CONSTNET_AVX2=1` run repeats the
//! detected one).

use core::sync::atomic::{AtomicU8, Ordering};

/// The instruction-set level the kernels use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimdLevel {
    /// Safe portable loops, vectorized for the build's target features (SSE2 on x86-64 by
    /// default). Always the level without `std`.
    Portable,
    /// The same loops compiled with AVX2 and FMA, chosen at run time.
    Avx2Fma,
    /// AVX2 and FMA, and AVX-512F (16-float vectors) for the one-row Dense forward with 64 or
    /// more outputs, large batched Dense products, and the tasks of recurrent cells with a
    /// hidden state of 64 bytes or more.
    Avx512,
}

const UNKNOWN: u8 = 0;
const PORTABLE: u8 = 1;
const AVX2_FMA: u8 = 2;
const AVX512: u8 = 3;

static LEVEL: AtomicU8 = AtomicU8::new(UNKNOWN);

/// The level the kernels use (detected on the first call, then cached).
///
/// The first call reads the `CONSTNET_PORTABLE` and `CONSTNET_AVX2` environment variables,
/// which allocates: a real-time application calls this at start-up so that its audio or
/// control thread never makes that first call.
///
/// Without `std` it is always [`SimdLevel::Portable`], the kernels that run there, whatever
/// target features the build enables.
///
/// ```
/// let level = constnet::simd_level();
/// println!("constnet kernels: {level:?}");
/// ```
#[inline(always)]
pub fn simd_level() -> SimdLevel {
    match LEVEL.load(Ordering::Relaxed) {
        PORTABLE => SimdLevel::Portable,
        AVX2_FMA => SimdLevel::Avx2Fma,
        AVX512 => SimdLevel::Avx512,
        _ => detect(),
    }
}

#[cold]
fn detect() -> SimdLevel {
    let level = choose(
        cpu_has_avx2_fma(),
        cpu_has_avx512(),
        forced_portable,
        forced_avx2,
    );
    let code = match level {
        SimdLevel::Portable => PORTABLE,
        SimdLevel::Avx2Fma => AVX2_FMA,
        SimdLevel::Avx512 => AVX512,
    };
    LEVEL.store(code, Ordering::Relaxed);
    level
}

/// The level for a CPU with (or without) AVX2+FMA and AVX-512F, given the two environment
/// variables (asked only when they could matter).
fn choose(
    avx2_fma: bool,
    avx512: bool,
    forced_portable: impl FnOnce() -> bool,
    forced_avx2: impl FnOnce() -> bool,
) -> SimdLevel {
    if forced_portable() || !avx2_fma {
        SimdLevel::Portable
    } else if avx512 && !forced_avx2() {
        SimdLevel::Avx512
    } else {
        SimdLevel::Avx2Fma
    }
}

/// `CONSTNET_PORTABLE` (any value) forces the portable kernels.
#[cfg(feature = "std")]
fn forced_portable() -> bool {
    std::env::var_os("CONSTNET_PORTABLE").is_some()
}

#[cfg(not(feature = "std"))]
fn forced_portable() -> bool {
    false
}

/// `CONSTNET_AVX2` (any value) keeps an AVX-512 CPU at the AVX2+FMA level.
#[cfg(feature = "std")]
fn forced_avx2() -> bool {
    std::env::var_os("CONSTNET_AVX2").is_some()
}

#[cfg(not(feature = "std"))]
fn forced_avx2() -> bool {
    false
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
fn cpu_has_avx512() -> bool {
    std::is_x86_feature_detected!("avx512f")
}

#[cfg(not(all(feature = "std", target_arch = "x86_64")))]
fn cpu_has_avx512() -> bool {
    false
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
fn cpu_has_avx2_fma() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// Without `std` (or off x86-64) no AVX2+FMA kernel is compiled, whatever the CPU or the
/// build's target features.
#[cfg(not(all(feature = "std", target_arch = "x86_64")))]
fn cpu_has_avx2_fma() -> bool {
    false
}

/// True when the AVX2+FMA kernels may be called (the CPU has both and they are not disabled).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
pub(crate) fn use_avx2_fma() -> bool {
    simd_level() != SimdLevel::Portable
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{math, tanh_f32};

    /// `CONSTNET_PORTABLE` gives `Portable` and `CONSTNET_AVX2` keeps an AVX-512 CPU at
    /// `Avx2Fma`; neither is read where it cannot change the level.
    #[test]
    fn each_environment_variable_caps_the_level() {
        let never = || -> bool { panic!("not asked when it cannot matter") };
        let (yes, no) = (|| true, || false);
        assert_eq!(choose(false, false, no, never), SimdLevel::Portable);
        assert_eq!(choose(true, false, no, never), SimdLevel::Avx2Fma);
        assert_eq!(choose(true, true, no, no), SimdLevel::Avx512);
        assert_eq!(choose(true, true, no, yes), SimdLevel::Avx2Fma);
        assert_eq!(choose(true, true, yes, never), SimdLevel::Portable);
        assert_eq!(choose(true, false, yes, never), SimdLevel::Portable);
    }

    /// What this process reports is what its CPU, build and environment give (with `std`,
    /// what CI's three runs rely on; without, always `Portable`), and the kernels that run
    /// agree: the dispatching `tanh` gives the portable kernel's bits (separate multiply and
    /// add) exactly when the level is `Portable`, and other bits (fused) otherwise. Without
    /// std, run it also with `RUSTFLAGS="-C target-feature=+avx2,+fma"` (in a target
    /// directory of its own): still `Portable`, still the portable bits.
    #[test]
    fn the_level_is_what_runs() {
        let level = simd_level();
        let detected = choose(
            cpu_has_avx2_fma(),
            cpu_has_avx512(),
            forced_portable,
            forced_avx2,
        );
        assert_eq!(level, detected);
        if cfg!(not(feature = "std")) {
            assert_eq!(level, SimdLevel::Portable);
        }
        #[cfg(feature = "std")]
        {
            if std::env::var_os("CONSTNET_PORTABLE").is_some() {
                assert_eq!(level, SimdLevel::Portable);
            }
            if std::env::var_os("CONSTNET_AVX2").is_some() {
                assert_ne!(level, SimdLevel::Avx512);
            }
        }
        let x: [f32; 4096] = core::array::from_fn(|i| (i as f32 - 2048.0) / 256.0);
        let (mut dispatched, mut portable) = ([0.0f32; 4096], [0.0f32; 4096]);
        tanh_f32(&x, &mut dispatched);
        math::map(&x, &mut portable, math::tanh::<math::Separate>);
        let same_bits = dispatched
            .iter()
            .zip(&portable)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert_eq!(same_bits, level == SimdLevel::Portable, "{level:?}");
    }
}
