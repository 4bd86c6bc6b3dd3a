//! The `Loss` trait: a value and its gradient with respect to the prediction, in one pass.

use crate::scalar::Scalar;

/// A loss with PyTorch's `mean` reduction.
///
/// `Target<N>` is what one sample's target is for an output of `N` values: `[T; N]` for
/// regression losses, a class index `usize` for [`CrossEntropy`](crate::loss::CrossEntropy).
/// The batch size `B` is a compile-time constant shared by prediction, target and gradient,
/// so a target batch of another size, or a target of another width, does not compile:
///
/// ```
/// use constnet::loss::{Loss, Mse};
/// let pred = [[1.0f64, 2.0]];
/// let target = [[0.0f64, 2.0]];
/// let mut grad = [[0.0; 2]];
/// let value = Mse.loss_batch(&pred, &target, &mut grad);
/// assert_eq!(value, 0.5); // (1² + 0²) / 2
/// assert_eq!(grad, [[1.0, 0.0]]);
/// ```
/// ```compile_fail
/// use constnet::loss::{Loss, Mse};
/// let pred = [[1.0f64, 2.0]];
/// let target = [[0.0f64, 2.0, 3.0]]; // 3 values for an output of 2
/// let mut grad = [[0.0; 2]];
/// let _ = Mse.loss_batch(&pred, &target, &mut grad);
/// ```
pub trait Loss<T: Scalar> {
    /// One sample's target for an output of `N` values.
    type Target<const N: usize>: Copy;

    /// The mean loss over the batch; writes `dL/dprediction` into `grad` (overwriting it).
    fn loss_batch<const N: usize, const B: usize>(
        &self,
        prediction: &[[T; N]; B],
        target: &[Self::Target<N>; B],
        grad: &mut [[T; N]; B],
    ) -> T;

    /// The loss of one sample (a batch of one) and its gradient.
    fn loss<const N: usize>(
        &self,
        prediction: &[T; N],
        target: &Self::Target<N>,
        grad: &mut [T; N],
    ) -> T {
        self.loss_batch(
            core::array::from_ref(prediction),
            core::array::from_ref(target),
            core::array::from_mut(grad),
        )
    }

    /// The mean loss over the batch, without the gradient.
    fn value<const N: usize, const B: usize>(
        &self,
        prediction: &[[T; N]; B],
        target: &[Self::Target<N>; B],
    ) -> T {
        let mut grad = [[T::zero(); N]; B];
        self.loss_batch(prediction, target, &mut grad)
    }
}
