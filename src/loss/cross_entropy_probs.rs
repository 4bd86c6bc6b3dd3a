//! Cross-entropy on logits with probability targets, with the softmax fused in.

use crate::loss::Loss;
use crate::loss::cross_entropy::for_each_softmax_row;
use crate::loss::loss::rows;
use crate::scalar::Scalar;

/// PyTorch's `F.cross_entropy(logits, probabilities)`: per sample
/// `−Σ_j t_j·log_softmax(p)_j` with a target distribution `t` (soft labels), computed through
/// a max-shifted log-sum-exp; mean over the **batch** `B` (not `B·N`).
///
/// The gradient is `(softmax(p)·Σ_j t_j − t) / B` (just `(softmax(p) − t) / B` when each target
/// row sums to 1; rows are not normalized). Value and gradient stay finite for logits of any
/// size (±1000 included). A one-hot target gives the same numbers as
/// [`CrossEntropy`](crate::loss::CrossEntropy) with its class index.
///
/// ```
/// use constnet::loss::{CrossEntropyProbs, Loss};
/// let mut grad = [0.0f64; 2];
/// let value = CrossEntropyProbs.loss(&[0.0, 0.0], &[0.25, 0.75], &mut grad);
/// assert_eq!(value, core::f64::consts::LN_2); // −(0.25 + 0.75)·ln(1/2)
/// assert_eq!(grad, [0.25, -0.25]); // 0.5 − 0.25, 0.5 − 0.75
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CrossEntropyProbs;

impl<T: Scalar> Loss<T> for CrossEntropyProbs {
    type Target<const N: usize> = [T; N];

    fn loss_rows<const N: usize>(
        &self,
        prediction: &[[T; N]],
        target: &[[T; N]],
        grad: &mut [[T; N]],
    ) -> T {
        let batch = T::from_f64(rows(prediction, target, grad) as f64);
        let inv_batch = T::one() / batch;
        let mut sum = T::zero();
        for_each_softmax_row(prediction, grad, |r, g, max, exp_sum| {
            let (p, t) = (&prediction[r], &target[r]);
            let log_sum = exp_sum.ln();
            let mut target_sum = T::zero();
            for j in 0..N {
                // log_softmax(p)_j = (p_j − max) − ln Σ
                sum -= t[j] * ((p[j] - max) - log_sum);
                target_sum += t[j];
            }
            let softmax_scale = target_sum / exp_sum;
            for j in 0..N {
                g[j] = (g[j] * softmax_scale - t[j]) * inv_batch;
            }
        });
        sum / batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::CrossEntropy;
    use num_traits::Float; // `Float::ln`/`Float::exp`: inherent f64 ones are std-only

    #[test]
    fn one_hot_targets_equal_class_index_cross_entropy() {
        let prediction = [[0.3f64, -1.2, 2.0], [1.5, 0.1, -0.4]];
        let mut grad = [[0.0; 3]; 2];
        let mut index_grad = [[0.0; 3]; 2];
        let value = CrossEntropyProbs.loss_batch(
            &prediction,
            &[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]],
            &mut grad,
        );
        let index_value = CrossEntropy.loss_batch(&prediction, &[2, 0], &mut index_grad);
        assert!((value - index_value).abs() < 1e-15);
        for (g, w) in grad.as_flattened().iter().zip(index_grad.as_flattened()) {
            assert!((g - w).abs() < 1e-15, "{g} vs {w}");
        }
    }

    #[test]
    fn unnormalized_target_scales_the_softmax_term() {
        // logits [0, 0], target [1, 1] (sums to 2): loss −2·ln(1/2) = 2 ln 2;
        // gradient softmax·2 − t = [1 − 1, 1 − 1] = 0.
        let mut grad = [f64::NAN; 2];
        let value = CrossEntropyProbs.loss(&[0.0, 0.0], &[1.0, 1.0], &mut grad);
        assert_eq!(value, 2.0 * core::f64::consts::LN_2);
        assert_eq!(grad, [0.0, 0.0]);
    }

    #[test]
    fn logits_near_plus_minus_1000_are_finite() {
        let prediction = [[1000.0f64, -1000.0], [-1000.0, -999.0]];
        let target = [[0.5f64, 0.5], [0.25, 0.75]];
        let mut grad = [[0.0; 2]; 2];
        let value = CrossEntropyProbs.loss_batch(&prediction, &target, &mut grad);
        assert!(value.is_finite() && grad.as_flattened().iter().all(|g| g.is_finite()));
        // Sample 0: log_softmax = [0, −2000] → 1000. Sample 1: log_softmax =
        // [−1 − ln(1 + e^−1), −ln(1 + e^−1)] → 0.25 + ln(1 + e^−1).
        let e = Float::exp(-1.0f64);
        let want = (1000.0 + 0.25 + Float::ln(1.0 + e)) / 2.0;
        assert!((value - want).abs() < 1e-12 * want, "{value} vs {want}");
        assert_eq!(grad[0], [0.25, -0.25]);
        let mut grad32 = [0.0f32; 2];
        let value32 = CrossEntropyProbs.loss(&[-1000.0f32, 1000.0], &[1.0, 0.0], &mut grad32);
        assert_eq!((value32, grad32), (2000.0, [-1.0, 1.0]));
    }
}
