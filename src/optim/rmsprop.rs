//! RMSprop: steps divided by a running root mean square of the gradients, optionally centered
//! and with momentum.

#[cfg(feature = "std")]
use alloc::boxed::Box;

use num_traits::Float;

use crate::optim::optimizer::{Optimizer, for_each_scalar};
use crate::params::Params;
use crate::scalar::Scalar;

/// Hyperparameters of [`RmsProp`], with `torch.optim.RMSprop`'s defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate.
    pub lr: f64,
    /// Smoothing constant α of the running averages.
    pub alpha: f64,
    /// Added to the root mean square (outside the square root).
    pub eps: f64,
    /// L2 penalty added to the gradient (`g += wd·θ`).
    pub weight_decay: f64,
    /// Momentum factor μ (0: none).
    pub momentum: f64,
    /// Divide by the centered second moment `v − ḡ²` (an estimate of the variance) instead
    /// of `v`.
    pub centered: bool,
}

impl RmsPropConfig {
    /// `torch.optim.RMSprop` defaults: lr 0.01, alpha 0.99, eps 1e-8, weight_decay 0,
    /// momentum 0, not centered.
    pub const fn new() -> Self {
        RmsPropConfig {
            lr: 0.01,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
    crate::optim::setters! {
        /// Sets the learning rate.
        lr: f64,
        /// Sets the smoothing constant α.
        alpha: f64,
        /// Sets eps.
        eps: f64,
        /// Sets the (coupled, L2) weight decay.
        weight_decay: f64,
        /// Sets the momentum factor.
        momentum: f64,
        /// Enables the centered variant.
        centered: bool,
    }
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// `torch.optim.RMSprop` for the model type `M`: `g += wd·θ`; `v = α·v + (1 − α)·g²`;
/// centered: `ḡ = α·ḡ + (1 − α)·g`, `avg = sqrt(v − ḡ²) + eps`, else `avg = sqrt(v) + eps`;
/// with momentum μ > 0 `buf = μ·buf + g/avg`, `θ −= lr·buf`, else `θ −= lr·g/avg`.
///
/// ```
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::{Optimizer, RmsProp, RmsPropConfig};
/// type Net = Dense<1, 1, constnet::Identity, f64>;
/// let mut net = Net::zeros();
/// let mut grads = Net::zeros();
/// grads.bias_mut()[0] = 3.0;
/// let mut rmsprop = RmsProp::<Net>::new(RmsPropConfig::new().alpha(0.75));
/// rmsprop.step(&mut net, &grads); // v = 0.25·9: θ = −0.01·3/1.5
/// assert!((net.bias()[0] + 0.02).abs() < 1e-9);
/// ```
#[derive(Clone, Debug)]
pub struct RmsProp<M> {
    config: RmsPropConfig,
    square_avg: M,
    grad_avg: M,
    momentum_buffer: M,
}

crate::impl_zero_bits!(unsafe impl[M: crate::ZeroBits] for RmsProp<M> { config, square_avg, grad_avg, momentum_buffer });
crate::impl_zero_bits!(unsafe impl[] for RmsPropConfig { lr, alpha, eps, weight_decay, momentum, centered });

impl<M: Params> RmsProp<M> {
    /// A fresh optimizer (zero averages and momentum buffer).
    pub fn new(config: RmsPropConfig) -> Self {
        RmsProp {
            config,
            square_avg: M::zeros(),
            grad_avg: M::zeros(),
            momentum_buffer: M::zeros(),
        }
    }

    /// A fresh optimizer built in place on the heap (for models too large for the stack).
    #[cfg(feature = "std")]
    pub fn boxed(config: RmsPropConfig) -> Box<Self> {
        crate::kernel::boxed_with(|slot| {
            crate::kernel::init_fields!(
                slot,
                RmsProp {
                    config: |s| crate::zeros::InPlace::write(s, config),
                    square_avg: crate::zeros::Zeros::zeros_in_place,
                    grad_avg: crate::zeros::Zeros::zeros_in_place,
                    momentum_buffer: crate::zeros::Zeros::zeros_in_place
                }
            )
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &RmsPropConfig {
        &self.config
    }
}

impl<M: Params> Optimizer<M> for RmsProp<M> {
    fn step(&mut self, model: &mut M, grads: &M) {
        let c = self.config;
        let lr = M::Scalar::from_f64(c.lr);
        let wd = M::Scalar::from_f64(c.weight_decay);
        let alpha = M::Scalar::from_f64(c.alpha);
        let one_minus_alpha = M::Scalar::from_f64(1.0 - c.alpha);
        let eps = M::Scalar::from_f64(c.eps);
        let mu = M::Scalar::from_f64(c.momentum);
        let use_momentum = c.momentum > 0.0;
        let states = [
            &mut self.square_avg,
            &mut self.grad_avg,
            &mut self.momentum_buffer,
        ];
        for_each_scalar(model, grads, states, |p, g, [v, g_avg, buf]| {
            let g = g + wd * *p;
            *v = alpha * *v + one_minus_alpha * (g * g);
            let avg = if c.centered {
                *g_avg = alpha * *g_avg + one_minus_alpha * g;
                (*v - *g_avg * *g_avg).sqrt() + eps
            } else {
                v.sqrt() + eps
            };
            if use_momentum {
                *buf = mu * *buf + g / avg;
                *p -= lr * *buf;
            } else {
                *p -= lr * (g / avg);
            }
        });
    }
    fn lr(&self) -> f64 {
        self.config.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

crate::optim::state::optimizer_state!(impl[M: Params] for RmsProp<M> where [] {
    real "lr" => config.lr;
    buffer "square_avg" => square_avg;
    buffer "grad_avg" => grad_avg;
    buffer "momentum_buffer" => momentum_buffer;
});
