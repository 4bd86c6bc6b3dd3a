//! Mean squared error.

use crate::loss::Loss;
use crate::loss::elementwise::mean_over_elements;
use crate::scalar::Scalar;

/// `Σ (p − t)² / (B·N)`: PyTorch's `F.mse_loss` (mean over every element, not per sample).
///
/// ```
/// use constnet::loss::{Loss, Mse};
/// let mut grad = [0.0f32; 2];
/// let value = Mse.loss(&[3.0, 0.0], &[1.0, 0.0], &mut grad);
/// assert_eq!((value, grad), (2.0, [2.0, 0.0]));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Mse;

impl<T: Scalar> Loss<T> for Mse {
    type Target<const N: usize> = [T; N];

    fn loss_rows<const N: usize>(
        &self,
        prediction: &[[T; N]],
        target: &[[T; N]],
        grad: &mut [[T; N]],
    ) -> T {
        mean_over_elements(prediction, target, grad, |p, t| {
            let d = p - t;
            (d * d, d + d)
        })
    }
}
