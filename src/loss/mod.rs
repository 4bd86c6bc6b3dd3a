//! Losses with PyTorch's `mean` reduction: each returns the value and `dL/dprediction` in one
//! pass, with no allocation.
//!
//! | loss | PyTorch | target per sample | mean over |
//! |---|---|---|---|
//! | [`Mse`] | `F.mse_loss` | `[T; N]` | `B·N` |
//! | [`L1`] | `F.l1_loss` | `[T; N]` | `B·N` |
//! | [`Huber`] | `F.huber_loss(delta)` | `[T; N]` | `B·N` |
//! | [`SmoothL1`] | `F.smooth_l1_loss(beta)` | `[T; N]` | `B·N` |
//! | [`Bce`] | `F.binary_cross_entropy` (probabilities) | `[T; N]` | `B·N` |
//! | [`BceWithLogits`] | `F.binary_cross_entropy_with_logits` | `[T; N]` | `B·N` |
//! | [`CrossEntropy`] | `F.cross_entropy(logits, class_index)` | `usize` | `B` |
//! | [`CrossEntropyProbs`] | `F.cross_entropy(logits, probabilities)` | `[T; N]` | `B` |

mod bce;
mod bce_with_logits;
mod cross_entropy;
mod cross_entropy_probs;
mod elementwise;
mod huber;
mod l1;
#[allow(clippy::module_inception)]
mod loss;
mod mse;
mod smooth_l1;

pub use bce::Bce;
pub use bce_with_logits::BceWithLogits;
pub use cross_entropy::CrossEntropy;
pub use cross_entropy_probs::CrossEntropyProbs;
pub use huber::Huber;
pub use l1::L1;
pub use loss::Loss;
pub use mse::Mse;
pub use smooth_l1::SmoothL1;

/// Helpers shared by the unit tests of the loss files.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::loss::Loss;
    use crate::testing::assert_close;

    /// A row-major flat slice (golden-file order) as a `[B][N]` batch.
    pub(crate) fn rows<const N: usize, const B: usize>(flat: &[f64]) -> [[f64; N]; B] {
        assert_eq!(flat.len(), N * B, "flat batch has the wrong length");
        core::array::from_fn(|b| core::array::from_fn(|o| flat[b * N + o]))
    }

    /// Runs `loss` in f64 and compares value and gradient with the PyTorch numbers at
    /// `1e-12·max(1, |want|)`.
    #[track_caller]
    pub(crate) fn check_golden<Lo: Loss<f64>, const N: usize, const B: usize>(
        loss: &Lo,
        prediction: &[[f64; N]; B],
        target: &[Lo::Target<N>; B],
        want_value: f64,
        want_grad: &[f64],
    ) {
        let mut grad = [[f64::NAN; N]; B];
        let value = loss.loss_batch(prediction, target, &mut grad);
        assert_close(&[value], &[want_value], 1e-12, "loss value");
        assert_close(grad.as_flattened(), want_grad, 1e-12, "gradient");
        // `value` must agree with `loss_batch`.
        assert_eq!(loss.value(prediction, target), value);
    }
}
