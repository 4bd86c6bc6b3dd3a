//! Binary cross-entropy on probabilities.

use crate::loss::Loss;
use crate::loss::elementwise::mean_over_elements;
use crate::scalar::Scalar;

/// PyTorch's gradient floor `EPSILON = 1e-12`, a C++ `float`: `(1e-12f32) as f64`, used as is
/// for both `f32` and `f64`.
const GRAD_EPSILON: f64 = 1e-12f32 as f64;

/// PyTorch clamps both logarithms at −100, so `p = 0` or `1` gives a finite loss.
const LOG_FLOOR: f64 = -100.0;

/// PyTorch's `F.binary_cross_entropy` on probabilities `p ∈ [0, 1]`: per element
/// `−(t·max(ln p, −100) + (1 − t)·max(ln(1 − p), −100))`; mean over every element (`B·N`).
///
/// The gradient is `(p − t) / max(p·(1 − p), ε) / (B·N)` with PyTorch's `ε = 1e-12` rounded
/// to `f32` (`9.999999960041972e-13`), so a saturated prediction gives a huge but finite
/// gradient. Predictions come from a `Sigmoid` (or `Softmax`) output; for raw logits use the
/// stabler [`BceWithLogits`](crate::loss::BceWithLogits). A prediction outside `[0, 1]`
/// gives NaN (PyTorch raises an error).
///
/// ```
/// use constnet::loss::{Bce, Loss};
/// let mut grad = [0.0f64; 2];
/// let value = Bce.loss(&[0.5, 1.0], &[1.0, 1.0], &mut grad);
/// assert_eq!(value, core::f64::consts::LN_2 / 2.0); // −ln 0.5 and −ln 1, over 2
/// assert_eq!(grad, [-1.0, 0.0]); // (0.5 − 1) / 0.25 / 2, and 0 / ε / 2
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bce;

impl<T: Scalar> Loss<T> for Bce {
    type Target<const N: usize> = [T; N];

    fn loss_rows<const N: usize>(
        &self,
        prediction: &[[T; N]],
        target: &[[T; N]],
        grad: &mut [[T; N]],
    ) -> T {
        let floor = T::from_f64(LOG_FLOOR);
        let epsilon = T::from_f64(GRAD_EPSILON);
        // `max` that keeps a NaN logarithm NaN (C++ `std::max(x, −100)` as PyTorch writes it).
        let clamp = |x: T| if x < floor { floor } else { x };
        mean_over_elements(prediction, target, grad, |p, t| {
            let log_p = clamp(p.ln());
            let log_one_minus_p = clamp((-p).ln_1p());
            let value = (t - T::one()) * log_one_minus_p - t * log_p;
            let variance = (T::one() - p) * p;
            let denominator = if variance < epsilon {
                epsilon
            } else {
                variance
            };
            (value, (p - t) / denominator)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::Float; // `Float::ln`/`Float::exp`: inherent f64 ones are std-only

    #[test]
    fn epsilon_is_pytorch_float_constant() {
        assert_eq!(GRAD_EPSILON, 9.999999960041972e-13);
        assert_eq!(f32::from_f64(GRAD_EPSILON), 1e-12f32);
    }

    #[test]
    fn hand_computed_value_and_gradient() {
        // p = 0.25, t = 0.5: −(0.5·ln 0.25 + 0.5·ln 0.75); grad (−0.25) / 0.1875.
        let mut grad = [0.0f64; 1];
        let value = Bce.loss(&[0.25], &[0.5], &mut grad);
        let want = -(0.5 * Float::ln(0.25f64) + 0.5 * Float::ln(0.75f64));
        assert!((value - want).abs() < 1e-15, "{value} vs {want}");
        assert!((grad[0] + 0.25 / 0.1875).abs() < 1e-15, "{}", grad[0]);
    }

    #[test]
    fn edge_case_in_f32_is_finite_and_relatively_close() {
        let prediction = [[0.0f32, 1.0, 0.0], [1.0, 1e-44, 0.5]]; // ln(1e-44) < −100
        let target = [[1.0f32, 1.0, 0.0], [0.0, 1.0, 0.25]];
        let mut grad = [[0.0f32; 3]; 2];
        let value = Bce.loss_batch(&prediction, &target, &mut grad);
        assert!((value.to_f64() - 50.115524530093325).abs() < 1e-4 * 50.0);
        let want = [
            -1.6666666e11,
            0.0,
            0.0,
            1.6666666e11,
            -1.6666666e11,
            0.16666667,
        ];
        for (g, w) in grad.as_flattened().iter().zip(want) {
            assert!((g - w).abs() <= 1e-5 * w.abs(), "{g} vs {w}");
        }
    }

    #[test]
    fn out_of_range_prediction_is_nan() {
        let mut grad = [0.0f64; 1];
        assert!(Bce.loss(&[1.5], &[1.0], &mut grad).is_nan());
    }
}
