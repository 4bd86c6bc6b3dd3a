//! Which kernels run: chosen once per process, read with one relaxed atomic load.
//!
//! Under `std` on x86-64 the CPU is asked once (`is_x86_feature_detected!`) whether it has
//! AVX2 and FMA, and AVX-512F (the Dense kernels have a 16-float build, measured faster than
//! the 8-float one on this project's machine); without `std` the choice is the build's own
//! target features
//! (`cfg!(target_feature)`). Setting the environment variable `CONSTNET_PORTABLE` (to any
//! value) before the first kernel call forces the portable kernels, and `CONSTNET_AVX2` keeps
//! an AVX-512 CPU on the AVX2 kernels, so tests cover every path.

use core::sync::atomic::{AtomicU8, Ordering};

/// The instruction-set level the kernels use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimdLevel {
    /// Safe portable loops, vectorized for the build's baseline (SSE2 on x86-64).
    Portable,
    /// The same loops compiled with AVX2 and FMA, chosen at run time.
    Avx2Fma,
    /// AVX2 and FMA, and AVX-512F for the Dense kernels (16-float vectors).
    Avx512,
}

const UNKNOWN: u8 = 0;
const PORTABLE: u8 = 1;
const AVX2_FMA: u8 = 2;
const AVX512: u8 = 3;

static LEVEL: AtomicU8 = AtomicU8::new(UNKNOWN);

/// The level the kernels use (detected on the first call, then cached).
///
/// The first call reads the `CONSTNET_PORTABLE` environment variable, which allocates once:
/// a real-time application calls this at start-up so that its audio or control thread never
/// makes that first call.
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
    let level = if forced_portable() || !cpu_has_avx2_fma() {
        SimdLevel::Portable
    } else if cpu_has_avx512() && !forced_avx2() {
        SimdLevel::Avx512
    } else {
        SimdLevel::Avx2Fma
    };
    let code = match level {
        SimdLevel::Portable => PORTABLE,
        SimdLevel::Avx2Fma => AVX2_FMA,
        SimdLevel::Avx512 => AVX512,
    };
    LEVEL.store(code, Ordering::Relaxed);
    level
}

#[cfg(feature = "std")]
fn forced_portable() -> bool {
    std::env::var_os("CONSTNET_PORTABLE").is_some()
}

#[cfg(not(feature = "std"))]
fn forced_portable() -> bool {
    false
}

/// `CONSTNET_AVX2` (any value) keeps the Dense kernels at AVX2 on an AVX-512 CPU.
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

#[cfg(all(not(feature = "std"), target_arch = "x86_64"))]
fn cpu_has_avx2_fma() -> bool {
    cfg!(all(target_feature = "avx2", target_feature = "fma"))
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_has_avx2_fma() -> bool {
    false
}

/// True when the AVX2+FMA kernels may be called (the CPU has both and they are not disabled).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
pub(crate) fn use_avx2_fma() -> bool {
    simd_level() != SimdLevel::Portable
}
