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

    fn loss_batch<const N: usize, const B: usize>(
        &self,
        prediction: &[[T; N]; B],
        target: &[[T; N]; B],
        grad: &mut [[T; N]; B],
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
    use crate::loss::test_support::{check_golden, rows};

    // tests/golden/loss_l1.txt (PyTorch 2.15.0, float64)
    const BATCH: usize = 3;
    const OUTPUTS: usize = 5;
    const PREDICTION: [f64; 15] = [
        -0.010051508890776346,
        -2.884976269435732,
        0.21425689324433073,
        2.4565934951659263,
        0.025789921022760367,
        -0.49908979223114014,
        -4.03371059358517,
        2.5872127162325715,
        -0.9620417804430675,
        -1.0590924592158155,
        -2.2179512209702494,
        1.6452856992915972,
        0.7197197673486952,
        0.42077480343476925,
        -0.2141602289246709,
    ];
    const TARGET: [f64; 15] = [
        -1.3862070382920293,
        -0.5298785313341879,
        0.42732831522647585,
        1.7502565790747586,
        -0.7602580222531063,
        0.6238853171302522,
        2.5919663050799735,
        0.8550617232037822,
        1.1251915956258687,
        -2.2167999912883687,
        2.303758557455642,
        -2.6408951873261315,
        2.404690035607153,
        0.36895563990787,
        -0.34449125508134903,
    ];
    const LOSS_VALUE: f64 = 1.9224976387356298;
    const GRAD: [f64; 15] = [
        0.06666666666666667,
        -0.06666666666666667,
        -0.06666666666666667,
        0.06666666666666667,
        0.06666666666666667,
        -0.06666666666666667,
        -0.06666666666666667,
        0.06666666666666667,
        -0.06666666666666667,
        0.06666666666666667,
        -0.06666666666666667,
        0.06666666666666667,
        -0.06666666666666667,
        0.06666666666666667,
        0.06666666666666667,
    ];

    #[test]
    fn matches_pytorch_golden_case() {
        let prediction = rows::<OUTPUTS, BATCH>(&PREDICTION);
        let target = rows::<OUTPUTS, BATCH>(&TARGET);
        check_golden(&L1, &prediction, &target, LOSS_VALUE, &GRAD);
    }

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
