//! Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

#[cfg(feature = "std")]
use alloc::boxed::Box;

use crate::optim::optimizer::{Optimizer, flush_subnormal, for_each_scalar};
use crate::params::Params;
use crate::scalar::Scalar;

/// Hyperparameters of [`Sgd`], with `torch.optim.SGD`'s defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate.
    pub lr: f64,
    /// Momentum factor μ (0: none).
    pub momentum: f64,
    /// Dampening of the momentum buffer (not applied on the first step, as PyTorch).
    pub dampening: f64,
    /// L2 penalty added to the gradient (`g += wd·θ`).
    pub weight_decay: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
}

impl SgdConfig {
    /// `torch.optim.SGD` defaults: lr 1e-3, no momentum, dampening 0, weight_decay 0, no
    /// Nesterov.
    pub const fn new() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
    crate::optim::setters! {
        /// Sets the learning rate.
        lr: f64,
        /// Sets the momentum factor.
        momentum: f64,
        /// Sets the dampening.
        dampening: f64,
        /// Sets the (coupled, L2) weight decay.
        weight_decay: f64,
        /// Enables Nesterov momentum.
        nesterov: bool,
    }
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// `torch.optim.SGD` for the model type `M`: `g += wd·θ`; with momentum μ, `buf = g` on the
/// first step and `buf = μ·buf + (1 − dampening)·g` after; `g = g + μ·buf` (Nesterov) or
/// `g = buf`; `θ −= lr·g`.
///
/// ```
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::{Optimizer, Sgd, SgdConfig};
/// type Net = Dense<1, 1, constnet::Identity, f64>;
/// let mut net = Net::zeros();
/// let mut grads = Net::zeros();
/// grads.bias_mut()[0] = 1.0;
/// let mut sgd = Sgd::<Net>::new(SgdConfig::new().lr(0.1).momentum(0.9));
/// sgd.step(&mut net, &grads); // buf = 1
/// sgd.step(&mut net, &grads); // buf = 1.9
/// assert!((net.bias()[0] + 0.29).abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd<M> {
    config: SgdConfig,
    steps: u64,
    momentum_buffer: M,
}

crate::impl_zero_bits!(unsafe impl[M: crate::ZeroBits] for Sgd<M> { config, steps, momentum_buffer });
crate::impl_zero_bits!(unsafe impl[] for SgdConfig { lr, momentum, dampening, weight_decay, nesterov });

impl<M: Params> Sgd<M> {
    /// A fresh optimizer (zero momentum buffer).
    pub fn new(config: SgdConfig) -> Self {
        Sgd {
            config,
            steps: 0,
            momentum_buffer: M::zeros(),
        }
    }

    /// A fresh optimizer built in place on the heap (for models too large for the stack).
    #[cfg(feature = "std")]
    pub fn boxed(config: SgdConfig) -> Box<Self> {
        crate::kernel::boxed_with(|slot| {
            crate::kernel::init_fields!(
                slot,
                Sgd {
                    config: |s| crate::zeros::InPlace::write(s, config),
                    steps: |s| crate::zeros::InPlace::write(s, 0),
                    momentum_buffer: crate::zeros::Zeros::zeros_in_place
                }
            )
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }
}

impl<M: Params> Optimizer<M> for Sgd<M> {
    fn step(&mut self, model: &mut M, grads: &M) {
        let c = self.config;
        let first = self.steps == 0;
        self.steps += 1;
        let lr = M::Scalar::from_f64(c.lr);
        let wd = M::Scalar::from_f64(c.weight_decay);
        let mu = M::Scalar::from_f64(c.momentum);
        let keep = M::Scalar::from_f64(1.0 - c.dampening);
        let use_momentum = c.momentum != 0.0;
        for_each_scalar(model, grads, [&mut self.momentum_buffer], |p, g, [buf]| {
            let mut g = g + wd * *p;
            if use_momentum {
                *buf = flush_subnormal(if first { g } else { mu * *buf + keep * g });
                g = if c.nesterov { g + mu * *buf } else { *buf };
            }
            *p -= lr * g;
        });
    }
    fn lr(&self) -> f64 {
        self.config.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

crate::optim::state::optimizer_state!(impl[M: Params] for Sgd<M> where [] {
    real "lr" => config.lr;
    count "steps" => steps;
    buffer "momentum_buffer" => momentum_buffer;
});
