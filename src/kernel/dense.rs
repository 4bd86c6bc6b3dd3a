//! The three products of a fully connected layer over a batch of rows, with input-major
//! weights `w[i][o]` (`[[T; OUT]; IN]`, PyTorch's `weight[o][i]`), register-blocked so that
//! each has several independent multiply-add chains and reuses every load:
//!
//! - forward `z[b] = bias + Σᵢ x[b][i]·w[i]`: blocks of 4 rows × 16 outputs (each weight
//!   vector is loaded once per four samples), one row × 64 outputs for a lone row;
//! - weight gradient `g[i] += Σ_b x[b][i]·dz[b]`: 64 outputs of `g[i]` stay in registers while
//!   the batch streams past, so the gradient is read and written once per batch;
//! - input gradient `dx[b][i] = Σₒ dz[b][o]·w[i][o]`: 4 rows × 2 inputs of 8-lane partial dot
//!   products (eight chains), reduced at the end.
//!
//! Each is generic over [`MulAdd`] so `x86.rs` compiles the same body with AVX2 and FMA, and
//! over the sizes, which the compiler sees (all loop bounds are constants but the row count).

use super::math::MulAdd;
use crate::scalar::Scalar;

/// Outputs per block of the 4-row forward kernel.
const WIDE: usize = 16;
/// Outputs per block of the one-row kernels (forward remainder, weight gradient).
const LONG: usize = 64;
/// Lanes of the partial dot products.
const LANES: usize = 8;

/// `acc[k] += a·w[k]` over a block.
#[inline(always)]
fn axpy<T: Scalar, M: MulAdd, const N: usize>(a: T, w: &[T], acc: &mut [T; N]) {
    for k in 0..N {
        acc[k] = M::mul_add(a, w[k], acc[k]);
    }
}

/// `z[b] = bias + Σᵢ x[b][i]·w[i]` for every row `b` of `x` (as many rows as `z`).
#[inline(always)]
pub(crate) fn forward<T: Scalar, M: MulAdd, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[[T; IN]],
    z: &mut [[T; OUT]],
) {
    let mut x_blocks = x.chunks_exact(4);
    let mut z_blocks = z.chunks_exact_mut(4);
    for (xb, zb) in (&mut x_blocks).zip(&mut z_blocks) {
        forward_block::<T, M, IN, OUT, 4, WIDE>(w, bias, xb, zb);
    }
    for (xr, zr) in x_blocks.remainder().iter().zip(z_blocks.into_remainder()) {
        if OUT <= LONG {
            // The whole row in registers: OUT independent chains.
            let mut acc = *bias;
            for (wi, &a) in w.iter().zip(xr.iter()) {
                axpy::<T, M, OUT>(a, wi, &mut acc);
            }
            *zr = acc;
        } else {
            forward_block::<T, M, IN, OUT, 1, LONG>(
                w,
                bias,
                core::slice::from_ref(xr),
                core::slice::from_mut(zr),
            );
        }
    }
}

/// `R` rows of the forward product, `C` outputs at a time (then the narrower tail).
#[inline(always)]
fn forward_block<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const OUT: usize,
    const R: usize,
    const C: usize,
