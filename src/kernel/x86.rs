//! The AVX2+FMA variants of the kernels: the portable bodies, compiled again with
//! `#[target_feature(enable = "avx2,fma")]` so the compiler vectorizes them 8 floats wide
//! and fuses multiply-adds. Callers reach them only through the dispatching functions in
//! `kernel/mod.rs`, after [`use_avx2_fma`](super::dispatch::use_avx2_fma) said yes.

use super::math::{self, Fused};
use super::{adam, dense};
use crate::scalar::Scalar;

/// `y = tanh(x)` elementwise.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn tanh(x: &[f32], y: &mut [f32]) {
    math::map(x, y, math::tanh::<Fused>);
}

/// `y = erf(x)` elementwise.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn erf(x: &[f32], y: &mut [f32]) {
    math::map(x, y, math::erf::<Fused>);
}

/// `y = σ(x)` elementwise.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn sigmoid(x: &[f32], y: &mut [f32]) {
    math::map(x, y, math::sigmoid::<Fused>);
}

/// `y = eˣ` elementwise.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn exp(x: &[f32], y: &mut [f32]) {
    math::map(x, y, math::exp::<Fused>);
}

/// `y = eˣ − 1` elementwise.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn expm1(x: &[f32], y: &mut [f32]) {
    math::map(x, y, math::expm1::<Fused>);
}

/// `y = ln(1 + x)` elementwise.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn ln_1p(x: &[f32], y: &mut [f32]) {
    math::map(x, y, math::ln_1p::<Fused>);
}

/// Defines the Dense kernels of one instruction set: `$features` for `#[target_feature]`,
/// and the block sizes of its vector width.
macro_rules! dense_kernels {
    ($features:literal, $wide:expr, $long:expr, $lanes:expr,
     $forward:ident, $forward_row:ident, $param_grads:ident, $input_grads:ident,
     $input_grads_row:ident) => {
        /// Dense forward over rows (see `dense::forward`).
        #[target_feature(enable = $features)]
        #[inline]
        pub(crate) fn $forward<T: Scalar, const IN: usize, const OUT: usize>(
            w: &[[T; OUT]; IN],
            bias: &[T; OUT],
            x: &[[T; IN]],
            z: &mut [[T; OUT]],
        ) {
            dense::forward::<T, Fused, IN, OUT, { dense::ROWS_8 }, { $wide }, { $long }, { $lanes }>(w, bias, x, z);
        }

        /// Dense forward of one sample (see `dense::forward_row`).
        #[target_feature(enable = $features)]
        #[inline]
        pub(crate) fn $forward_row<T: Scalar, const IN: usize, const OUT: usize>(
            w: &[[T; OUT]; IN],
            bias: &[T; OUT],
            x: &[T; IN],
            z: &mut [T; OUT],
        ) {
            dense::forward_row::<T, Fused, IN, OUT, { $long }, { $lanes }>(w, bias, x, z);
        }

        /// Dense parameter gradients (see `dense::param_grads`).
        #[target_feature(enable = $features)]
        #[inline]
        pub(crate) fn $param_grads<T: Scalar, const IN: usize, const OUT: usize>(
            x: &[[T; IN]],
            dz: &[[T; OUT]],
            g: &mut [[T; OUT]; IN],
            g_bias: &mut [T; OUT],
        ) {
            dense::param_grads::<T, Fused, IN, OUT, { dense::ROWS_8 }, { $wide }, { $long }>(
                x, dz, g, g_bias,
            );
        }

        /// Dense input gradients (see `dense::input_grads`).
        #[target_feature(enable = $features)]
        #[inline]
        pub(crate) fn $input_grads<T: Scalar, const IN: usize, const OUT: usize>(
            w: &[[T; OUT]; IN],
            dz: &[[T; OUT]],
            dx: &mut [[T; IN]],
        ) {
            dense::input_grads::<T, Fused, IN, OUT, { $wide }, { $long }, { $lanes }>(w, dz, dx);
        }

        /// Dense input gradient of one sample (see `dense::input_grads_row`).
        #[target_feature(enable = $features)]
        #[inline]
        pub(crate) fn $input_grads_row<T: Scalar, const IN: usize, const OUT: usize>(
            w: &[[T; OUT]; IN],
            dz: &[T; OUT],
            dx: &mut [T; IN],
        ) {
            dense::input_grads_row::<T, Fused, IN, OUT, { $lanes }>(w, dz, dx);
        }
    };
}

