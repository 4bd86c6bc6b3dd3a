//! Large Dense products through `matrixmultiply` (feature `matrixmultiply`, off by default),
//! above a size where its packed, cache-blocked kernels beat the register-blocked loops of
//! `dense.rs`.
//!
//! `matrixmultiply` allocates a packing buffer on every call, so these paths allocate: the
//! feature is opt-in, and without it every product runs on the allocation-free kernels at
//! every size (`tests/no_alloc.rs` checks M at batches 32 and 256).

use core::any::TypeId;

use crate::scalar::Scalar;

/// Rows below which the blocked loops win (packing costs more than it saves).
const MIN_ROWS: usize = 16;
/// Multiply-adds (`rows·IN·OUT`) below which the blocked loops win.
const MIN_WORK: usize = 1 << 18;

/// Whether a product of `rows × inputs × outputs` goes to `matrixmultiply`.
#[inline(always)]
pub(crate) fn worth_it(rows: usize, inputs: usize, outputs: usize) -> bool {
    rows >= MIN_ROWS && rows * inputs * outputs >= MIN_WORK
}

/// `C ← A·B + β·C` for row-major views given by strides, in `T` (`f32` or `f64`).
///
/// # Safety
/// Every element `A[r·rsa + c·csa]` (`r < m`, `c < k`), `B[r·rsb + c·csb]` (`r < k`, `c < n`)
/// and `C[r·rsc + c·csc]` (`r < m`, `c < n`) must be in bounds of the pointed-to buffers,
/// and `C` must not overlap `A` or `B`.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm<T: Scalar>(
    (m, k, n): (usize, usize, usize),
    a: *const T,
    (rsa, csa): (usize, usize),
    b: *const T,
    (rsb, csb): (usize, usize),
    beta: T,
    c: *mut T,
    (rsc, csc): (usize, usize),
) {
    let s = |x: usize| x as isize;
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: T is f32 (same TypeId), so the casts are identities; the caller guarantees
        // the bounds and the absence of overlap.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.cast(),
                s(rsa),
                s(csa),
                b.cast(),
                s(rsb),
                s(csb),
                beta.to_f64() as f32,
                c.cast(),
                s(rsc),
                s(csc),
            );
        }
    } else {
        // SAFETY: Scalar is sealed to f32 and f64, and T is not f32: the casts are identities;
        // the caller guarantees the bounds and the absence of overlap.
        unsafe {
            matrixmultiply::dgemm(
                m,
                k,
                n,
                1.0,
                a.cast(),
                s(rsa),
                s(csa),
                b.cast(),
                s(rsb),
                s(csb),
                beta.to_f64(),
                c.cast(),
                s(rsc),
                s(csc),
            );
        }
    }
}

/// `z[b] = bias + x[b]·W` for every row.
pub(crate) fn dense_forward<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[[T; IN]],
    z: &mut [[T; OUT]],
) {
    let rows = x.len().min(z.len());
    for zb in z[..rows].iter_mut() {
        *zb = *bias;
    }
    // SAFETY: A = x is rows×IN (row stride IN), B = w is IN×OUT (row stride OUT), C = z is
    // rows×OUT (row stride OUT), all within their slices; z is a distinct &mut borrow.
    unsafe {
        gemm::<T>(
            (rows, IN, OUT),
            x.as_ptr().cast(),
            (IN, 1),
            w.as_ptr().cast(),
            (OUT, 1),
            T::one(),
            z.as_mut_ptr().cast(),
            (OUT, 1),
        );
    }
}

/// `g += xᵀ·dz` (IN×OUT) and `g_bias += Σ_b dz[b]`.
pub(crate) fn dense_param_grads<T: Scalar, const IN: usize, const OUT: usize>(
    x: &[[T; IN]],
    dz: &[[T; OUT]],
    g: &mut [[T; OUT]; IN],
    g_bias: &mut [T; OUT],
) {
    let rows = x.len().min(dz.len());
    for dzb in &dz[..rows] {
        for o in 0..OUT {
            g_bias[o] += dzb[o];
        }
    }
    // SAFETY: A = xᵀ is IN×rows (element (i, b) at b·IN + i), B = dz is rows×OUT, C = g is
    // IN×OUT, all within their slices; g is a distinct &mut borrow.
    unsafe {
        gemm::<T>(
            (IN, rows, OUT),
            x.as_ptr().cast(),
            (1, IN),
            dz.as_ptr().cast(),
            (OUT, 1),
            T::one(),
            g.as_mut_ptr().cast(),
            (OUT, 1),
        );
    }
}

/// `dx[b] = dz[b]·Wᵀ` (rows×IN).
pub(crate) fn dense_input_grads<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    dz: &[[T; OUT]],
    dx: &mut [[T; IN]],
) {
    let rows = dz.len().min(dx.len());
    // SAFETY: A = dz is rows×OUT, B = wᵀ is OUT×IN (element (o, i) at i·OUT + o), C = dx is
    // rows×IN, all within their slices; dx is a distinct &mut borrow.
    unsafe {
        gemm::<T>(
            (rows, OUT, IN),
            dz.as_ptr().cast(),
            (OUT, 1),
            w.as_ptr().cast(),
            (1, OUT),
            T::zero(),
            dx.as_mut_ptr().cast(),
            (IN, 1),
        );
    }
}
