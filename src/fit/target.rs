//! `FitTarget`: what a training target is to the loop: checked before training, and scored.

use num_traits::Float;

use crate::fit::evaluate::argmax;
use crate::fit::metrics::Metrics;
use crate::scalar::Scalar;

/// A running sum of a metric over samples, turned into [`Metrics`] by
/// [`FitTarget::metrics`]. Plain counters: it allocates nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MetricSum {
    /// Samples scored.
    pub samples: usize,
    /// Samples whose largest output is the target class (classification).
    pub correct: usize,
    /// Σ (prediction − target)² over every element (regression).
    pub squared_error: f64,
    /// Σ |prediction − target| over every element (regression).
    pub absolute_error: f64,
    /// Elements scored (regression: `samples · N`).
    pub elements: usize,
}

/// A per-sample training target for an output of `N` values, as the training loop sees it:
/// [`check`](FitTarget::check)ed before the first step (so a bad label is an error naming its
/// row, never a panic halfway through an epoch), and scored into [`Metrics`].
///
/// - a class index `usize` (for [`CrossEntropy`](crate::loss::CrossEntropy)) must be below
///   `N`; it is scored by accuracy (the largest output, first on ties, against the index);
/// - a value target `[T; N]` (regression losses, probability targets) must be finite; it is
///   scored by the mean squared and the mean absolute error of the outputs.
pub trait FitTarget<T: Scalar, const N: usize>: Copy {
    /// Whether this target is valid for an output of `N` values.
    fn check(&self) -> bool;
    /// Adds one sample's prediction to `sum`.
    fn score(&self, prediction: &[T; N], sum: &mut MetricSum);
    /// The metrics of a finished sum.
    fn metrics(sum: &MetricSum) -> Metrics;
}

impl<T: Scalar, const N: usize> FitTarget<T, N> for usize {
    fn check(&self) -> bool {
        *self < N
    }
    #[inline]
    fn score(&self, prediction: &[T; N], sum: &mut MetricSum) {
        sum.samples += 1;
        sum.correct += usize::from(argmax(prediction) == *self);
    }
    fn metrics(sum: &MetricSum) -> Metrics {
        Metrics::Accuracy(sum.correct as f64 / sum.samples.max(1) as f64)
    }
}

impl<T: Scalar, const N: usize> FitTarget<T, N> for [T; N] {
    fn check(&self) -> bool {
        self.iter().all(|v| v.is_finite())
    }
    #[inline]
    fn score(&self, prediction: &[T; N], sum: &mut MetricSum) {
        sum.samples += 1;
        sum.elements += N;
        for (&p, &t) in prediction.iter().zip(self) {
            let d = (p - t).to_f64();
            sum.squared_error += d * d;
            sum.absolute_error += Float::abs(d);
        }
    }
    fn metrics(sum: &MetricSum) -> Metrics {
        let elements = sum.elements.max(1) as f64;
        Metrics::Regression {
            mse: sum.squared_error / elements,
            mae: sum.absolute_error / elements,
        }
    }
}
