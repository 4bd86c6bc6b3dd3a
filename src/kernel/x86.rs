//! The AVX2+FMA variants of the kernels: the portable bodies, compiled again with
//! `#[target_feature(enable = "avx2,fma")]` so the compiler vectorizes them 8 floats wide
//! and fuses multiply-adds. Callers reach them only through the dispatching functions in
//! `kernel/mod.rs`, after [`use_avx2_fma`](super::dispatch::use_avx2_fma) said yes.

use super::math::{self, Fused};
use super::{adam, dense};
use crate::scalar::Scalar;

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

/// Dense forward over rows (see `dense::forward`).
#[target_feature(enable = "avx2,fma")]
pub(crate) fn dense_forward<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[[T; IN]],
    z: &mut [[T; OUT]],
) {
    dense::forward::<T, Fused, IN, OUT>(w, bias, x, z);
}

/// Dense parameter gradients (see `dense::param_grads`).
#[target_feature(enable = "avx2,fma")]
pub(crate) fn dense_param_grads<T: Scalar, const IN: usize, const OUT: usize>(
    x: &[[T; IN]],
    dz: &[[T; OUT]],
    g: &mut [[T; OUT]; IN],
    g_bias: &mut [T; OUT],
) {
    dense::param_grads::<T, Fused, IN, OUT>(x, dz, g, g_bias);
}

/// Dense input gradients (see `dense::input_grads`).
#[target_feature(enable = "avx2,fma")]
pub(crate) fn dense_input_grads<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    dz: &[[T; OUT]],
    dx: &mut [[T; IN]],
) {
    dense::input_grads::<T, Fused, IN, OUT>(w, dz, dx);
}

/// Dense forward of one sample (see `dense::forward_row`).
#[target_feature(enable = "avx2,fma")]
pub(crate) fn dense_forward_row<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[T; IN],
    z: &mut [T; OUT],
) {
    dense::forward_row::<T, Fused, IN, OUT>(w, bias, x, z);
}

/// Dense input gradient of one sample (see `dense::input_grads_row`).
#[target_feature(enable = "avx2,fma")]
pub(crate) fn dense_input_grads_row<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    dz: &[T; OUT],
    dx: &mut [T; IN],
) {
    dense::input_grads_row::<T, Fused, IN, OUT>(w, dz, dx);
}

/// The Adam-family update of one tensor (see `adam::update`).
#[target_feature(enable = "avx2,fma")]
pub(crate) fn adam_update<T: Scalar>(
    s: &adam::AdamStep<T>,
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    v_max: Option<&mut [T]>,
) {
    adam::update(s, p, g, m, v, v_max);
}
