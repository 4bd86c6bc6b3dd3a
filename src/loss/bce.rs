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

    fn loss_batch<const N: usize, const B: usize>(
        &self,
        prediction: &[[T; N]; B],
        target: &[[T; N]; B],
        grad: &mut [[T; N]; B],
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
    use crate::loss::test_support::{check_golden, rows};
    use num_traits::Float; // `Float::ln`/`Float::exp`: inherent f64 ones are std-only

    // tests/golden/loss_bce.txt (PyTorch 2.15.0, float64)
    const BATCH: usize = 4;
    const OUTPUTS: usize = 3;
    const PREDICTION: [f64; 12] = [
        0.4690309162421202,
        0.09760653677376402,
        0.6418272657602632,
        0.295040026458919,
        0.8094492145687148,
        0.1642511092125243,
        0.9124724948172404,
        0.35326935681528226,
        0.40771680927571907,
        0.5698836170504876,
        0.6236974097588113,
        0.35270534239967766,
    ];
    const TARGET: [f64; 12] = [
        0.857943577221209,
        0.18236768183548902,
        0.5173623941312923,
        0.7345094594372775,
        0.16143730473999474,
        0.944732144243793,
        0.8404759426799383,
        0.8933692460569335,
        0.8324307206494864,
        0.24911475527277216,
        0.37547237072914286,
        0.2879739211026212,
    ];
    const LOSS_VALUE: f64 = 0.8791802436652584;
    const GRAD: [f64; 12] = [
        -0.1301368022364998,
        -0.0801937873713429,
        0.04511852200739951,
        -0.17607675663601433,
        0.35010748247878737,
        -0.47380210793791905,
        0.07512182340343722,
        -0.19699873413819205,
        -0.14656396861828053,
        0.10905329696610573,
        0.08813597098307911,
        0.023627612313274243,
    ];

    #[test]
    fn matches_pytorch_golden_case() {
        let prediction = rows::<OUTPUTS, BATCH>(&PREDICTION);
        let target = rows::<OUTPUTS, BATCH>(&TARGET);
        check_golden(&Bce, &prediction, &target, LOSS_VALUE, &GRAD);
    }

    #[test]
    fn matches_pytorch_edge_case_with_saturated_predictions() {
        // tests/golden/loss_bce_edge.txt: exact 0 and 1, and 1e-60 (ln below −100).
        let prediction = [[0.0, 1.0, 0.0], [1.0, 1e-60, 0.5]];
        let target = [[1.0, 1.0, 0.0], [0.0, 1.0, 0.25]];
        let grad = [
            -166666667332.63382,
            0.0,
            0.0,
            166666667332.63382,
            -166666667332.63382,
            0.16666666666666666,
        ];
        check_golden(&Bce, &prediction, &target, 50.115524530093325, &grad);
    }

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
