//! Huber loss.

use crate::loss::Loss;
use crate::loss::elementwise::mean_over_elements;
use crate::loss::l1::sign_times;
use crate::scalar::Scalar;

/// PyTorch's `F.huber_loss(delta)`: per element `0.5·d²` if `|d| < delta`, else
/// `delta·(|d| − 0.5·delta)`, with `d = p − t`; mean over every element (`B·N`).
///
/// The gradient is `d / (B·N)` inside the quadratic zone and `±delta / (B·N)` outside.
/// `delta` must be positive (PyTorch rejects other values; here `delta = 0` gives a zero loss).
/// Note `Huber { delta } = delta · SmoothL1 { beta: delta }`: the two coincide only at 1.
///
/// ```
/// use constnet::loss::{Huber, Loss};
/// let mut grad = [0.0f64; 2];
/// let value = Huber { delta: 1.0 }.loss(&[0.5, 3.0], &[0.0, 0.0], &mut grad);
/// assert_eq!(value, (0.125 + 2.5) / 2.0); // 0.5·0.5², 1·(3 − 0.5)
/// assert_eq!(grad, [0.25, 0.5]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Huber {
    /// Where the loss turns from quadratic to linear (PyTorch default 1.0).
    pub delta: f64,
}

impl Default for Huber {
    /// `delta = 1.0`, PyTorch's default.
    fn default() -> Self {
        Huber { delta: 1.0 }
    }
}

impl<T: Scalar> Loss<T> for Huber {
    type Target<const N: usize> = [T; N];

    fn loss_rows<const N: usize>(
        &self,
        prediction: &[[T; N]],
        target: &[[T; N]],
        grad: &mut [[T; N]],
    ) -> T {
        let delta = T::from_f64(self.delta);
        let half = T::from_f64(0.5);
        mean_over_elements(prediction, target, grad, |p, t| {
            let d = p - t;
            let magnitude = d.abs();
            if magnitude < delta {
                (half * d * d, d)
            } else {
                (delta * (magnitude - half * delta), sign_times(d, delta))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_delta_is_one() {
        assert_eq!(Huber::default(), Huber { delta: 1.0 });
    }

    #[test]
    fn hand_computed_with_delta_two() {
        // d = [1, -3, 2, 0]; delta 2: 0.5·1 = 0.5, 2·(3 − 1) = 4, |d| = delta is linear:
        // 2·(2 − 1) = 2, and 0. Sum 6.5 over 4 elements.
        let loss = Huber { delta: 2.0 };
        let mut grad = [[0.0f64; 2]; 2];
        let value = loss.loss_batch(
            &[[1.0, -3.0], [2.0, 5.0]],
            &[[0.0, 0.0], [0.0, 5.0]],
            &mut grad,
        );
        assert_eq!(value, 6.5 / 4.0);
        assert_eq!(grad, [[0.25, -0.5], [0.5, 0.0]]);
    }

    #[test]
    fn works_in_f32() {
        let loss = Huber { delta: 0.5 };
        let mut grad = [0.0f32; 2];
        // d = [0.25, -1]: 0.5·0.0625 = 0.03125, 0.5·(1 − 0.25) = 0.375.
        let value = loss.loss(&[0.25, -1.0], &[0.0, 0.0], &mut grad);
        assert_eq!(value, (0.03125 + 0.375) / 2.0);
        assert_eq!(grad, [0.125, -0.25]);
    }
}
