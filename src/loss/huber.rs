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

    fn loss_batch<const N: usize, const B: usize>(
        &self,
        prediction: &[[T; N]; B],
        target: &[[T; N]; B],
        grad: &mut [[T; N]; B],
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
    use crate::loss::test_support::{check_golden, rows};

    // tests/golden/loss_huber.txt (PyTorch 2.15.0, float64)
    const BATCH: usize = 5;
    const OUTPUTS: usize = 4;
    const PREDICTION: [f64; 20] = [
        0.15260145711536313,
        -2.312387060952371,
        -0.8017507087246354,
        -2.9432499184660723,
        -1.4804984260687235,
        -1.643171534608358,
        0.43161608570976195,
        1.9584289918571187,
        -3.2981618025648336,
        0.6645940581629503,
        -3.196182977384691,
        0.5962133857381646,
        -1.3161682672307635,
        0.288174532918247,
        -2.8550941605131466,
        1.48220905842712,
        3.407780551842339,
        -1.5015085063828095,
        4.20757407094847,
        3.140688746179637,
    ];
    const TARGET: [f64; 20] = [
        -4.329636278907701,
        -1.0683808462255988,
        4.768104761584289,
        -1.2965505680480796,
        -3.987323717247061,
        0.7253778708831315,
        3.728081356118243,
        -1.2069489472801351,
        -0.3713464248101445,
        -4.121601525222631,
        0.03211667696135606,
        0.3538707047672185,
        -2.2945056317079797,
        0.868188930476024,
        -2.65773725265366,
        -0.2869112949825541,
        3.9266106104351053,
        -1.516359025874991,
        -1.0655859772243548,
        0.005120789878010125,
    ];
    const LOSS_VALUE: f64 = 1.9614749223490162;
    const GRAD: [f64; 20] = [
        0.05,
        -0.05,
        -0.05,
        -0.05,
        0.05,
        -0.05,
        -0.05,
        0.05,
        -0.05,
        0.05,
        -0.05,
        0.012117134048547307,
        0.048916868223860814,
        -0.02900071987788885,
        -0.00986784539297434,
        0.05,
        -0.025941502929638306,
        0.0007425259746090762,
        0.05,
        0.05,
    ];
    const DELTA: f64 = 1.0;

    #[test]
    fn matches_pytorch_golden_case() {
        let prediction = rows::<OUTPUTS, BATCH>(&PREDICTION);
        let target = rows::<OUTPUTS, BATCH>(&TARGET);
        let loss = Huber { delta: DELTA };
        check_golden(&loss, &prediction, &target, LOSS_VALUE, &GRAD);
    }

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