dense_kernels!(
    "avx2,fma",
    dense::WIDE_8,
    dense::LONG_8,
    dense::LANES_8,
    dense_forward,
    dense_forward_row,
    dense_param_grads,
    dense_input_grads,
    dense_input_grads_row
);
/// Large batched Dense products with 16-float vectors (AVX-512F): the portable bodies with
/// the AVX-512 block sizes, for 16+ rows, 64+ outputs and 2¹⁸+ multiply-adds (M at batch 256:
/// 696–720k samples/s against 450–484k with the AVX2 build, two alternating runs, when both
/// used 4-row blocks).
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) fn dense_forward_avx512<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[[T; IN]],
    z: &mut [[T; OUT]],
) {
    dense::forward::<
        T,
        Fused,
        IN,
        OUT,
        { dense::ROWS_16 },
        { dense::WIDE_16 },
        { dense::LONG_16 },
        { dense::LANES_16 },
    >(w, bias, x, z);
}

/// See [`dense_forward_avx512`]. The weight gradient's blocks are 6 inputs × 2 vectors of 16
/// (12 accumulators): with the forward's 12 inputs the compiler vectorized the loop over
/// the inputs with gathers, and M's backward took 2.5–4 ms instead of 35 µs.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) fn dense_param_grads_avx512<T: Scalar, const IN: usize, const OUT: usize>(
    x: &[[T; IN]],
    dz: &[[T; OUT]],
    g: &mut [[T; OUT]; IN],
    g_bias: &mut [T; OUT],
) {
    dense::param_grads::<
        T,
        Fused,
        IN,
        OUT,
        { dense::ROWS_8 },
        { dense::WIDE_16 },
        { dense::LONG_16 },
    >(x, dz, g, g_bias);
}

/// See [`dense_forward_avx512`].
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) fn dense_input_grads_avx512<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    dz: &[[T; OUT]],
    dx: &mut [[T; IN]],
) {
    dense::input_grads::<
        T,
        Fused,
        IN,
        OUT,
        { dense::WIDE_16 },
        { dense::LONG_16 },
        { dense::LANES_16 },
    >(w, dz, dx);
}

/// Dense forward of one sample with 16-float vectors (AVX-512F), for 64 outputs or more: it
/// measured faster there (S latency 177 → 132 ns in one `perf_report` run) and slower for
/// narrow layers.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) fn dense_forward_row_avx512<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[T; IN],
    z: &mut [T; OUT],
) {
    dense::forward_row::<T, Fused, IN, OUT, { dense::LONG_16 }, { dense::LANES_16 }>(w, bias, x, z);
}

/// The Adam-family update of one tensor (see `adam::update`).
#[target_feature(enable = "avx2,fma")]
#[inline]
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

/// `task.run()` in a function compiled with AVX2 and FMA: a chain's pass, and what it
/// inlines (nested chains, its layers' kernels), is compiled with them too, with no call
/// boundary between the layers.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn run_task<F: super::SimdTask>(task: F) -> F::Output {
    task.run::<Fused>()
}

/// `task.run()` in a function compiled with AVX-512F as well: the same operations as
/// [`run_task`] (the same bits), vectorized 16 floats wide where the task's arrays are.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
pub(crate) fn run_task_avx512<F: super::SimdTask>(task: F) -> F::Output {
    task.run::<super::math::FusedWide>()
}
