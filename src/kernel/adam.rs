//! The Adam-family update over whole tensors: indexed loops over slices of one length, with
//! the loop-invariant choices (decoupled decay, AMSGrad) hoisted out, so the compiler
//! vectorizes them, square root and division included. Plain multiplies and adds (no fused
//! multiply-add), so the AVX2 build gives the same bits as the portable one.

use crate::scalar::Scalar;

/// The per-step coefficients of an Adam or AdamW update, in the model's scalar.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamStep<T> {
    pub(crate) beta1: T,
    pub(crate) one_minus_beta1: T,
    pub(crate) beta2: T,
    pub(crate) one_minus_beta2: T,
    /// Coupled L2 decay: `g += wd·θ`.
    pub(crate) wd: T,
    /// Decoupled decay factor: `θ *= decay` first, when `decoupled`.
    pub(crate) decay: T,
    pub(crate) decoupled: bool,
    /// `lr / (1 − β1ᵗ)`.
    pub(crate) step_size: T,
    /// `1/sqrt(1 − β2ᵗ)`: PyTorch divides `sqrt(v)` by `sqrt(1 − β2ᵗ)`; a multiplication
    /// by the reciprocal (rounded once, in `f64`) differs in the last bit at most and leaves
    /// one division per element instead of two (the divider is what bounds this loop).
    pub(crate) inv_bias_correction2_sqrt: T,
    pub(crate) eps: T,
}

/// `x`, or zero when `x` is subnormal. Optimizer state that decays geometrically (a moment
/// whose gradient stays zero, as for a dead ReLU unit) would otherwise sink into the
/// subnormal range, where `0.9·x` can round back to `x` and every later step runs 10–100×
/// slower on x86. Flushing changes a parameter by less than `lr·2⁻¹²⁶/eps`, far below its
/// rounding; PyTorch's CPU optimizers keep such values (unless `torch.set_flush_denormal`).
#[inline(always)]
pub(crate) fn flush_subnormal<T: Scalar>(x: T) -> T {
    if x.abs() < T::min_positive_value() {
        T::zero()
    } else {
        x
    }
}

/// `max(a, b)` that propagates a NaN from either side, like `torch.maximum`.
#[inline(always)]
pub(crate) fn nan_max<T: Scalar>(a: T, b: T) -> T {
    if a.is_nan() || a >= b { a } else { b }
}

/// One element: decay, moments, and the step; returns nothing, updates in place.
#[inline(always)]
fn element<T: Scalar, const DECOUPLED: bool, const AMSGRAD: bool>(
    s: &AdamStep<T>,
    p: &mut T,
    g: T,
    m: &mut T,
    v: &mut T,
    v_max: &mut T,
) {
    if DECOUPLED {
        *p *= s.decay;
    }
    let g = g + s.wd * *p;
    *m = flush_subnormal(s.beta1 * *m + s.one_minus_beta1 * g);
    *v = flush_subnormal(s.beta2 * *v + s.one_minus_beta2 * (g * g));
    let second_moment = if AMSGRAD {
        *v_max = nan_max(*v_max, *v);
        *v_max
    } else {
        *v
    };
    let denom = second_moment.sqrt() * s.inv_bias_correction2_sqrt + s.eps;
    *p -= s.step_size * (*m / denom);
}

#[inline(always)]
fn tensor<T: Scalar, const DECOUPLED: bool, const AMSGRAD: bool>(
    s: &AdamStep<T>,
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    v_max: &mut [T],
) {
    let n = p.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    if AMSGRAD {
        let v_max = &mut v_max[..n];
        for i in 0..n {
            element::<T, DECOUPLED, AMSGRAD>(
                s,
                &mut p[i],
                g[i],
                &mut m[i],
                &mut v[i],
                &mut v_max[i],
            );
        }
    } else {
        let mut unused = T::zero();
        for i in 0..n {
            element::<T, DECOUPLED, AMSGRAD>(s, &mut p[i], g[i], &mut m[i], &mut v[i], &mut unused);
        }
    }
}

/// The update of one tensor (`v_max` only with AMSGrad).
#[inline(always)]
pub(crate) fn update<T: Scalar>(
    s: &AdamStep<T>,
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    v_max: Option<&mut [T]>,
) {
    match (s.decoupled, v_max) {
        (false, None) => tensor::<T, false, false>(s, p, g, m, v, &mut []),
        (true, None) => tensor::<T, true, false>(s, p, g, m, v, &mut []),
        (false, Some(vm)) => tensor::<T, false, true>(s, p, g, m, v, vm),
        (true, Some(vm)) => tensor::<T, true, true>(s, p, g, m, v, vm),
    }
}
