//! NAdam: Adam with Nesterov momentum and a momentum schedule.

#[cfg(feature = "std")]
use alloc::boxed::Box;

use num_traits::Float;

use crate::optim::optimizer::{Optimizer, for_each_scalar};
use crate::params::Params;
use crate::scalar::Scalar;

/// Hyperparameters of [`NAdam`], with `torch.optim.NAdam`'s defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NAdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay β1 of the first-moment average (and the scale of the momentum schedule).
    pub beta1: f64,
    /// Decay β2 of the second-moment average.
    pub beta2: f64,
    /// Added to the bias-corrected root of the second moment (outside the root).
    pub eps: f64,
    /// Weight decay: L2 (`g += wd·θ`), or decoupled (`θ *= 1 − lr·wd`) when
    /// `decoupled_weight_decay` is set.
    pub weight_decay: f64,
    /// Speed of the momentum schedule `μ_t = β1·(1 − 0.5·0.96^(t·momentum_decay))`.
    pub momentum_decay: f64,
    /// Apply the weight decay to the parameters (AdamW style) instead of the gradient.
    pub decoupled_weight_decay: bool,
}

impl NAdamConfig {
    /// `torch.optim.NAdam` defaults: lr 2e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0,
    /// momentum_decay 4e-3, coupled weight decay.
    pub const fn new() -> Self {
        NAdamConfig {
            lr: 2e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            decoupled_weight_decay: false,
        }
    }
    crate::optim::setters! {
        /// Sets the learning rate.
        lr: f64,
        /// Sets eps.
        eps: f64,
        /// Sets the weight decay.
        weight_decay: f64,
        /// Sets the momentum decay.
        momentum_decay: f64,
        /// Makes the weight decay decoupled (`θ *= 1 − lr·wd`).
        decoupled_weight_decay: bool,
    }
    /// Sets β1 and β2.
    pub const fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }
}

impl Default for NAdamConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// `torch.optim.NAdam` for the model type `M`: weight decay (L2 or decoupled);
/// `μ_t = β1·(1 − 0.5·0.96^(t·momentum_decay))`; `Π_t = Π_{t−1}·μ_t`;
/// `m = β1·m + (1 − β1)·g`; `v = β2·v + (1 − β2)·g²`; `denom = sqrt(v/(1 − β2ᵗ)) + eps`;
/// `θ −= lr·(1 − μ_t)/(1 − Π_t) · g/denom`, then
/// `θ −= lr·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m/denom`.
///
/// ```
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::{NAdam, NAdamConfig, Optimizer};
/// type Net = Dense<1, 1, constnet::Identity, f64>;
/// let mut net = Net::zeros();
/// let mut grads = Net::zeros();
/// grads.bias_mut()[0] = 1.0;
/// let mut nadam = NAdam::<Net>::new(NAdamConfig::new().lr(0.1));
/// nadam.step(&mut net, &grads);
/// // g/denom ≈ 1 and m/denom ≈ 0.1: the step is a bit larger than lr.
/// assert!(net.bias()[0] < -0.1 && net.bias()[0] > -0.11);
/// ```
#[derive(Clone, Debug)]
pub struct NAdam<M> {
    config: NAdamConfig,
    steps: u64,
    /// `Π_t`, the running product of the momentum schedule (1 before the first step).
    mu_product: f64,
    exp_avg: M,
    exp_avg_sq: M,
}

crate::impl_zero_bits!(unsafe impl[M: crate::ZeroBits] for NAdam<M> { config, steps, mu_product, exp_avg, exp_avg_sq });
crate::impl_zero_bits!(unsafe impl[] for NAdamConfig { lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled_weight_decay });

impl<M: Params> NAdam<M> {
    /// A fresh optimizer (zero moments, `Π_0 = 1`).
    pub fn new(config: NAdamConfig) -> Self {
        NAdam {
            config,
            steps: 0,
            mu_product: 1.0,
            exp_avg: M::zeros(),
            exp_avg_sq: M::zeros(),
        }
    }

    /// A fresh optimizer built in place on the heap (for models too large for the stack).
    #[cfg(feature = "std")]
    pub fn boxed(config: NAdamConfig) -> Box<Self> {
        crate::kernel::boxed_with(|slot| {
            crate::kernel::init_fields!(
                slot,
                NAdam {
                    config: |s| crate::zeros::InPlace::write(s, config),
                    steps: |s| crate::zeros::InPlace::write(s, 0),
                    mu_product: |s| crate::zeros::InPlace::write(s, 1.0),
                    exp_avg: crate::zeros::Zeros::zeros_in_place,
                    exp_avg_sq: crate::zeros::Zeros::zeros_in_place
                }
            )
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &NAdamConfig {
        &self.config
    }
}

impl<M: Params> Optimizer<M> for NAdam<M> {
    fn step(&mut self, model: &mut M, grads: &M) {
        let c = self.config;
        self.steps += 1;
        let t = self.steps as f64;
        let bias_correction2 = 1.0 - Float::powf(c.beta2, t);
        let mu = c.beta1 * (1.0 - 0.5 * Float::powf(0.96, t * c.momentum_decay));
        let mu_next = c.beta1 * (1.0 - 0.5 * Float::powf(0.96, (t + 1.0) * c.momentum_decay));
        self.mu_product *= mu;
        let mu_product_next = self.mu_product * mu_next;
        let grad_step = M::Scalar::from_f64(c.lr * (1.0 - mu) / (1.0 - self.mu_product));
        let momentum_step = M::Scalar::from_f64(c.lr * mu_next / (1.0 - mu_product_next));
        let (l2, decoupled) = if c.decoupled_weight_decay {
            (0.0, c.weight_decay != 0.0)
        } else {
            (c.weight_decay, false)
        };
        let wd = M::Scalar::from_f64(l2);
        let decay = M::Scalar::from_f64(1.0 - c.lr * c.weight_decay);
        let beta1 = M::Scalar::from_f64(c.beta1);
        let one_minus_beta1 = M::Scalar::from_f64(1.0 - c.beta1);
        let beta2 = M::Scalar::from_f64(c.beta2);
        let one_minus_beta2 = M::Scalar::from_f64(1.0 - c.beta2);
        let bias_correction2 = M::Scalar::from_f64(bias_correction2);
        let eps = M::Scalar::from_f64(c.eps);
        let states = [&mut self.exp_avg, &mut self.exp_avg_sq];
        for_each_scalar(model, grads, states, |p, g, [m, v]| {
            if decoupled {
                *p *= decay;
            }
            let g = g + wd * *p;
            *m = beta1 * *m + one_minus_beta1 * g;
            *v = beta2 * *v + one_minus_beta2 * (g * g);
            let denom = (*v / bias_correction2).sqrt() + eps;
            *p -= grad_step * (g / denom);
            *p -= momentum_step * (*m / denom);
        });
    }
    fn lr(&self) -> f64 {
        self.config.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

crate::optim::state::optimizer_state!(impl[M: Params] for NAdam<M> where [] {
    real "lr" => config.lr;
    real "mu_product" => mu_product;
    count "steps" => steps;
    buffer "exp_avg" => exp_avg;
    buffer "exp_avg_sq" => exp_avg_sq;
});
