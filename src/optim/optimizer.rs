//! The `Optimizer` trait and the flat-slice walk every optimizer is written over.

use crate::params::Params;

/// Updates the parameters of one model type from gradients of the same type.
///
/// State (momentum buffers, moment estimates) has the model's own type, so an optimizer made
/// for one network cannot step another:
///
/// ```
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::{Optimizer, Sgd, SgdConfig};
/// type Net = Dense<2, 1, constnet::Identity, f64>;
/// let mut net = Net::from_rows([[1.0, 1.0]], [0.0]);
/// let mut grads = Net::zeros();
/// grads.bias_mut()[0] = 1.0;
/// let mut sgd = Sgd::<Net>::new(SgdConfig::new().lr(0.5));
/// sgd.step(&mut net, &grads);
/// assert_eq!(net.bias()[0], -0.5);
/// ```
/// ```compile_fail
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::{Optimizer, Sgd, SgdConfig};
/// type Net = Dense<2, 1, constnet::Identity, f64>;
/// type Other = Dense<3, 1, constnet::Identity, f64>;
/// let mut net = Net::zeros();
/// let grads = Net::zeros();
/// let mut sgd = Sgd::<Other>::new(SgdConfig::new().lr(0.5)); // built for another network
/// sgd.step(&mut net, &grads);
/// ```
pub trait Optimizer<M: Params> {
    /// One update of `model` from `grads` (gradients are not modified or zeroed).
    fn step(&mut self, model: &mut M, grads: &M);
    /// The learning rate the next step uses.
    fn lr(&self) -> f64;
    /// Sets the learning rate (schedules call this between steps).
    fn set_lr(&mut self, lr: f64);
}

/// Calls `f(param, grad, [state; S])` for every scalar of `model`, walking `model`, `grads`
/// and `S` state values of the model's type in lockstep, tensor by tensor.
#[inline]
pub(crate) fn for_each_scalar<M: Params, const S: usize>(
    model: &mut M,
    grads: &M,
    states: [&mut M; S],
    mut f: impl FnMut(&mut M::Scalar, M::Scalar, [&mut M::Scalar; S]),
) {
    let mut state_iters = states.map(|s| s.tensors_mut());
    for (p, g) in model.tensors_mut().zip(grads.tensors()) {
        let mut st = state_iters
            .each_mut()
            .map(|it| it.next().expect("state has the model's type"));
        for i in 0..p.len() {
            f(&mut p[i], g[i], st.each_mut().map(|s| &mut s[i]));
        }
    }
}

/// Calls `f(param, &mut grad)` for every scalar of `model` (read-only) and `grads` in
/// lockstep, tensor by tensor: the walk of penalties, which add into the gradients.
#[inline]
pub(crate) fn for_each_grad<M: Params>(
    model: &M,
    grads: &mut M,
    mut f: impl FnMut(M::Scalar, &mut M::Scalar),
) {
    for (p, g) in model.tensors().zip(grads.tensors_mut()) {
        for (&p, g) in p.iter().zip(g.iter_mut()) {
            f(p, g);
        }
    }
}

/// Sets every scalar of `state` to `value` (state that does not start at zero).
pub(crate) fn fill<M: Params>(state: &mut M, value: M::Scalar) {
    for t in state.tensors_mut() {
        t.fill(value);
    }
}

/// `max(a, b)` that propagates a NaN from either side, like `torch.maximum`.
#[inline(always)]
pub(crate) fn nan_max<T: crate::scalar::Scalar>(a: T, b: T) -> T {
    if a.is_nan() || a >= b { a } else { b }
}

/// `x`, or zero when `x` is subnormal. Optimizer state that decays geometrically (a moment
/// whose gradient stays zero, as for a dead ReLU unit) would otherwise sink into the
/// subnormal range, where `0.9·x` can round back to `x` and every later step runs 10–100×
/// slower on x86. Flushing changes a parameter by less than `lr·2⁻¹²⁶/eps`, far below its
/// rounding; PyTorch's CPU optimizers keep such values (unless `torch.set_flush_denormal`).
#[inline(always)]
pub(crate) fn flush_subnormal<T: crate::scalar::Scalar>(x: T) -> T {
    if x.abs() < T::min_positive_value() {
        T::zero()
    } else {
        x
    }
}
