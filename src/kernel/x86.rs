//! The AVX2+FMA variants of the kernels: the portable bodies, compiled again with
//! `#[target_feature(enable = "avx2,fma")]` so the compiler vectorizes them 8 floats wide
//! and fuses multiply-adds. Callers reach them only through the dispatching functions in
//! `kernel/mod.rs`, after [`use_avx2_fma`](super::dispatch::use_avx2_fma) said yes.

use super::math::{self, Fused};

/// `y = tanh(x)` elementwise.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn tanh(x: &[f32], y: &mut [f32]) {
    math::map(x, y, math::tanh::<Fused>);
}

/// `y = σ(x)` elementwise.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn sigmoid(x: &[f32], y: &mut [f32]) {
    math::map(x, y, math::sigmoid::<Fused>);
}

/// `y = eˣ` elementwise.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn exp(x: &[f32], y: &mut [f32]) {
    math::map(x, y, math::exp::<Fused>);
}

/// `y = eˣ − 1` elementwise.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn expm1(x: &[f32], y: &mut [f32]) {
    math::map(x, y, math::expm1::<Fused>);
}

/// `y = ln(1 + x)` elementwise.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn ln_1p(x: &[f32], y: &mut [f32]) {
    math::map(x, y, math::ln_1p::<Fused>);
}
