//! Portable (safe) loops shaped so the compiler can vectorize them.

use crate::scalar::Scalar;

/// `y += a * x` over a contiguous axis: one independent update per lane, so it vectorizes.
#[inline(always)]
pub(crate) fn axpy<T: Scalar, const N: usize>(a: T, x: &[T; N], y: &mut [T; N]) {
    for (yi, &xi) in y.iter_mut().zip(x.iter()) {
        *yi += a * xi;
    }
}

/// `Σ x·y` with four independent accumulators, so the reduction vectorizes without
/// reassociation by the compiler (which it may not do for floats).
#[inline(always)]
pub(crate) fn dot<T: Scalar, const N: usize>(x: &[T; N], y: &[T; N]) -> T {
    let mut acc = [T::zero(); 4];
    let chunks = N / 4;
    for c in 0..chunks {
        for l in 0..4 {
            acc[l] += x[4 * c + l] * y[4 * c + l];
        }
    }
    let mut tail = T::zero();
    for i in 4 * chunks..N {
        tail += x[i] * y[i];
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_sequential_sum() {
        let x: [f64; 11] = core::array::from_fn(|i| i as f64 * 0.5 - 2.0);
        let y: [f64; 11] = core::array::from_fn(|i| 1.0 / (i as f64 + 1.0));
        let want: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
        assert!((dot(&x, &y) - want).abs() < 1e-12);
    }

    #[test]
    fn axpy_adds_scaled() {
        let x = [1.0f32, 2.0, 3.0];
        let mut y = [1.0f32; 3];
        axpy(2.0, &x, &mut y);
        assert_eq!(y, [3.0, 5.0, 7.0]);
    }
}
