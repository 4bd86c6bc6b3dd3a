//! Cross-entropy on logits with class-index targets, with the softmax fused in.

use crate::loss::Loss;
use crate::loss::loss::rows;
use crate::scalar::Scalar;

/// Values staged for one call of the vector exponential: rows of `N ≤ STAGE` logits go through
/// it together (one call for a batch of small rows rather than one per row).
const STAGE: usize = 256;

/// For every row `r` of `logits`: writes `e^(z_j − max z)` into `exponentials[r]` and calls
/// `row_done(r, &mut exponentials[r], max z, Σ_j e^(z_j − max z))`.
///
/// Subtracting the maximum keeps every exponent `<= 0`, so no logit overflows (±1000 is fine)
/// and the sum is at least 1. Then `log_softmax(z)_j = (z_j − max) − ln(sum)`. A NaN logit
/// makes its row's sum NaN.
#[inline]
pub(super) fn for_each_softmax_row<T: Scalar, const N: usize>(
    logits: &[[T; N]],
    exponentials: &mut [[T; N]],
    mut row_done: impl FnMut(usize, &mut [T; N], T, T),
) {
    let row_max = |row: &[T; N]| {
        row.iter()
            .fold(T::neg_infinity(), |max, &z| if z > max { z } else { max })
    };
    let sum = |row: &[T; N]| row.iter().fold(T::zero(), |sum, &e| sum + e);
    if N == 0 || N > STAGE {
        for (r, (row, out)) in logits.iter().zip(exponentials.iter_mut()).enumerate() {
            let max = row_max(row);
            T::exp_slice(&row.map(|z| z - max), out);
            let total = sum(out);
            row_done(r, out, max, total);
        }
        return;
    }
    let rows_per_stage = STAGE / N;
    let mut stage = [T::zero(); STAGE];
    let mut maxes = [T::zero(); STAGE];
    for (chunk, (rows, outs)) in logits
        .chunks(rows_per_stage)
        .zip(exponentials.chunks_mut(rows_per_stage))
        .enumerate()
    {
        for ((row, staged), max) in rows.iter().zip(stage.chunks_exact_mut(N)).zip(&mut maxes) {
            *max = row_max(row);
            for (s, &z) in staged.iter_mut().zip(row) {
                *s = z - *max;
            }
        }
        T::exp_slice(&stage[..rows.len() * N], outs.as_flattened_mut());
        for (k, (out, &max)) in outs.iter_mut().zip(&maxes).enumerate() {
            let total = sum(out);
            row_done(chunk * rows_per_stage + k, out, max, total);
        }
    }
}

/// PyTorch's `F.cross_entropy(logits, class_index)`: per sample `−log_softmax(p)[t]` with the
/// class index `t`, computed through a max-shifted log-sum-exp; mean over the **batch** `B`
/// (not `B·N`).
///
/// The gradient is `(softmax(p) − onehot(t)) / B`. Value and gradient stay finite for logits
/// of any size (±1000 included). Take raw logits: no `Softmax` layer before this loss.
///
/// # Panics
///
/// If a class index is `>= N` (`"class index {t} out of range for {N} classes"`). Class
/// indices are runtime data, so this cannot be a compile-time error; it is a caller bug.
///
/// # Examples
///
/// ```
/// use constnet::loss::{CrossEntropy, Loss};
/// let mut grad = [0.0f64; 2];
/// let value = CrossEntropy.loss(&[0.0, 0.0], &1, &mut grad);
/// assert_eq!(value, core::f64::consts::LN_2); // −ln(1/2)
/// assert_eq!(grad, [0.5, -0.5]);
/// ```
///
/// The batch size is part of the type: a batch of 2 predictions takes 2 class indices...
///
/// ```
/// use constnet::loss::{CrossEntropy, Loss};
/// let prediction = [[1.0f64, 2.0, 0.5], [0.0, -1.0, 3.0]];
/// let target = [1usize; 2];
/// let mut grad = [[0.0; 3]; 2];
/// let _ = CrossEntropy.loss_batch(&prediction, &target, &mut grad);
/// ```
///
/// ...and 3 class indices for 2 predictions do not compile:
///
/// ```compile_fail
/// use constnet::loss::{CrossEntropy, Loss};
/// let prediction = [[1.0f64, 2.0, 0.5], [0.0, -1.0, 3.0]];
/// let target = [1usize; 3];
/// let mut grad = [[0.0; 3]; 2];
/// let _ = CrossEntropy.loss_batch(&prediction, &target, &mut grad);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CrossEntropy;

