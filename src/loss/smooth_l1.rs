//! Smooth L1 loss.

use crate::loss::Loss;
use crate::loss::elementwise::mean_over_elements;
use crate::loss::l1::sign_times;
use crate::scalar::Scalar;

/// PyTorch's `F.smooth_l1_loss(beta)`: per element `0.5·d²/beta` if `|d| < beta`, else
/// `|d| − 0.5·beta`, with `d = p − t`; mean over every element (`B·N`).
///
/// The gradient is `d / beta / (B·N)` inside the quadratic zone and `sign(d) / (B·N)` outside.
/// `beta = 0` is plain [`L1`](crate::loss::L1) (as in PyTorch, and with `sign(0) = 0`): the
/// quadratic zone is empty and nothing divides by `beta`. `beta` must not be negative.
///
/// ```
/// use constnet::loss::{Loss, SmoothL1};
/// let mut grad = [0.0f64; 2];
/// let value = SmoothL1 { beta: 2.0 }.loss(&[1.0, -3.0], &[0.0, 0.0], &mut grad);
/// assert_eq!(value, (0.25 + 2.0) / 2.0); // 0.5·1²/2, 3 − 1
/// assert_eq!(grad, [0.25, -0.5]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SmoothL1 {
    /// Where the loss turns from quadratic to linear (PyTorch default 1.0; 0 is L1).
    pub beta: f64,
}

impl Default for SmoothL1 {
    /// `beta = 1.0`, PyTorch's default.
    fn default() -> Self {
        SmoothL1 { beta: 1.0 }
    }
}

impl<T: Scalar> Loss<T> for SmoothL1 {
    type Target<const N: usize> = [T; N];

    fn loss_rows<const N: usize>(
        &self,
        prediction: &[[T; N]],
        target: &[[T; N]],
        grad: &mut [[T; N]],
    ) -> T {
        let beta = T::from_f64(self.beta);
        let half = T::from_f64(0.5);
        let half_beta = half * beta;
        mean_over_elements(prediction, target, grad, |p, t| {
            let d = p - t;
            let magnitude = d.abs();
            // With beta = 0 this branch is never taken: no division by zero.
            if magnitude < beta {
                (half * d * d / beta, d / beta)
            } else {
                (magnitude - half_beta, sign_times(d, T::one()))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::{Huber, L1};

    #[test]
    fn default_beta_is_one() {
        assert_eq!(SmoothL1::default(), SmoothL1 { beta: 1.0 });
    }

    #[test]
    fn beta_zero_is_l1_including_zero_difference() {
        let prediction = [[0.5f64, 2.0, -1.0], [3.0, 0.0, 0.25]];
        let target = [[0.0f64, 2.0, 1.0], [-1.0, 0.0, 0.0]];
        let mut grad = [[f64::NAN; 3]; 2];
        let value = SmoothL1 { beta: 0.0 }.loss_batch(&prediction, &target, &mut grad);
        // Σ|d| = 0.5 + 0 + 2 + 4 + 0 + 0.25 = 6.75 over 6; sign(0) = 0.
        assert_eq!(value, 6.75 / 6.0);
        let s = 1.0 / 6.0;
        assert_eq!(grad, [[s, 0.0, -s], [s, 0.0, s]]);
        let mut l1_grad = [[0.0f64; 3]; 2];
        assert_eq!(L1.loss_batch(&prediction, &target, &mut l1_grad), value);
        assert_eq!(l1_grad, grad);
    }

    #[test]
    fn huber_is_beta_times_smooth_l1() {
        let prediction = [[0.3f64, -2.5, 1.0, 4.0]];
        let target = [[0.0f64, 0.0, 0.0, 0.0]];
        let beta = 2.0;
        let mut smooth_grad = [[0.0f64; 4]];
        let mut huber_grad = [[0.0f64; 4]];
        let smooth = SmoothL1 { beta }.loss_batch(&prediction, &target, &mut smooth_grad);
        let huber = Huber { delta: beta }.loss_batch(&prediction, &target, &mut huber_grad);
        assert!((huber - beta * smooth).abs() < 1e-15);
        for o in 0..4 {
            assert!((huber_grad[0][o] - beta * smooth_grad[0][o]).abs() < 1e-15);
        }
        // and they differ for beta ≠ 1
        assert!((huber - smooth).abs() > 0.1);
    }

    #[test]
    fn works_in_f32() {
        let loss = SmoothL1 { beta: 0.5 };
        let mut grad = [0.0f32; 2];
        // d = [0.25, -1]: 0.5·0.0625/0.5 = 0.0625, 1 − 0.25 = 0.75.
        let value = loss.loss(&[0.25, -1.0], &[0.0, 0.0], &mut grad);
        assert_eq!(value, (0.0625 + 0.75) / 2.0);
        assert_eq!(grad, [0.25, -0.5]);
    }
}
