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

    /// The mean loss over the rows given; writes `dL/dprediction` into `grad` (overwriting
    /// it). The rows are a batch's real samples: a training loop whose last batch is short
    /// passes only its filled rows, so the mean (and the gradient's `1/rows` factor) is over
    /// those samples only, as PyTorch computes it on a short last batch.
    ///
    /// ```
    /// use constnet::loss::{Loss, Mse};
    /// let pred = [[1.0f64], [3.0], [100.0]]; // the third row is padding
    /// let target = [[0.0f64], [0.0], [0.0]];
    /// let mut grad = [[0.0; 1]; 3];
    /// let value = Mse.loss_rows(&pred[..2], &target[..2], &mut grad[..2]);
    /// assert_eq!(value, 5.0); // (1 + 9) / 2
    /// assert_eq!(grad[..2], [[1.0], [3.0]]);
    /// ```
    ///
    /// # Panics
    /// If `target` or `grad` has another number of rows than `prediction`. With no row at
    /// all the mean is NaN.
    fn loss_rows<const N: usize>(
        &self,
        prediction: &[[T; N]],
        target: &[Self::Target<N>],
        grad: &mut [[T; N]],
    ) -> T;

    /// The mean loss over the whole batch; writes `dL/dprediction` into `grad` (overwriting
    /// it). [`loss_rows`](Loss::loss_rows) with every row.
    #[inline]
    fn loss_batch<const N: usize, const B: usize>(
        &self,
        prediction: &[[T; N]; B],
        target: &[Self::Target<N>; B],
        grad: &mut [[T; N]; B],
    ) -> T {
        self.loss_rows(prediction, target, grad)
    }

    /// The loss of one sample (a batch of one) and its gradient.
    fn loss<const N: usize>(
        &self,
        prediction: &[T; N],
        target: &Self::Target<N>,
        grad: &mut [T; N],
    ) -> T {
        self.loss_rows(
            core::slice::from_ref(prediction),
            core::slice::from_ref(target),
            core::slice::from_mut(grad),
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

/// The number of rows of a loss's arguments, which must agree.
#[inline(always)]
pub(super) fn rows<A, B, C>(prediction: &[A], target: &[B], grad: &[C]) -> usize {
    assert!(
        target.len() == prediction.len() && grad.len() == prediction.len(),
        "a loss got {} prediction rows, {} target rows and {} gradient rows",
        prediction.len(),
        target.len(),
        grad.len()
    );
    prediction.len()
}
