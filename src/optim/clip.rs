//! Gradient clipping: by global L2 norm and by value, as `torch.nn.utils` does it.

use num_traits::Float;

use crate::params::Params;
use crate::scalar::Scalar;

/// The L2 norm of all the gradients together, accumulated in `f64` (NaN or infinite when a
/// gradient is): what [`clip_grad_norm`] compares with `max_norm`, and what a training loop
/// checks for divergence.
///
/// ```
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::grad_norm;
/// type Net = Dense<1, 1, constnet::Identity, f64>;
/// let mut grads = Net::zeros();
/// grads.set_weight(0, 0, 3.0);
/// grads.bias_mut()[0] = 4.0;
/// assert_eq!(grad_norm(&grads), 5.0);
/// ```
pub fn grad_norm<M: Params>(grads: &M) -> f64 {
    // Eight independent partial sums, so the loop vectorizes instead of waiting on one add.
    const LANES: usize = 8;
    let mut partial = [0.0f64; LANES];
    for t in grads.tensors() {
        let mut chunks = t.chunks_exact(LANES);
        for chunk in &mut chunks {
            for (sum, &g) in partial.iter_mut().zip(chunk) {
                let g = Scalar::to_f64(g);
                *sum += g * g;
            }
        }
        for (sum, &g) in partial.iter_mut().zip(chunks.remainder()) {
            let g = Scalar::to_f64(g);
            *sum += g * g;
        }
    }
    Float::sqrt(partial.iter().sum::<f64>())
}

/// `torch.nn.utils.clip_grad_norm_(params, max_norm, 2.0)`: scales every gradient by
/// `max_norm / (total + 1e-6)` when that is below 1, where `total` is the L2 norm of all the
/// gradients together (accumulated in `f64`). Returns `total`, the norm **before** clipping.
///
/// A clipped gradient has norm `max_norm·total/(total + 1e-6)`, slightly below `max_norm`.
/// When `total` is not finite (a NaN or infinite gradient), it is returned and the gradients
/// are left unchanged (PyTorch would multiply them by a NaN or zero factor): a training loop
/// should treat a non-finite norm as divergence and skip the step.
///
/// ```
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::clip_grad_norm;
/// type Net = Dense<1, 1, constnet::Identity, f64>;
/// let mut grads = Net::zeros();
/// grads.set_weight(0, 0, 3.0);
/// grads.bias_mut()[0] = 4.0;
/// let total = clip_grad_norm(&mut grads, 1.0);
/// assert_eq!(total, 5.0);
/// assert!((grads.bias()[0] - 0.8).abs() < 1e-6);
/// ```
pub fn clip_grad_norm<M: Params>(grads: &mut M, max_norm: f64) -> f64 {
    let total = grad_norm(grads);
    if !total.is_finite() {
        return total;
    }
    let coef = max_norm / (total + 1e-6);
    if coef < 1.0 {
        let coef = M::Scalar::from_f64(coef);
        for t in grads.tensors_mut() {
            for g in t {
                *g *= coef;
            }
        }
    }
    total
}

/// `torch.nn.utils.clip_grad_value_(params, value)`: clamps every gradient element to
/// `[−value, value]` (a NaN stays NaN).
///
/// ```
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::clip_grad_value;
/// type Net = Dense<1, 1, constnet::Identity, f64>;
/// let mut grads = Net::zeros();
/// grads.set_weight(0, 0, -3.0);
/// grads.bias_mut()[0] = 0.25;
/// clip_grad_value(&mut grads, 0.5);
/// assert_eq!((grads.weight(0, 0), grads.bias()[0]), (-0.5, 0.25));
/// ```
pub fn clip_grad_value<M: Params>(grads: &mut M, value: f64) {
    let high = M::Scalar::from_f64(value);
    let low = -high;
    for t in grads.tensors_mut() {
        for g in t {
            if *g > high {
                *g = high;
            } else if *g < low {
                *g = low;
            }
        }
    }
}
