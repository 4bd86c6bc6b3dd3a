//! Binary cross-entropy on logits, with the sigmoid fused in.

use crate::loss::Loss;
use crate::loss::elementwise::mean_over_elements;
use crate::scalar::Scalar;
use crate::scalar::sigmoid;

/// PyTorch's `F.binary_cross_entropy_with_logits`: `Bce(sigmoid(p), t)` computed stably from
/// the logit `p`, per element `max(p, 0) − p·t + ln(1 + e^(−|p|))`; mean over every element
/// (`B·N`).
///
/// The gradient is `(sigmoid(p) − t) / (B·N)`. Value and gradient stay finite and exact for
/// logits of any size (±1000 included), unlike `Sigmoid` followed by [`Bce`](crate::loss::Bce).
///
/// ```
/// use constnet::loss::{BceWithLogits, Loss};
/// let mut grad = [0.0f64; 2];
/// let value = BceWithLogits.loss(&[0.0, 1000.0], &[1.0, 0.0], &mut grad);
/// assert_eq!(value, (core::f64::consts::LN_2 + 1000.0) / 2.0);
/// assert_eq!(grad, [-0.25, 0.5]); // (0.5 − 1) / 2, (1 − 0) / 2
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BceWithLogits;

impl<T: Scalar> Loss<T> for BceWithLogits {
    type Target<const N: usize> = [T; N];

    fn loss_rows<const N: usize>(
        &self,
        prediction: &[[T; N]],
        target: &[[T; N]],
        grad: &mut [[T; N]],
    ) -> T {
        mean_over_elements(prediction, target, grad, |p, t| {
            let value = p.max(T::zero()) - p * t + (-p.abs()).exp().ln_1p();
            (value, sigmoid(p) - t)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::Bce;
    use num_traits::Float; // `Float::ln`/`Float::exp`: inherent f64 ones are std-only

    #[test]
    fn equals_bce_of_sigmoid_for_moderate_logits() {
        let logits = [[-2.0f64, 0.3], [1.7, 4.0]];
        let target = [[0.1f64, 1.0], [0.0, 0.6]];
        let probabilities = logits.map(|row| row.map(|z| 1.0 / (1.0 + Float::exp(-z))));
        let mut grad = [[0.0; 2]; 2];
        let mut bce_grad = [[0.0; 2]; 2];
        let value = BceWithLogits.loss_batch(&logits, &target, &mut grad);
        let bce_value = Bce.loss_batch(&probabilities, &target, &mut bce_grad);
        assert!((value - bce_value).abs() < 1e-14, "{value} vs {bce_value}");
        // chain rule: dL/dz = dL/dp · p(1 − p)
        for b in 0..2 {
            for o in 0..2 {
                let p = probabilities[b][o];
                let want = bce_grad[b][o] * p * (1.0 - p);
                assert!(
                    (grad[b][o] - want).abs() < 1e-14,
                    "{} vs {want}",
                    grad[b][o]
                );
            }
        }
    }

    #[test]
    fn logits_near_plus_minus_1000_are_finite_and_exact() {
        for logits in [[1000.0f64, -1000.0], [-999.5, 1000.0]] {
            let target = [0.25f64, 0.75];
            let mut grad = [0.0; 2];
            let value = BceWithLogits.loss(&logits, &target, &mut grad);
            assert!(value.is_finite() && grad.iter().all(|g| g.is_finite()));
            // For |z| this large ln(1 + e^−|z|) = 0: the loss is max(z,0) − z·t exactly.
            let want: f64 = (0..2)
                .map(|o| logits[o].max(0.0) - logits[o] * target[o])
                .sum();
            assert_eq!(value, want / 2.0);
            let sigmoid = logits.map(|z| if z > 0.0 { 1.0 } else { 0.0 });
            assert_eq!(grad, [(sigmoid[0] - 0.25) / 2.0, (sigmoid[1] - 0.75) / 2.0]);
        }
        let mut grad32 = [0.0f32; 2];
        let value32 = BceWithLogits.loss(&[1000.0f32, -1000.0], &[0.0, 1.0], &mut grad32);
        assert_eq!((value32, grad32), (1000.0, [0.5, -0.5]));
    }
}
