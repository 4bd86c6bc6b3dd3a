//! Low-level kernels: the only module whose source has `unsafe` code (two of its macros,
//! `impl_zero_bits!` and `init_fields!`, expand checked `unsafe` items where a type is
//! defined: see `heap.rs`).
//!
//! Every `unsafe` block carries a `// SAFETY:` line. The module holds the Dense products over
//! a batch of rows (`dense.rs`), ReLU-style clamps in place (`clamp.rs`), the `f32`
//! depthwise convolution's rows (`depthwise.rs`), the vectorizable
//! `f32` transcendentals (`math.rs`), their
//! AVX2+FMA builds (`x86.rs`, chosen at run time by `dispatch.rs`), and heap construction
//! (`heap.rs`: in place through `Zeros::zeros_in_place`, and zeroed behind [`ZeroBits`]),
//! and the int8 kernels (`int8.rs`, `int8_packed.rs`, `int8_window.rs`, `int8_depthwise.rs`,
//! `int8_requantize.rs`: portable, AVX2 and AVX-512 builds with the same bits). Each vector
//! kernel is tested against its portable twin (`accuracy.rs`, `tests.rs`, and each int8
//! file's own tests).

pub(crate) mod adam;
mod clamp;
mod dense;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod dense_narrow;
mod depthwise;
mod dispatch;
mod fixed_point;
#[cfg(feature = "matrixmultiply")]
mod gemm;
mod heap;
mod int8;
mod int8_depthwise;
mod int8_packed;
mod int8_requantize;
mod int8_window;
pub(crate) mod lane_sums;
pub(crate) mod math;
#[cfg(feature = "std")]
pub(crate) mod peak;
mod scalar_types;

use crate::scalar::Scalar;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86;

pub(crate) use clamp::{clamp_in_place, portable as clamp_values};
pub(crate) use depthwise::{DepthwiseRow, depthwise_row, depthwise_vectorized};
pub use dispatch::{SimdLevel, simd_level};
pub use fixed_point::{
    QuantizedMultiplier, rounding_divide_by_pot, saturating_rounding_doubling_high_mul,
};
#[cfg(feature = "std")]
pub use heap::zeroed_box;
#[allow(deprecated)]
pub use heap::{ZeroBits, impl_zero_bits_without_unsafe, require_zero_bits};
pub(crate) use heap::{assert_initialized, every_field, init_fields, uninit_field};
#[cfg(feature = "std")]
pub(crate) use heap::{boxed_with, boxed_zeros};
pub(crate) use int8::int8_matvec;
pub(crate) use int8_depthwise::{DepthwiseImage, SPAN as DEPTHWISE_SPAN, int8_depthwise};
pub(crate) use int8_packed::{
    int8_eight_pixels, int8_packed_product, int8_packed_rows, packable, packed_index,
};
pub(crate) use int8_requantize::{AddParams, int8_add, int8_requantize};
pub(crate) use int8_window::{WindowRuns, int8_window_product, int8_windows_in_place};

/// Chooses the AVX2+FMA build of a kernel when the CPU has it, else the portable one.
macro_rules! dispatch {
    ($fast:expr, $portable:expr) => {{
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if dispatch::use_avx2_fma() {
            // SAFETY: `use_avx2_fma` checked that this CPU has AVX2 and FMA.
            return unsafe { $fast };
        }
        $portable
    }};
}

