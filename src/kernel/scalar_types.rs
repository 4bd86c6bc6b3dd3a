//! `f32` and `f64` as [`Scalar`]s: their constants, and their slice functions, which for
//! `f32` are the kernels' vectorized transcendentals (the scalar module names no kernel).

use crate::kernel;
use crate::scalar::Scalar;

impl Scalar for f32 {
    const NAME: &'static str = "f32";
    const BYTES: usize = 4;
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn flush_below(self, threshold: Self) -> Self {
        if self.to_bits() & !(1u32 << 31) < threshold.to_bits() {
            0.0
        } else {
            self
        }
    }
    #[inline]
    fn erf(self) -> Self {
        libm_crate::erff(self)
    }
    #[inline]
    fn tanh_slice(x: &[f32], y: &mut [f32]) {
        kernel::tanh_f32(x, y);
    }
    #[inline]
    fn sigmoid_slice(x: &[f32], y: &mut [f32]) {
        kernel::sigmoid_f32(x, y);
    }
    #[inline]
    fn erf_slice(x: &[f32], y: &mut [f32]) {
        kernel::erf_f32(x, y);
    }
    #[inline]
    fn exp_slice(x: &[f32], y: &mut [f32]) {
        kernel::exp_f32(x, y);
    }
    #[inline]
    fn exp_m1_slice(x: &[f32], y: &mut [f32]) {
        kernel::expm1_f32(x, y);
    }
    #[inline]
    fn ln_1p_slice(x: &[f32], y: &mut [f32]) {
        kernel::ln_1p_f32(x, y);
    }
}

impl Scalar for f64 {
    const NAME: &'static str = "f64";
    const BYTES: usize = 8;
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn flush_below(self, threshold: Self) -> Self {
        if self.to_bits() & !(1u64 << 63) < threshold.to_bits() {
            0.0
        } else {
            self
        }
    }
    #[inline]
    fn erf(self) -> Self {
        libm_crate::erf(self)
    }
}