impl<T: Scalar> Loss<T> for CrossEntropy {
    type Target<const N: usize> = usize;

    fn loss_rows<const N: usize>(
        &self,
        prediction: &[[T; N]],
        target: &[usize],
        grad: &mut [[T; N]],
    ) -> T {
        let batch = T::from_f64(rows(prediction, target, grad) as f64);
        let inv_batch = T::one() / batch;
        if let Some(&t) = target.iter().find(|&&t| t >= N) {
            panic!("class index {t} out of range for {N} classes");
        }
        let mut sum = T::zero();
        for_each_softmax_row(prediction, grad, |r, g, max, exp_sum| {
            let (p, t) = (&prediction[r], target[r]);
            // −log_softmax(p)[t] = ln(Σ e^(p_j − max)) − (p_t − max)
            sum += exp_sum.ln() - (p[t] - max);
            let softmax_scale = inv_batch / exp_sum;
            for e in g.iter_mut() {
                *e *= softmax_scale;
            }
            g[t] -= inv_batch;
        });
        sum / batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::Float; // `Float::ln`/`Float::exp`: inherent f64 ones are std-only

    #[test]
    fn hand_computed_mean_over_batch_not_elements() {
        // Sample 0: logits [ln 1, ln 3], class 1: softmax [1/4, 3/4], loss −ln(3/4).
        // Sample 1: logits [2, 2], class 0: softmax [1/2, 1/2], loss ln 2. Mean over B = 2.
        let prediction = [[0.0f64, Float::ln(3.0f64)], [2.0, 2.0]];
        let mut grad = [[0.0; 2]; 2];
        let value = CrossEntropy.loss_batch(&prediction, &[1, 0], &mut grad);
        let want = (-Float::ln(0.75f64) + Float::ln(2.0f64)) / 2.0;
        assert!((value - want).abs() < 1e-15, "{value} vs {want}");
        let want_grad = [[0.125, -0.125], [-0.25, 0.25]];
        for (g, w) in grad.as_flattened().iter().zip(want_grad.as_flattened()) {
            assert!((g - w).abs() < 1e-15, "{g} vs {w}");
        }
    }

    #[test]
    fn logits_near_plus_minus_1000_are_finite() {
        let prediction = [[1000.0f64, -1000.0, 999.0], [-1000.0, -1000.0, -999.0]];
        let mut grad = [[0.0; 3]; 2];
        let value = CrossEntropy.loss_batch(&prediction, &[1, 2], &mut grad);
        assert!(value.is_finite() && grad.as_flattened().iter().all(|g| g.is_finite()));
        // Sample 0: ln(1 + e^−1) + 2000; sample 1: ln(1 + 2e^−1).
        let e = Float::exp(-1.0f64);
        let want = (Float::ln(1.0 + e) + 2000.0 + Float::ln(1.0 + 2.0 * e)) / 2.0;
        assert!((value - want).abs() < 1e-12 * want, "{value} vs {want}");
        let softmax0 = [1.0 / (1.0 + e), 0.0, e / (1.0 + e)];
        assert!((grad[0][0] - softmax0[0] / 2.0).abs() < 1e-15);
        assert_eq!(grad[0][1], -0.5);
        assert!((grad[0][2] - softmax0[2] / 2.0).abs() < 1e-15);
        let mut grad32 = [0.0f32; 2];
        let value32 = CrossEntropy.loss(&[1000.0f32, -1000.0], &1, &mut grad32);
        assert_eq!((value32, grad32), (2000.0, [1.0, -1.0]));
    }

    #[test]
    #[should_panic(expected = "class index 3 out of range for 3 classes")]
    fn class_index_out_of_range_panics() {
        let mut grad = [0.0f64; 3];
        let _ = CrossEntropy.loss(&[0.1, 0.2, 0.3], &3, &mut grad);
    }
}
