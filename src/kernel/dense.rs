//! The three products of a fully connected layer over a batch of rows, with input-major
//! weights `w[i][o]` (`[[T; OUT]; IN]`, PyTorch's `weight[o][i]`):
//!
//! - forward `z[b] = bias + Σᵢ x[b][i]·w[i]` — contiguous multiply-adds along `OUT`, four
//!   rows at a time so each weight row is loaded once per four samples;
//! - weight gradient `g[i] += Σ_b x[b][i]·dz[b]` — one pass over the gradient per batch (the
//!   row `g[i]` is read and written once, the batch is the inner loop);
//! - input gradient `dx[b][i] = Σₒ dz[b][o]·w[i][o]` — dot products along `OUT` with eight
//!   independent lanes.
//!
//! Each is generic over [`MulAdd`] so `x86.rs` can compile the same body with AVX2 and FMA.

use super::math::MulAdd;
use crate::scalar::Scalar;

/// Rows processed together by the forward kernel.
const ROWS: usize = 4;
/// Independent accumulator lanes of the dot products.
const LANES: usize = 8;

/// `z[b] = bias + Σᵢ x[b][i]·w[i]` for every row `b` of `x` (as many rows as `z`).
#[inline(always)]
pub(crate) fn forward<T: Scalar, M: MulAdd, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[[T; IN]],
    z: &mut [[T; OUT]],
) {
    let mut x_blocks = x.chunks_exact(ROWS);
    let mut z_blocks = z.chunks_exact_mut(ROWS);
    for (xb, zb) in (&mut x_blocks).zip(&mut z_blocks) {
        let [z0, z1, z2, z3] = zb else { unreachable!() };
        *z0 = *bias;
        *z1 = *bias;
        *z2 = *bias;
        *z3 = *bias;
        for (i, wi) in w.iter().enumerate() {
            let (a0, a1, a2, a3) = (xb[0][i], xb[1][i], xb[2][i], xb[3][i]);
            for o in 0..OUT {
                z0[o] = M::mul_add(a0, wi[o], z0[o]);
                z1[o] = M::mul_add(a1, wi[o], z1[o]);
                z2[o] = M::mul_add(a2, wi[o], z2[o]);
                z3[o] = M::mul_add(a3, wi[o], z3[o]);
            }
        }
    }
    for (xr, zr) in x_blocks.remainder().iter().zip(z_blocks.into_remainder()) {
        *zr = *bias;
        for (wi, &a) in w.iter().zip(xr.iter()) {
            for o in 0..OUT {
                zr[o] = M::mul_add(a, wi[o], zr[o]);
            }
        }
    }
}

/// `g[i] += Σ_b x[b][i]·dz[b]` and `g_bias += Σ_b dz[b]`.
#[inline(always)]
pub(crate) fn param_grads<T: Scalar, M: MulAdd, const IN: usize, const OUT: usize>(
    x: &[[T; IN]],
    dz: &[[T; OUT]],
    g: &mut [[T; OUT]; IN],
    g_bias: &mut [T; OUT],
) {
    for dzb in dz {
        for o in 0..OUT {
            g_bias[o] += dzb[o];
        }
    }
    for (i, gi) in g.iter_mut().enumerate() {
        let mut acc = *gi;
        for (xb, dzb) in x.iter().zip(dz.iter()) {
            let a = xb[i];
            for o in 0..OUT {
                acc[o] = M::mul_add(a, dzb[o], acc[o]);
            }
        }
        *gi = acc;
    }
}

/// `dx[b][i] = Σₒ dz[b][o]·w[i][o]`.
#[inline(always)]
pub(crate) fn input_grads<T: Scalar, M: MulAdd, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    dz: &[[T; OUT]],
    dx: &mut [[T; IN]],
) {
    for (dxb, dzb) in dx.iter_mut().zip(dz.iter()) {
        for (d, wi) in dxb.iter_mut().zip(w.iter()) {
            *d = dot::<T, M, OUT>(wi, dzb);
        }
    }
}

/// `Σ x·y` with [`LANES`] independent accumulators (vectorizes without reassociation).
#[inline(always)]
fn dot<T: Scalar, M: MulAdd, const N: usize>(x: &[T; N], y: &[T; N]) -> T {
    let mut acc = [T::zero(); LANES];
    let mut xs = x.chunks_exact(LANES);
    let mut ys = y.chunks_exact(LANES);
    for (xc, yc) in (&mut xs).zip(&mut ys) {
        for l in 0..LANES {
            acc[l] = M::mul_add(xc[l], yc[l], acc[l]);
        }
    }
    let mut tail = T::zero();
    for (&a, &b) in xs.remainder().iter().zip(ys.remainder()) {
        tail = M::mul_add(a, b, tail);
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}
