//! Mean absolute error.

use crate::loss::Loss;
use crate::loss::elementwise::mean_over_elements;
use crate::scalar::Scalar;

/// `Σ |p − t| / (B·N)`: PyTorch's `F.l1_loss`, mean over every element.
///
/// The gradient is `sign(p − t) / (B·N)` with `sign(0) = 0`, as PyTorch.
///
/// ```
/// use constnet::loss::{L1, Loss};
/// let mut grad = [[0.0f64; 2]; 2];
/// let value = L1.loss_batch(&[[3.0, 0.5], [1.0, -2.0]], &[[1.0, 0.5], [2.0, 0.0]], &mut grad);
/// assert_eq!(value, 1.25); // (2 + 0 + 1 + 2) / 4
/// assert_eq!(grad, [[0.25, 0.0], [-0.25, -0.25]]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct L1;

/// `sign(d)·scale`, with `sign(±0) = 0` and NaN kept NaN (PyTorch's `sign`).
#[inline(always)]
pub(super) fn sign_times<T: Scalar>(d: T, scale: T) -> T {
    if d > T::zero() {
        scale
    } else if d < T::zero() {
        -scale
    } else {
        // ±0 or NaN: `d·scale` is ±0 or NaN.
        d * scale
    }
}

impl<T: Scalar> Loss<T> for L1 {
    type Target<const N: usize> = [T; N];

    fn loss_rows<const N: usize>(
        &self,
        prediction: &[[T; N]],
        target: &[[T; N]],
        grad: &mut [[T; N]],
    ) -> T {
        mean_over_elements(prediction, target, grad, |p, t| {
            let d = p - t;
            (d.abs(), sign_times(d, T::one()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_value_and_gradient() {
        // d = [-1.5, 0, 4]: Σ|d| = 5.5, mean 5.5/3; sign(0) = 0.
        let mut grad = [0.0f64; 3];
        let value = L1.loss(&[0.5, 2.0, 1.0], &[2.0, 2.0, -3.0], &mut grad);
        assert_eq!(value, 5.5 / 3.0);
        assert_eq!(grad, [-1.0 / 3.0, 0.0, 1.0 / 3.0]);
    }

    #[test]
    fn works_in_f32() {
        let mut grad = [[0.0f32; 2]; 2];
        let value = L1.loss_batch(
            &[[1.0, -1.0], [0.0, 2.0]],
            &[[0.0, 0.0], [0.0, 0.5]],
            &mut grad,
        );
        assert_eq!(value, 3.5 / 4.0);
        assert_eq!(grad, [[0.25, -0.25], [0.0, 0.25]]);
    }

    #[test]
    fn nan_difference_gives_nan_gradient() {
        let mut grad = [0.0f64; 1];
        let value = L1.loss(&[f64::NAN], &[0.0], &mut grad);
        assert!(value.is_nan() && grad[0].is_nan());
    }
}