>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[[T; IN]],
    z: &mut [[T; OUT]],
) {
    let full = OUT / C * C;
    let mut start = 0;
    while start < full {
        let mut acc = [[T::zero(); C]; R];
        for a in acc.iter_mut() {
            a.copy_from_slice(&bias[start..start + C]);
        }
        for (i, wi) in w.iter().enumerate() {
            let wc = &wi[start..start + C];
            for r in 0..R {
                axpy::<T, M, C>(x[r][i], wc, &mut acc[r]);
            }
        }
        for r in 0..R {
            z[r][start..start + C].copy_from_slice(&acc[r]);
        }
        start += C;
    }
    if full < OUT {
        for r in 0..R {
            let zr = &mut z[r][full..];
            zr.copy_from_slice(&bias[full..]);
            for (i, wi) in w.iter().enumerate() {
                let a = x[r][i];
                for (zo, &wo) in zr.iter_mut().zip(&wi[full..]) {
                    *zo = M::mul_add(a, wo, *zo);
                }
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
    if OUT <= LONG {
        for (i, gi) in g.iter_mut().enumerate() {
            let mut acc = *gi;
            for (xb, dzb) in x.iter().zip(dz.iter()) {
                axpy::<T, M, OUT>(xb[i], dzb, &mut acc);
            }
            *gi = acc;
        }
        return;
    }
    let full = OUT / LONG * LONG;
    for (i, gi) in g.iter_mut().enumerate() {
        let mut start = 0;
        while start < full {
            let mut acc = [T::zero(); LONG];
            acc.copy_from_slice(&gi[start..start + LONG]);
            for (xb, dzb) in x.iter().zip(dz.iter()) {
                axpy::<T, M, LONG>(xb[i], &dzb[start..start + LONG], &mut acc);
            }
            gi[start..start + LONG].copy_from_slice(&acc);
            start += LONG;
        }
        if full < OUT {
            for (xb, dzb) in x.iter().zip(dz.iter()) {
                let a = xb[i];
                for (go, &d) in gi[full..].iter_mut().zip(&dzb[full..]) {
                    *go = M::mul_add(a, d, *go);
                }
            }
        }
    }
}

/// `dx[b][i] = Σₒ dz[b][o]·w[i][o]`.
#[inline(always)]
pub(crate) fn input_grads<T: Scalar, M: MulAdd, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    dz: &[[T; OUT]],
    dx: &mut [[T; IN]],
) {
    let mut dz_blocks = dz.chunks_exact(4);
    let mut dx_blocks = dx.chunks_exact_mut(4);
    for (db, xb) in (&mut dz_blocks).zip(&mut dx_blocks) {
        input_grads_block::<T, M, IN, OUT, 4>(w, db, xb);
    }
    for (dr, xr) in dz_blocks.remainder().iter().zip(dx_blocks.into_remainder()) {
        input_grads_block::<T, M, IN, OUT, 1>(
            w,
            core::slice::from_ref(dr),
            core::slice::from_mut(xr),
        );
    }
}

/// `R` rows of the input gradient, two inputs at a time.
#[inline(always)]
fn input_grads_block<T: Scalar, M: MulAdd, const IN: usize, const OUT: usize, const R: usize>(
    w: &[[T; OUT]; IN],
    dz: &[[T; OUT]],
    dx: &mut [[T; IN]],
) {
    let mut i = 0;
    while i + 2 <= IN {
        let sums = partial_dots::<T, M, OUT, R, 2>([&w[i], &w[i + 1]], dz);
        for r in 0..R {
            dx[r][i] = sums[r][0];
            dx[r][i + 1] = sums[r][1];
        }
        i += 2;
    }
    if i < IN {
        let sums = partial_dots::<T, M, OUT, R, 1>([&w[i]], dz);
        for r in 0..R {
            dx[r][i] = sums[r][0];
        }
    }
}

/// `Σₒ dz[r][o]·w[k][o]` for `R` rows and `K` weight rows, with `LANES` partial sums each.
#[inline(always)]
fn partial_dots<T: Scalar, M: MulAdd, const OUT: usize, const R: usize, const K: usize>(
    w: [&[T; OUT]; K],
    dz: &[[T; OUT]],
) -> [[T; K]; R] {
    let full = OUT / LANES * LANES;
    let mut acc = [[[T::zero(); LANES]; K]; R];
    let mut start = 0;
    while start < full {
        for r in 0..R {
            let d = &dz[r][start..start + LANES];
            for k in 0..K {
                let wk = &w[k][start..start + LANES];
                for l in 0..LANES {
                    acc[r][k][l] = M::mul_add(d[l], wk[l], acc[r][k][l]);
                }
            }
        }
        start += LANES;
    }
    let mut sums = [[T::zero(); K]; R];
    for r in 0..R {
        for k in 0..K {
            let a = &acc[r][k];
            let mut s = ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
            for o in full..OUT {
                s = M::mul_add(dz[r][o], w[k][o], s);
            }
            sums[r][k] = s;
        }
    }
    sums
}