/// Defines a dispatching elementwise `f32` kernel: the AVX2+FMA build when the CPU has it,
/// else the portable loop.
macro_rules! elementwise {
    ($(#[$doc:meta])* $name:ident = $function:ident) => {
        $(#[$doc])*
        #[inline]
        pub(crate) fn $name(x: &[f32], y: &mut [f32]) {
            dispatch!(
                x86::$function(x, y),
                math::map(x, y, math::$function::<math::Separate>)
            )
        }
    };
}

elementwise!(
    /// `y = tanh(x)`.
    tanh_f32 = tanh
);
elementwise!(
    /// `y = σ(x)`.
    sigmoid_f32 = sigmoid
);
elementwise!(
    /// `y = erf(x)`.
    erf_f32 = erf
);
elementwise!(
    /// `y = eˣ`.
    exp_f32 = exp
);
elementwise!(
    /// `y = eˣ − 1`.
    expm1_f32 = expm1
);
elementwise!(
    /// `y = ln(1 + x)`, `x >= 0`.
    ln_1p_f32 = ln_1p
);

use core::any::TypeId;
use dense::{LANES_8, LONG_8, ROWS_8, WIDE_8};

pub(crate) use math::MulAdd;
use math::Separate;

/// Whether a batched product of `rows × inputs × outputs` takes the AVX-512 build (where the
/// CPU has it): 16 rows or more, 2¹⁸ multiply-adds or more, 64 outputs or more.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
fn large(rows: usize, inputs: usize, outputs: usize) -> bool {
    rows >= 16 && outputs >= 64 && rows * inputs * outputs >= 1 << 18
}

/// Dense forward: `z[b] = bias + Σᵢ x[b][i]·w[i]` for each row.
#[inline]
pub(crate) fn dense_forward<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[[T; IN]],
    z: &mut [[T; OUT]],
) {
    #[cfg(feature = "matrixmultiply")]
    if gemm::worth_it(x.len(), IN, OUT) {
        return gemm::dense_forward(w, bias, x, z);
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if large(x.len(), IN, OUT) && dispatch::simd_level() == SimdLevel::Avx512 {
        // SAFETY: the level is Avx512 only when the CPU has AVX-512F, AVX2 and FMA.
        return unsafe { x86::dense_forward_avx512::<T, IN, OUT>(w, bias, x, z) };
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if const { dense_narrow::fits(OUT) }
        && x.len() >= 12
        && TypeId::of::<T>() == TypeId::of::<f32>()
        && dispatch::simd_level() == SimdLevel::Avx512
    {
        // SAFETY: T is f32 (same TypeId), so each reference is to the same memory with
        // the same layout as f32 (the borrows are the caller's); the level is Avx512 only
        // when the CPU has AVX-512F, AVX2 and FMA.
        return unsafe {
            dense_narrow::forward::<IN, OUT>(
                &*(w as *const [[T; OUT]; IN]).cast::<[[f32; OUT]; IN]>(),
                &*(bias as *const [T; OUT]).cast::<[f32; OUT]>(),
                core::slice::from_raw_parts(x.as_ptr().cast::<[f32; IN]>(), x.len()),
                core::slice::from_raw_parts_mut(z.as_mut_ptr().cast::<[f32; OUT]>(), z.len()),
            )
        };
    }
    dispatch!(
        x86::dense_forward::<T, IN, OUT>(w, bias, x, z),
        dense::forward::<T, Separate, IN, OUT, ROWS_8, WIDE_8, LONG_8, LANES_8>(w, bias, x, z)
    )
}

/// Dense forward of one sample: `z = bias + Σᵢ x[i]·w[i]`.
#[inline]
pub(crate) fn dense_forward_row<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[T; IN],
    z: &mut [T; OUT],
) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if OUT >= 64 && dispatch::simd_level() == SimdLevel::Avx512 {
        // SAFETY: the level is Avx512 only when the CPU has AVX-512F, AVX2 and FMA.
        return unsafe { x86::dense_forward_row_avx512::<T, IN, OUT>(w, bias, x, z) };
    }
    dispatch!(
        x86::dense_forward_row::<T, IN, OUT>(w, bias, x, z),
        dense::forward_row::<T, Separate, IN, OUT, LONG_8, LANES_8>(w, bias, x, z)
    )
}

/// [`dense_forward_row`] as a call of its own, never inlined: what a layer streamed inside
/// an instruction-set task calls, so that its input is read from memory (broadcast straight
/// from a load) whatever the task keeps in registers. The same kernel and bits.
#[inline(never)]
pub(crate) fn dense_forward_row_call<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[T; IN],
    z: &mut [T; OUT],
) {
    dense_forward_row(w, bias, x, z);
}

