//! L1 and L2 penalties on the parameters: each returns its value, to add to the loss, and
//! adds its gradient into the gradients.
//!
//! Decoupled weight decay is not a penalty: use [`AdamW`](super::AdamW) or
//! [`NAdam`](super::NAdam) with `decoupled_weight_decay`.

use num_traits::Float;

use crate::optim::optimizer::for_each_grad;
use crate::params::Params;
use crate::scalar::Scalar;

/// L1 penalty `λ·Σ|θ|` over every parameter: returns it (summed in `f64`) and adds its
/// gradient `λ·sign(θ)` into `grads` (with `sign(0) = 0`, PyTorch's gradient of `abs` at 0).
///
/// ```
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::l1_penalty;
/// type Net = Dense<1, 1, constnet::Identity, f64>;
/// let net = Net::from_rows([[-2.0]], [0.5]);
/// let mut grads = Net::zeros();
/// let penalty = l1_penalty(&net, &mut grads, 0.1);
/// assert!((penalty - 0.25).abs() < 1e-15);
/// assert_eq!((grads.weight(0, 0), grads.bias()[0]), (-0.1, 0.1));
/// ```
pub fn l1_penalty<M: Params>(model: &M, grads: &mut M, lambda: f64) -> f64 {
    let step = M::Scalar::from_f64(lambda);
    let zero = M::Scalar::from_f64(0.0);
    let mut sum = 0.0f64;
    for_each_grad(model, grads, |p, g| {
        sum += Float::abs(Scalar::to_f64(p));
        if p > zero {
            *g += step;
        } else if p < zero {
            *g -= step;
        }
    });
    lambda * sum
}

/// L2 penalty `λ/2·Σθ²` over every parameter: returns it (summed in `f64`) and adds its
/// gradient `λ·θ` into `grads`.
///
/// The ½ makes the gradient exactly that of `weight_decay = λ` in [`Sgd`](super::Sgd) or
/// [`Adam`](super::Adam) (coupled L2). A PyTorch loss written as `λ·Σθ²` is this function
/// with `2λ`.
///
/// ```
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::l2_penalty;
/// type Net = Dense<1, 1, constnet::Identity, f64>;
/// let net = Net::from_rows([[-2.0]], [1.0]);
/// let mut grads = Net::zeros();
/// let penalty = l2_penalty(&net, &mut grads, 0.5);
/// assert_eq!(penalty, 0.25 * (4.0 + 1.0));
/// assert_eq!((grads.weight(0, 0), grads.bias()[0]), (-1.0, 0.5));
/// ```
pub fn l2_penalty<M: Params>(model: &M, grads: &mut M, lambda: f64) -> f64 {
    let scale = M::Scalar::from_f64(lambda);
    let mut sum = 0.0f64;
    for_each_grad(model, grads, |p, g| {
        let p64 = Scalar::to_f64(p);
        sum += p64 * p64;
        *g += scale * p;
    });
    0.5 * lambda * sum
}
