//! Whole-data-set helpers: predictions, class decisions, accuracy, confusion matrix, and a
//! loss-and-metrics evaluation. They run one sample at a time through `forward` (inference
//! mode): no heap, no scratch, usable without `std`.

use crate::fit::metrics::Metrics;
use crate::fit::target::{FitTarget, MetricSum};
use crate::layer::Layer;
use crate::loss::Loss;
use crate::scalar::Scalar;
use num_traits::Zero;

/// The index of the largest value (the first one on ties; NaN values are never chosen unless
/// every value is NaN, then 0): the predicted class of a classifier's logits or
/// probabilities.
///
/// ```
/// assert_eq!(constnet::fit::argmax(&[0.1f32, 2.0, -1.0, 2.0]), 1);
/// ```
#[inline]
pub fn argmax<T: Scalar, const N: usize>(values: &[T; N]) -> usize {
    let mut best = 0;
    for (index, &value) in values.iter().enumerate() {
        if value > values[best] || values[best].is_nan() && !value.is_nan() {
            best = index;
        }
    }
    best
}

/// Writes `model.forward(x)` for every input into `outputs`.
///
/// # Panics
/// If `outputs` and `inputs` differ in length.
///
/// ```
/// use constnet::{Dense, Identity};
/// let model = Dense::<1, 1, Identity, f64>::from_rows([[2.0]], [1.0]);
/// let mut outputs = [[0.0]; 2];
/// constnet::fit::predict(&model, &[[1.0], [3.0]], &mut outputs);
/// assert_eq!(outputs, [[3.0], [7.0]]);
/// ```
pub fn predict<M: Layer>(model: &M, inputs: &[M::Input], outputs: &mut [M::Output]) {
    assert_eq!(inputs.len(), outputs.len(), "one output per input");
    for (output, input) in outputs.iter_mut().zip(inputs) {
        *output = model.forward(input);
    }
}

/// The fraction of inputs whose predicted class ([`argmax`] of the outputs) is the label (0
/// for no input).
///
/// # Panics
/// If `labels` and `inputs` differ in length.
///
/// ```
/// use constnet::{Dense, Identity};
/// // Class 1 when x > 0: logits [0, x].
/// let model = Dense::<1, 2, Identity, f64>::from_rows([[0.0], [1.0]], [0.0, 0.0]);
/// let accuracy = constnet::fit::accuracy(&model, &[[1.0], [-1.0], [2.0]], &[1, 0, 0]);
/// assert_eq!(accuracy, 2.0 / 3.0);
/// ```
pub fn accuracy<M, const N: usize>(model: &M, inputs: &[M::Input], labels: &[usize]) -> f64
where
    M: Layer<Output = [<M as crate::Params>::Scalar; N]>,
{
    assert_eq!(inputs.len(), labels.len(), "one label per input");
    let mut correct = 0usize;
    for (input, &label) in inputs.iter().zip(labels) {
        correct += usize::from(argmax(&model.forward(input)) == label);
    }
    correct as f64 / inputs.len().max(1) as f64
}

/// The confusion matrix `[true class][predicted class]` (counts) of a classifier with `N`
/// classes.
///
/// # Panics
/// If `labels` and `inputs` differ in length, or a label is not below `N`.
///
/// ```
/// use constnet::{Dense, Identity};
/// let model = Dense::<1, 2, Identity, f64>::from_rows([[0.0], [1.0]], [0.0, 0.0]);
/// let matrix = constnet::fit::confusion_matrix(&model, &[[1.0], [-1.0], [2.0]], &[1, 0, 0]);
/// assert_eq!(matrix, [[1, 1], [0, 1]]);
/// ```
pub fn confusion_matrix<M, const N: usize>(
    model: &M,
    inputs: &[M::Input],
    labels: &[usize],
) -> [[u32; N]; N]
where
    M: Layer<Output = [<M as crate::Params>::Scalar; N]>,
{
    assert_eq!(inputs.len(), labels.len(), "one label per input");
    let mut matrix = [[0u32; N]; N];
    for (input, &label) in inputs.iter().zip(labels) {
        assert!(label < N, "label {label} out of range for {N} classes");
        matrix[label][argmax(&model.forward(input))] += 1;
    }
    matrix
}

/// A model's mean loss and [`Metrics`] on a data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// The loss's mean over every sample (as one batch of all of them would give).
    pub loss: f64,
    /// Accuracy for class-index targets; MSE and MAE for value targets.
    pub metrics: Metrics,
}

/// The mean loss and the metrics of `model` (inference mode) on `inputs` and `targets`.
///
/// # Panics
/// If `targets` and `inputs` differ in length, or a class index is out of range (the loss
/// panics; [`Fit`](crate::fit::Fit) checks targets first and returns an error instead).
///
/// ```
/// use constnet::{Dense, Identity};
/// use constnet::loss::Mse;
/// let model = Dense::<1, 1, Identity, f64>::from_rows([[2.0]], [0.0]);
/// let result = constnet::fit::evaluate(&model, &Mse, &[[1.0], [2.0]], &[[1.0], [4.0]]);
/// assert_eq!(result.loss, 0.5); // errors 1 and 0
/// assert_eq!(result.metrics.mae(), Some(0.5));
/// ```
pub fn evaluate<M, L, const N: usize>(
    model: &M,
    loss: &L,
    inputs: &[M::Input],
    targets: &[L::Target<N>],
) -> Evaluation
where
    M: Layer<Output = [<M as crate::Params>::Scalar; N]>,
    L: Loss<<M as crate::Params>::Scalar>,
    L::Target<N>: FitTarget<<M as crate::Params>::Scalar, N>,
{
    assert_eq!(inputs.len(), targets.len(), "one target per input");
    let mut sum = MetricSum::default();
    let mut loss_sum = 0.0;
    let mut grad = [<M as crate::Params>::Scalar::zero(); N];
    for (input, target) in inputs.iter().zip(targets) {
        let output = model.forward(input);
        loss_sum += loss.loss(&output, target, &mut grad).to_f64();
        target.score(&output, &mut sum);
    }
    Evaluation {
        loss: loss_sum / inputs.len().max(1) as f64,
        metrics: <L::Target<N> as FitTarget<_, N>>::metrics(&sum),
    }
}
