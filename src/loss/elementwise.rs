//! The walk shared by every loss that is a mean of per-element terms over `B·N` elements.

use crate::loss::loss::rows;
use crate::scalar::Scalar;

/// `Σ value(p, t) / (B·N)` over every element; writes `grad = dvalue/dp / (B·N)`.
///
/// `term(p, t)` returns one element's `(value, dvalue/dp)`.
#[inline(always)]
pub(super) fn mean_over_elements<T: Scalar, const N: usize>(
    prediction: &[[T; N]],
    target: &[[T; N]],
    grad: &mut [[T; N]],
    mut term: impl FnMut(T, T) -> (T, T),
) -> T {
    let count = T::from_f64((rows(prediction, target, grad) * N) as f64);
    let scale = T::one() / count;
    let mut sum = T::zero();
    for ((p, t), g) in prediction.iter().zip(target).zip(grad.iter_mut()) {
        for o in 0..N {
            let (value, derivative) = term(p[o], t[o]);
            sum += value;
            g[o] = derivative * scale;
        }
    }
    sum / count
}
