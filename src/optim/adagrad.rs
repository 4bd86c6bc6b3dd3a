//! Adagrad: per-parameter steps shrinking with the sum of squared gradients.

#[cfg(feature = "std")]
use alloc::boxed::Box;

use num_traits::Float;

use crate::optim::optimizer::{Optimizer, fill, for_each_scalar};
use crate::params::Params;
use crate::scalar::Scalar;

/// Hyperparameters of [`Adagrad`], with `torch.optim.Adagrad`'s defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate.
    pub lr: f64,
    /// Learning-rate decay: step t uses `lr / (1 + (t − 1)·lr_decay)`.
    pub lr_decay: f64,
    /// L2 penalty added to the gradient (`g += wd·θ`).
    pub weight_decay: f64,
    /// The value every element of the squared-gradient sum starts at.
    pub initial_accumulator_value: f64,
    /// Added to the square root of the sum (outside the root).
    pub eps: f64,
}

impl AdagradConfig {
    /// `torch.optim.Adagrad` defaults: lr 0.01, lr_decay 0, weight_decay 0,
    /// initial_accumulator_value 0, eps 1e-10.
    pub const fn new() -> Self {
        AdagradConfig {
            lr: 0.01,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        }
    }
    crate::optim::setters! {
        /// Sets the learning rate.
        lr: f64,
        /// Sets the learning-rate decay.
        lr_decay: f64,
        /// Sets the (coupled, L2) weight decay.
        weight_decay: f64,
        /// Sets the starting value of the squared-gradient sum.
        initial_accumulator_value: f64,
        /// Sets eps.
        eps: f64,
    }
}

impl Default for AdagradConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// `torch.optim.Adagrad` for the model type `M`: `g += wd·θ`;
/// `clr = lr / (1 + (t − 1)·lr_decay)`; `sum += g²` (starting at
/// `initial_accumulator_value`); `θ −= clr·g / (sqrt(sum) + eps)`.
///
/// ```
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::{Adagrad, AdagradConfig, Optimizer};
/// type Net = Dense<1, 1, constnet::Identity, f64>;
/// let mut net = Net::zeros();
/// let mut grads = Net::zeros();
/// grads.bias_mut()[0] = 2.0;
/// let mut adagrad = Adagrad::<Net>::new(AdagradConfig::new().lr(0.1));
/// adagrad.step(&mut net, &grads); // sum = 4: θ = −0.1·2/2
/// assert!((net.bias()[0] + 0.1).abs() < 1e-9);
/// ```
#[derive(Clone, Debug)]
pub struct Adagrad<M> {
    config: AdagradConfig,
    steps: u64,
    sum: M,
}

crate::impl_zero_bits!(unsafe impl[M: crate::ZeroBits] for Adagrad<M> { config, steps, sum });
crate::impl_zero_bits!(unsafe impl[] for AdagradConfig { lr, lr_decay, weight_decay, initial_accumulator_value, eps });

impl<M: Params> Adagrad<M> {
    /// A fresh optimizer (the sum at `initial_accumulator_value`).
    pub fn new(config: AdagradConfig) -> Self {
        let mut sum = M::zeros();
        fill(
            &mut sum,
            M::Scalar::from_f64(config.initial_accumulator_value),
        );
        Adagrad {
            config,
            steps: 0,
            sum,
        }
    }

    /// A fresh optimizer built in place on the heap (for models too large for the stack).
    #[cfg(feature = "std")]
    pub fn boxed(config: AdagradConfig) -> Box<Self> {
        let mut optimizer = crate::kernel::boxed_with(|slot| {
            crate::kernel::init_fields!(
                slot,
                Adagrad {
                    config: |s| crate::zeros::InPlace::write(s, config),
                    steps: |s| crate::zeros::InPlace::write(s, 0),
                    sum: crate::zeros::Zeros::zeros_in_place
                }
            )
        });
        fill(
            &mut optimizer.sum,
            M::Scalar::from_f64(config.initial_accumulator_value),
        );
        optimizer
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdagradConfig {
        &self.config
    }
}

impl<M: Params> Optimizer<M> for Adagrad<M> {
    fn step(&mut self, model: &mut M, grads: &M) {
        let c = self.config;
        self.steps += 1;
        let clr = M::Scalar::from_f64(c.lr / (1.0 + (self.steps - 1) as f64 * c.lr_decay));
        let wd = M::Scalar::from_f64(c.weight_decay);
        let eps = M::Scalar::from_f64(c.eps);
        for_each_scalar(model, grads, [&mut self.sum], |p, g, [sum]| {
            let g = g + wd * *p;
            *sum += g * g;
            *p -= clr * (g / (sum.sqrt() + eps));
        });
    }
    fn lr(&self) -> f64 {
        self.config.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

crate::optim::state::optimizer_state!(impl[M: Params] for Adagrad<M> where [] {
    real "lr" => config.lr;
    count "steps" => steps;
    buffer "sum" => sum;
});
