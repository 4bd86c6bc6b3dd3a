//! Every loss's analytic gradient against central differences of its value (f64), at points
//! away from kinks, for batches of 1 and 3.

use constnet::loss::{
    Bce, BceWithLogits, CrossEntropy, CrossEntropyProbs, Huber, L1, Loss, Mse, SmoothL1,
};
use constnet::testing::{GradCheckConfig, grad_check_loss};

/// Predictions and regression targets, batch 3 × 4 outputs. Every difference `p − t` has
/// `|p − t| >= 0.1` and stays at least 0.1 away from 0.5, 1 and 2 (the kinks of L1, Huber and
/// SmoothL1 at the thresholds used below).
const PREDICTION: [[f64; 4]; 3] = [
    [0.3, -1.2, 2.5, 0.05],
    [-0.7, 1.9, 0.0, -3.1],
    [1.4, 0.6, -0.25, 4.0],
];
const TARGET: [[f64; 4]; 3] = [
    [0.0, 0.1, -0.3, 1.25],
    [0.2, 1.1, 1.7, -0.4],
    [-1.0, 0.3, 0.5, 1.5],
];

/// Probabilities in (0.05, 0.95) for `Bce`.
const PROBABILITY: [[f64; 4]; 3] = [
    [0.07, 0.5, 0.93, 0.31],
    [0.62, 0.12, 0.45, 0.88],
    [0.2, 0.76, 0.09, 0.55],
];
/// Soft targets for `Bce`/`BceWithLogits` and distributions (rows sum to 1) for
/// `CrossEntropyProbs`.
const SOFT_TARGET: [[f64; 4]; 3] = [
    [0.1, 0.2, 0.3, 0.4],
    [0.7, 0.0, 0.25, 0.05],
    [0.25, 0.25, 0.25, 0.25],
];
const CLASS: [usize; 3] = [2, 0, 3];

fn first<Tg: Copy>(batch: &[Tg; 3]) -> [Tg; 1] {
    [batch[0]]
}

/// Checks `loss` on the batch of 3 and on its first sample alone.
fn check<Lo: Loss<f64>>(loss: &Lo, prediction: &[[f64; 4]; 3], target: &[Lo::Target<4>; 3]) {
    let config = GradCheckConfig::default();
    if let Err(error) = grad_check_loss(loss, prediction, target, config) {
        panic!("batch 3: {error}");
    }
    let single_prediction = first(prediction);
    let single_target = first(target);
    if let Err(error) = grad_check_loss(loss, &single_prediction, &single_target, config) {
        panic!("batch 1: {error}");
    }
}

#[test]
fn mse() {
    check(&Mse, &PREDICTION, &TARGET);
}

#[test]
fn l1() {
    check(&L1, &PREDICTION, &TARGET);
}

#[test]
fn huber_in_both_zones() {
    check(&Huber::default(), &PREDICTION, &TARGET);
    check(&Huber { delta: 2.0 }, &PREDICTION, &TARGET);
    check(&Huber { delta: 0.5 }, &PREDICTION, &TARGET);
}

#[test]
fn smooth_l1_in_both_zones_and_as_l1() {
    check(&SmoothL1::default(), &PREDICTION, &TARGET);
    check(&SmoothL1 { beta: 2.0 }, &PREDICTION, &TARGET);
    check(&SmoothL1 { beta: 0.5 }, &PREDICTION, &TARGET);
    check(&SmoothL1 { beta: 0.0 }, &PREDICTION, &TARGET);
}

#[test]
fn bce() {
    check(&Bce, &PROBABILITY, &SOFT_TARGET);
    check(&Bce, &PROBABILITY, &[[1.0, 0.0, 1.0, 0.0]; 3]);
}

#[test]
fn bce_with_logits() {
    check(&BceWithLogits, &PREDICTION, &SOFT_TARGET);
}

#[test]
fn cross_entropy() {
    check(&CrossEntropy, &PREDICTION, &CLASS);
}

#[test]
fn cross_entropy_probs() {
    check(&CrossEntropyProbs, &PREDICTION, &SOFT_TARGET);
}

/// The check itself can fail: a loss whose gradient is off by a factor is caught.
#[test]
fn a_wrong_gradient_is_caught() {
    struct DoubledGradient;
    impl Loss<f64> for DoubledGradient {
        type Target<const N: usize> = [f64; N];
        fn loss_rows<const N: usize>(
            &self,
            prediction: &[[f64; N]],
            target: &[[f64; N]],
            grad: &mut [[f64; N]],
        ) -> f64 {
            let value = Mse.loss_rows(prediction, target, grad);
            for g in grad.as_flattened_mut() {
                *g *= 2.0;
            }
            value
        }
    }
    let error = grad_check_loss(
        &DoubledGradient,
        &PREDICTION,
        &TARGET,
        GradCheckConfig::default(),
    )
    .unwrap_err();
    assert_eq!((error.sample, error.index), (0, 0));
    assert!((error.analytic - 2.0 * error.numeric).abs() < 1e-6);
}
