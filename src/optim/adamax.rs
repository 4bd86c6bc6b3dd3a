//! Adamax: Adam with the infinity norm in place of the second moment.

#[cfg(feature = "std")]
use alloc::boxed::Box;

use num_traits::Float;

use crate::optim::optimizer::{Optimizer, for_each_scalar, nan_max};
use crate::params::Params;
use crate::scalar::Scalar;

/// Hyperparameters of [`Adamax`], with `torch.optim.Adamax`'s defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamaxConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay β1 of the first-moment average.
    pub beta1: f64,
    /// Decay β2 of the infinity norm.
    pub beta2: f64,
    /// Added to `|g|` inside the maximum.
    pub eps: f64,
    /// L2 penalty added to the gradient (`g += wd·θ`).
    pub weight_decay: f64,
}

impl AdamaxConfig {
    /// `torch.optim.Adamax` defaults: lr 2e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0.
    pub const fn new() -> Self {
        AdamaxConfig {
            lr: 2e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
    crate::optim::setters! {
        /// Sets the learning rate.
        lr: f64,
        /// Sets eps.
        eps: f64,
        /// Sets the (coupled, L2) weight decay.
        weight_decay: f64,
    }
    /// Sets β1 and β2.
    pub const fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }
}

impl Default for AdamaxConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// `torch.optim.Adamax` for the model type `M`: `g += wd·θ`; `m = β1·m + (1 − β1)·g`;
/// `u = max(β2·u, |g| + eps)` (eps inside the maximum); `θ −= lr/(1 − β1ᵗ) · m/u`.
///
/// ```
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::{Adamax, AdamaxConfig, Optimizer};
/// type Net = Dense<1, 1, constnet::Identity, f64>;
/// let mut net = Net::zeros();
/// let mut grads = Net::zeros();
/// grads.bias_mut()[0] = -4.0;
/// let mut adamax = Adamax::<Net>::new(AdamaxConfig::new().lr(0.1));
/// adamax.step(&mut net, &grads); // m/(1 − β1) = g, u = |g|: θ moves by lr
/// assert!((net.bias()[0] - 0.1).abs() < 1e-8);
/// ```
#[derive(Clone, Debug)]
pub struct Adamax<M> {
    config: AdamaxConfig,
    steps: u64,
    exp_avg: M,
    exp_inf: M,
}

crate::impl_zero_bits!(unsafe impl[M: crate::ZeroBits] for Adamax<M> { config, steps, exp_avg, exp_inf });
crate::impl_zero_bits!(unsafe impl[] for AdamaxConfig { lr, beta1, beta2, eps, weight_decay });

impl<M: Params> Adamax<M> {
    /// A fresh optimizer (zero moment and norm).
    pub fn new(config: AdamaxConfig) -> Self {
        Adamax {
            config,
            steps: 0,
            exp_avg: M::zeros(),
            exp_inf: M::zeros(),
        }
    }

    /// A fresh optimizer built in place on the heap (for models too large for the stack).
    #[cfg(feature = "std")]
    pub fn boxed(config: AdamaxConfig) -> Box<Self> {
        crate::kernel::boxed_with(|slot| {
            crate::kernel::init_fields!(
                slot,
                Adamax {
                    config: |s| crate::zeros::InPlace::write(s, config),
                    steps: |s| crate::zeros::InPlace::write(s, 0),
                    exp_avg: crate::zeros::Zeros::zeros_in_place,
                    exp_inf: crate::zeros::Zeros::zeros_in_place
                }
            )
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamaxConfig {
        &self.config
    }
}

impl<M: Params> Optimizer<M> for Adamax<M> {
    fn step(&mut self, model: &mut M, grads: &M) {
        let c = self.config;
        self.steps += 1;
        let bias_correction = 1.0 - Float::powf(c.beta1, self.steps as f64);
        let clr = M::Scalar::from_f64(c.lr / bias_correction);
        let wd = M::Scalar::from_f64(c.weight_decay);
        let beta1 = M::Scalar::from_f64(c.beta1);
        let one_minus_beta1 = M::Scalar::from_f64(1.0 - c.beta1);
        let beta2 = M::Scalar::from_f64(c.beta2);
        let eps = M::Scalar::from_f64(c.eps);
        let states = [&mut self.exp_avg, &mut self.exp_inf];
        for_each_scalar(model, grads, states, |p, g, [m, u]| {
            let g = g + wd * *p;
            *m = beta1 * *m + one_minus_beta1 * g;
            *u = nan_max(beta2 * *u, g.abs() + eps);
            *p -= clr * (*m / *u);
        });
    }
    fn lr(&self) -> f64 {
        self.config.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

crate::optim::state::optimizer_state!(impl[M: Params] for Adamax<M> where [] {
    real "lr" => config.lr;
    count "steps" => steps;
    buffer "exp_avg" => exp_avg;
    buffer "exp_inf" => exp_inf;
});
