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
        // Every slice cut to the same length up front, so the loop below has no bounds
        // checks left and vectorizes.
        let n = p.len();
        let g = &g[..n];
        let mut st = state_iters
            .each_mut()
            .map(|it| &mut it.next().expect("state has the model's type")[..n]);
        for i in 0..n {
            f(&mut p[i], g[i], st.each_mut().map(|s| &mut s[i]));
        }
    }
}

/// Calls `f(params, grads, [state; S])` for every tensor of `model`, with `grads` and `S`
/// state values of the model's type walked in lockstep (all slices of one length): for
/// updates written as `zip` loops over whole tensors, which the compiler vectorizes.
#[inline]
pub(crate) fn for_each_tensor<M: Params, const S: usize>(
    model: &mut M,
    grads: &M,
    states: [&mut M; S],
    mut f: impl FnMut(&mut [M::Scalar], &[M::Scalar], [&mut [M::Scalar]; S]),
) {
    let mut state_iters = states.map(|s| s.tensors_mut());
    for (p, g) in model.tensors_mut().zip(grads.tensors()) {
        let n = p.len();
        let st = state_iters
            .each_mut()
            .map(|it| &mut it.next().expect("state has the model's type")[..n]);
        f(p, &g[..n], st);
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

pub(crate) use crate::kernel::adam::{flush_subnormal, nan_max};
