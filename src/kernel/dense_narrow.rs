//! The batched Dense forward of an `f32` layer with 9 to 15 outputs in AVX-512: each row's
//! outputs in one 16-lane vector (the lanes past the last output masked off in every load
//! and store), [`ROWS`] rows per block sharing each load of a weight row.
//!
//! The portable and AVX2 kernels cover such a layer with two 8-lane windows, the second
//! overlapping the first, and 6 rows × 1 vector per window: M's 128 → 10 head at batch 256
//! took 16.0 µs that way (41 GFLOP/s), a twentieth of the batch's time for 1.3% of its
//! multiply-adds, and takes 6.2–6.4 µs here (Xeon model 207, a throwaway timing of the
//! layer alone; 6.7–6.9 µs with 12 rows per block, 8.0 with 24). Every output is one fused
//! chain over the inputs in order from its bias, as in `dense::forward`, so the bits are
//! those of the AVX2 kernel.

use core::arch::x86_64::*;

/// Rows per block: 16 accumulators, each weight row loaded once for all of them.
const ROWS: usize = 16;

/// Whether a layer of `outputs` outputs takes this kernel.
pub(crate) const fn fits(outputs: usize) -> bool {
    outputs > 8 && outputs < 16
}

/// `z[b] = bias + Σᵢ x[b][i]·w[i]` for every row of `x` (as many as `z`), `OUT` in
/// `9..16` (see [`fits`]).
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) fn forward<const IN: usize, const OUT: usize>(
    w: &[[f32; OUT]; IN],
    bias: &[f32; OUT],
    x: &[[f32; IN]],
    z: &mut [[f32; OUT]],
) {
    assert!(fits(OUT), "dense_narrow::forward: outputs");
    assert_eq!(x.len(), z.len(), "dense_narrow::forward: rows");
    let mask: __mmask16 = ((1u32 << OUT) - 1) as u16;
    // SAFETY: the mask reads the `OUT` floats of `bias`.
    let b = unsafe { _mm512_maskz_loadu_ps(mask, bias.as_ptr()) };
    let mut x_blocks = x.chunks_exact(ROWS);
    let mut z_blocks = z.chunks_exact_mut(ROWS);
    for (xb, zb) in (&mut x_blocks).zip(&mut z_blocks) {
        block::<IN, OUT, ROWS>(w, b, mask, xb, zb);
    }
    for (xr, zr) in x_blocks.remainder().iter().zip(z_blocks.into_remainder()) {
        block::<IN, OUT, 1>(
            w,
            b,
            mask,
            core::slice::from_ref(xr),
            core::slice::from_mut(zr),
        );
    }
}

/// `R` rows (`x` and `z` hold exactly `R`), each one vector of accumulators.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
fn block<const IN: usize, const OUT: usize, const R: usize>(
    w: &[[f32; OUT]; IN],
    b: __m512,
    mask: __mmask16,
    x: &[[f32; IN]],
    z: &mut [[f32; OUT]],
) {
    let (Ok(x), Ok(z)) = (
        <&[[f32; IN]; R]>::try_from(x),
        <&mut [[f32; OUT]; R]>::try_from(z),
    ) else {
        unreachable!("blocks of R rows")
    };
    let mut acc = [b; R];
    for (i, wi) in w.iter().enumerate() {
        // SAFETY: the mask reads the `OUT` floats of row `i`.
        let wv = unsafe { _mm512_maskz_loadu_ps(mask, wi.as_ptr()) };
        for (a, xr) in acc.iter_mut().zip(x) {
            *a = _mm512_fmadd_ps(_mm512_set1_ps(xr[i]), wv, *a);
        }
    }
    for (a, zr) in acc.iter().zip(z.iter_mut()) {
        // SAFETY: the mask writes the `OUT` floats of `zr`.
        unsafe { _mm512_mask_storeu_ps(zr.as_mut_ptr(), mask, *a) };
    }
}