/// Dense input gradient of one sample: `dx[i] = Σₒ dz[o]·w[i][o]`.
#[inline]
pub(crate) fn dense_input_grads_row<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    dz: &[T; OUT],
    dx: &mut [T; IN],
) {
    dispatch!(
        x86::dense_input_grads_row::<T, IN, OUT>(w, dz, dx),
        dense::input_grads_row::<T, Separate, IN, OUT, LANES_8>(w, dz, dx)
    )
}

/// Dense parameter gradients: `g[i] += Σ_b x[b][i]·dz[b]`, `g_bias += Σ_b dz[b]`.
#[inline]
pub(crate) fn dense_param_grads<T: Scalar, const IN: usize, const OUT: usize>(
    x: &[[T; IN]],
    dz: &[[T; OUT]],
    g: &mut [[T; OUT]; IN],
    g_bias: &mut [T; OUT],
) {
    #[cfg(feature = "matrixmultiply")]
    if gemm::worth_it(x.len(), IN, OUT) {
        return gemm::dense_param_grads(x, dz, g, g_bias);
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if large(x.len(), IN, OUT) && dispatch::simd_level() == SimdLevel::Avx512 {
        // SAFETY: the level is Avx512 only when the CPU has AVX-512F, AVX2 and FMA.
        return unsafe { x86::dense_param_grads_avx512::<T, IN, OUT>(x, dz, g, g_bias) };
    }
    dispatch!(
        x86::dense_param_grads::<T, IN, OUT>(x, dz, g, g_bias),
        dense::param_grads::<T, Separate, IN, OUT, ROWS_8, WIDE_8, LONG_8>(x, dz, g, g_bias)
    )
}

/// Dense input gradients: `dx[b][i] = Σₒ dz[b][o]·w[i][o]`.
#[inline]
pub(crate) fn dense_input_grads<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    dz: &[[T; OUT]],
    dx: &mut [[T; IN]],
) {
    #[cfg(feature = "matrixmultiply")]
    if gemm::worth_it(dz.len(), IN, OUT) {
        return gemm::dense_input_grads(w, dz, dx);
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if large(dz.len(), IN, OUT) && dispatch::simd_level() == SimdLevel::Avx512 {
        // SAFETY: the level is Avx512 only when the CPU has AVX-512F, AVX2 and FMA.
        return unsafe { x86::dense_input_grads_avx512::<T, IN, OUT>(w, dz, dx) };
    }
    dispatch!(
        x86::dense_input_grads::<T, IN, OUT>(w, dz, dx),
        dense::input_grads::<T, Separate, IN, OUT, WIDE_8, LONG_8, LANES_8>(w, dz, dx)
    )
}

/// A piece of work (a chain's pass over its layers) that can be compiled in one function for
/// an instruction set: `run` is `#[inline(always)]` in implementations, so it and what it
/// inlines (nested chains, the layers' kernels) take the caller's target features.
pub(crate) trait SimdTask {
    /// What the work returns.
    type Output;
    /// Does the work. `M` says how the function it is compiled into evaluates `a·b + c`
    /// ([`math::Fused`] inside the AVX2+FMA function, [`math::Separate`] elsewhere): work
    /// that calls kernels through [`InTask<M>`] gets them inlined, with the same bits the
    /// dispatching kernels give.
    fn run<M: MulAdd>(self) -> Self::Output;
}

/// The kernels a single-sample forward (a layer's [`forward_with`](crate::Layer::forward_with),
/// a recurrent cell's step) calls, chosen by where it runs: each call dispatching for itself,
/// or inlined into the [`SimdTask`] it runs in. Implemented only inside the crate (sealed).
#[doc(hidden)]
pub trait Kernels: sealed::Sealed {
    /// Whether the task has AVX-512's 32 vector registers of 16 floats (register blocks may
    /// grow; the arithmetic, and so the bits, stay the same).
    const WIDE: bool;
    /// Whether the task multiplies and adds with one rounding (fused multiply-add).
    const FUSED: bool;
    /// Dense forward of one row (`z = bias + Σᵢ x[i]·w[i]`).
    fn dense_forward_row<T: Scalar, const IN: usize, const OUT: usize>(
        w: &[[T; OUT]; IN],
        bias: &[T; OUT],
        x: &[T; IN],
        z: &mut [T; OUT],
    );
    /// Dense forward of a batch of rows (`z[b] = bias + Σᵢ x[b][i]·w[i]`, every output one
    /// chain over the inputs in order: the bits of [`dense_forward_row`](Kernels::dense_forward_row)),
    /// register-blocked over the rows for the task's vectors.
    fn dense_forward_rows<T: Scalar, const IN: usize, const OUT: usize>(
        w: &[[T; OUT]; IN],
        bias: &[T; OUT],
        x: &[[T; IN]],
        z: &mut [[T; OUT]],
    );
    /// The gate products of one row (`z[k] = init[k] + Σᵢ x[i]·w[k][i]`).
    fn gates_forward_row<T: Scalar, const IN: usize, const H: usize, const G: usize>(
        w: &[[[T; H]; IN]; G],
        init: &[[T; H]; G],
        x: &[T; IN],
        z: &mut [[T; H]; G],
    );
    /// `y = tanh(x)` elementwise.
    fn tanh<T: Scalar>(x: &[T], y: &mut [T]);
    /// `y = σ(x)` elementwise (the activation's accuracy: [`Scalar::sigmoid_slice`]).
    fn sigmoid<T: Scalar>(x: &[T], y: &mut [T]);
    /// `a·b + c`, fused where the task has FMA (one rounding), else a multiply and an add.
    fn mul_add<T: Scalar>(a: T, b: T, c: T) -> T;
    /// Dense parameter gradients of one row: `g[i] += x[i]·dz`, `g_bias += dz`.
    fn dense_param_grads_row<T: Scalar, const IN: usize, const OUT: usize>(
        x: &[T; IN],
        dz: &[T; OUT],
        g: &mut [[T; OUT]; IN],
        g_bias: &mut [T; OUT],
    );
    /// Dense input gradient of one row: `dx[i] = Σₒ dz[o]·w[i][o]`.
    fn dense_input_grads_row<T: Scalar, const IN: usize, const OUT: usize>(
        w: &[[T; OUT]; IN],
        dz: &[T; OUT],
        dx: &mut [T; IN],
    );
    /// `y = σ(x)` elementwise for a recurrent cell's gates: [`math::gate_sigmoid`] in `f32`
    /// (an absolute error bound, half the latency of [`math::sigmoid`]), `libm` in `f64`.
    fn gate_sigmoid<T: Scalar>(x: &[T], y: &mut [T]);
    /// [`gate_sigmoid`](Kernels::gate_sigmoid) in place.
    fn gate_sigmoid_in_place<T: Scalar>(y: &mut [T]);
    /// [`tanh`](Kernels::tanh) in place.
    fn tanh_in_place<T: Scalar>(y: &mut [T]);
    /// `(Σₛ Σ_b a(s)[b] · v_r(s)[b] for each r, Σₛ Σ_b a(s)[b])`, where
    /// `step(s) = (a(s), [v_r(s)])` (see `lane_sums`).
    fn lane_dots<'a, T: Scalar, S: 'a, const B: usize, const R: usize>(
        steps: &'a [S],
        step: impl Fn(&'a S) -> (&'a [T; B], [&'a [T; B]; R]),
    ) -> ([T; R], T);
}

mod sealed {
    /// Only the crate's kernel sets implement [`Kernels`](super::Kernels).
    pub trait Sealed {}
    impl<M> Sealed for super::InTask<M> {}
}

/// The kernels inlined into a [`SimdTask`] of flavour `M`: the same functions the
/// dispatching kernels pick in that task's instruction set (the same bits for the Dense
/// product and the activations), with no call per kernel.
pub(crate) struct InTask<M>(core::marker::PhantomData<M>);

/// `x` as `f32`s when `T` is `f32`.
#[inline(always)]
fn as_f32<T: Scalar>(x: &[T]) -> Option<&[f32]> {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: T is f32 (same TypeId): the same type, length and alignment.
        Some(unsafe { core::slice::from_raw_parts(x.as_ptr().cast::<f32>(), x.len()) })
    } else {
        None
    }
}

/// `y` as `f32`s when `T` is `f32`.
#[inline(always)]
fn as_f32_mut<T: Scalar>(y: &mut [T]) -> Option<&mut [f32]> {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: T is f32 (same TypeId): the same type, length and alignment; the borrow
        // is the caller's exclusive one.
        Some(unsafe { core::slice::from_raw_parts_mut(y.as_mut_ptr().cast::<f32>(), y.len()) })
    } else {
        None
    }
}

impl<M: MulAdd> Kernels for InTask<M> {
    const WIDE: bool = M::WIDE;
    const FUSED: bool = M::FUSED;
    #[inline(always)]
    fn mul_add<T: Scalar>(a: T, b: T, c: T) -> T {
        M::mul_add(a, b, c)
    }
    #[inline(always)]
    fn dense_param_grads_row<T: Scalar, const IN: usize, const OUT: usize>(
        x: &[T; IN],
        dz: &[T; OUT],
        g: &mut [[T; OUT]; IN],
        g_bias: &mut [T; OUT],
    ) {
        dense::param_grads::<T, M, IN, OUT, ROWS_8, WIDE_8, LONG_8>(
            core::slice::from_ref(x),
            core::slice::from_ref(dz),
            g,
            g_bias,
        );
    }
    #[inline(always)]
    fn dense_input_grads_row<T: Scalar, const IN: usize, const OUT: usize>(
        w: &[[T; OUT]; IN],
        dz: &[T; OUT],
        dx: &mut [T; IN],
    ) {
        dense::input_grads_row::<T, M, IN, OUT, LANES_8>(w, dz, dx);
    }
    #[inline(always)]
    fn dense_forward_row<T: Scalar, const IN: usize, const OUT: usize>(
        w: &[[T; OUT]; IN],
        bias: &[T; OUT],
        x: &[T; IN],
        z: &mut [T; OUT],
    ) {
        if OUT >= 64 {
            // Wide rows may take the AVX-512 kernel: keep its choice.
            return dense_forward_row(w, bias, x, z);
        }
        dense::forward_row::<T, M, IN, OUT, LONG_8, LANES_8>(w, bias, x, z);
    }
    #[inline(always)]
    fn dense_forward_rows<T: Scalar, const IN: usize, const OUT: usize>(
        w: &[[T; OUT]; IN],
        bias: &[T; OUT],
        x: &[[T; IN]],
        z: &mut [[T; OUT]],
    ) {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if M::WIDE {
            use dense::{LANES_16, LONG_16, ROWS_16, WIDE_16};
            return dense::forward::<T, M, IN, OUT, ROWS_16, WIDE_16, LONG_16, LANES_16>(
                w, bias, x, z,
            );
        }
        dense::forward::<T, M, IN, OUT, ROWS_8, WIDE_8, LONG_8, LANES_8>(w, bias, x, z);
    }
    #[inline(always)]
    fn gates_forward_row<T: Scalar, const IN: usize, const H: usize, const G: usize>(
        w: &[[[T; H]; IN]; G],
        init: &[[T; H]; G],
        x: &[T; IN],
        z: &mut [[T; H]; G],
    ) {
        dense::gates_forward_row::<T, M, IN, H, G>(w, init, x, z);
    }
    #[inline(always)]
    fn gate_sigmoid_in_place<T: Scalar>(y: &mut [T]) {
        match as_f32_mut(y) {
            Some(y) => math::map_in_place(y, math::gate_sigmoid::<M>),
            None => copied_in_place(y, T::sigmoid_slice),
        }
    }
    #[inline(always)]
    fn tanh_in_place<T: Scalar>(y: &mut [T]) {
        match as_f32_mut(y) {
            Some(y) => math::map_in_place(y, math::tanh::<M>),
            None => copied_in_place(y, T::tanh_slice),
        }
    }
    #[inline(always)]
    fn lane_dots<'a, T: Scalar, S: 'a, const B: usize, const R: usize>(
        steps: &'a [S],
        step: impl Fn(&'a S) -> (&'a [T; B], [&'a [T; B]; R]),
    ) -> ([T; R], T) {
        lane_sums::lane_dots::<T, M, S, B, R>(steps, step)
    }
    #[inline(always)]
    fn gate_sigmoid<T: Scalar>(x: &[T], y: &mut [T]) {
        match (as_f32(x), as_f32_mut(y)) {
            (Some(x), Some(y)) => math::map(x, y, math::gate_sigmoid::<M>),
            _ => T::sigmoid_slice(x, y),
        }
    }
    #[inline(always)]
    fn tanh<T: Scalar>(x: &[T], y: &mut [T]) {
        match (as_f32(x), as_f32_mut(y)) {
            (Some(x), Some(y)) => math::map(x, y, math::tanh::<M>),
            _ => T::tanh_slice(x, y),
        }
    }
    #[inline(always)]
    fn sigmoid<T: Scalar>(x: &[T], y: &mut [T]) {
        match (as_f32(x), as_f32_mut(y)) {
            (Some(x), Some(y)) => math::map(x, y, math::sigmoid::<M>),
            _ => T::sigmoid_slice(x, y),
        }
    }
}

/// `y = f(y)` for a slice function of separate input and output, through a copied block.
#[inline(always)]
fn copied_in_place<T: Scalar>(y: &mut [T], f: impl Fn(&[T], &mut [T])) {
    const BLOCK: usize = 16;
    for chunk in y.chunks_mut(BLOCK) {
        let mut x = [T::zero(); BLOCK];
        x[..chunk.len()].copy_from_slice(chunk);
        f(&x[..chunk.len()], chunk);
    }
}

/// Runs `task` in an AVX2+FMA function when the CPU has them (one dispatch for a whole
/// chain), else as is.
#[inline(always)]
pub(crate) fn in_best_simd<F: SimdTask>(task: F) -> F::Output {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if dispatch::use_avx2_fma() {
        // SAFETY: `use_avx2_fma` checked that this CPU has AVX2 and FMA.
        return unsafe { x86::run_task(task) };
    }
    run_portable(task)
}

/// `task.run()` with the portable kernels. Where vector builds exist it is a call of its own:
/// inlined, it put a second copy of the task's stack frame in the caller's (a chain's
/// forward keeps its activations there: VWW's single-image `forward` needed 1.8 MiB of stack
/// instead of 0.9).
#[cfg_attr(all(feature = "std", target_arch = "x86_64"), inline(never))]
#[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), inline(always))]
fn run_portable<F: SimdTask>(task: F) -> F::Output {
    task.run::<math::Separate>()
}

/// As [`in_best_simd`], but compiled with AVX-512F too when the CPU has it and `wide` says
/// the task's vectors are wide enough to gain from it (the same bits either way).
#[inline(always)]
pub(crate) fn in_best_simd_wide<F: SimdTask>(task: F, wide: bool) -> F::Output {
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    let _ = wide;
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if wide && dispatch::simd_level() == SimdLevel::Avx512 {
        // SAFETY: the level is Avx512 only when the CPU has AVX-512F, AVX2 and FMA.
        return unsafe { x86::run_task_avx512(task) };
    }
    in_best_simd(task)
}

/// Whether [`in_best_simd_wide`] with this `wide` runs its task with AVX-512 (32 vector
/// registers of 64 bytes), for work that sizes its register blocks by it.
#[inline(always)]
pub(crate) fn runs_avx512(wide: bool) -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    return wide && dispatch::simd_level() == SimdLevel::Avx512;
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        let _ = wide;
        false
    }
}

/// The Adam-family update of one tensor (the same bits on both paths: no fused operations).
#[inline]
pub(crate) fn adam_update<T: Scalar>(
    s: &adam::AdamStep<T>,
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    v_max: Option<&mut [T]>,
) {
    dispatch!(
        x86::adam_update(s, p, g, m, v, v_max),
        adam::update(s, p, g, m, v, v_max)
    )
}

#[cfg(all(test, feature = "std"))]
mod accuracy;
#[cfg(all(test, feature = "std"))]
mod tests;
