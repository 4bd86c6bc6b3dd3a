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

/// `acc[o] += taps[o] · pixel[o / M]` with `M = taps.len() / pixel.len()` (a depthwise
/// convolution's tap).
#[inline(always)]
fn depthwise_tap_body(pixel: &[i8], taps: &[i8], acc: &mut [i32]) {
    if pixel.len() == taps.len() {
        for ((a, &t), &p) in acc.iter_mut().zip(taps).zip(pixel) {
            *a = a.wrapping_add(t as i32 * p as i32);
        }
    } else {
        let m = taps.len() / pixel.len().max(1);
        for (o, (a, &t)) in acc.iter_mut().zip(taps).enumerate() {
            *a = a.wrapping_add(t as i32 * pixel[o / m] as i32);
        }
    }
}

/// The portable kernels.
pub(crate) mod portable {
    /// See `matvec_body`.
    pub(crate) fn matvec(x: &[i8], w: &[i8], acc: &mut [i32]) {
        super::matvec_body(x, w, acc);
    }

    /// See `depthwise_tap_body`.
    pub(crate) fn depthwise_tap(pixel: &[i8], taps: &[i8], acc: &mut [i32]) {
        super::depthwise_tap_body(pixel, taps, acc);
    }
}

/// The bodies compiled with AVX2.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) mod avx2 {
    /// See `matvec_body`.
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn matvec(x: &[i8], w: &[i8], acc: &mut [i32]) {
        super::matvec_body(x, w, acc);
    }

    /// See `depthwise_tap_body`.
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn depthwise_tap(pixel: &[i8], taps: &[i8], acc: &mut [i32]) {
        super::depthwise_tap_body(pixel, taps, acc);
    }
}

/// `acc[r] = Σ_k w[r·K + k] · x[k]` (`K = x.len()`, `w.len() ≥ acc.len() · K`).
#[inline]
pub(crate) fn int8_matvec(x: &[i8], w: &[i8], acc: &mut [i32]) {
    debug_assert!(w.len() >= acc.len() * x.len());
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::dispatch::use_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked by `use_avx2_fma`).
        unsafe { avx2::matvec(x, w, acc) };
        return;
    }
    portable::matvec(x, w, acc);
}

/// `acc[o] += taps[o] · pixel[o / M]`, `M = taps.len() / pixel.len()`.
#[inline]
pub(crate) fn int8_depthwise_tap(pixel: &[i8], taps: &[i8], acc: &mut [i32]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::dispatch::use_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked by `use_avx2_fma`).
        unsafe { avx2::depthwise_tap(pixel, taps, acc) };
        return;
    }
    portable::depthwise_tap(pixel, taps, acc);
}
