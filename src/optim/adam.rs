//! Adam, and the moment update it shares with AdamW.

#[cfg(feature = "std")]
use alloc::boxed::Box;

use num_traits::Float;

#[cfg(feature = "std")]
use crate::kernel::ZeroBits;
use crate::optim::optimizer::{Optimizer, for_each_scalar, nan_max};
use crate::params::Params;
use crate::scalar::Scalar;

/// Hyperparameters of [`Adam`] and [`AdamW`](super::AdamW), with `torch.optim.Adam`'s
/// defaults ([`AdamConfig::new`]) or `torch.optim.AdamW`'s ([`AdamConfig::adamw`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay β1 of the first-moment average.
    pub beta1: f64,
    /// Decay β2 of the second-moment average.
    pub beta2: f64,
    /// Added to the bias-corrected root of the second moment (outside the root).
    pub eps: f64,
    /// Adam: L2 penalty added to the gradient (`g += wd·θ`, coupled). AdamW: decoupled decay,
    /// `θ *= 1 − lr·wd` before each step.
    pub weight_decay: f64,
    /// Divide by the running maximum of the (uncorrected) second moment.
    pub amsgrad: bool,
}

impl AdamConfig {
    /// `torch.optim.Adam` defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0,
    /// no amsgrad.
    pub const fn new() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
        }
    }
    /// `torch.optim.AdamW` defaults: Adam's, with weight_decay 0.01.
    pub const fn adamw() -> Self {
        Self::new().weight_decay(0.01)
    }
    crate::optim::setters! {
        /// Sets the learning rate.
        lr: f64,
        /// Sets eps.
        eps: f64,
        /// Sets the weight decay (coupled L2 in Adam, decoupled in AdamW).
        weight_decay: f64,
        /// Enables AMSGrad.
        amsgrad: bool,
    }
    /// Sets β1 and β2.
    pub const fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// `torch.optim.Adam` for the model type `M`: `g += wd·θ`; `m = β1·m + (1 − β1)·g`;
/// `v = β2·v + (1 − β2)·g²`; with amsgrad `v̂ = max(v̂, v)` replaces `v` below;
/// `θ −= lr/(1 − β1ᵗ) · m / (sqrt(v)/sqrt(1 − β2ᵗ) + eps)`.
///
/// ```
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::{Adam, AdamConfig, Optimizer};
/// type Net = Dense<1, 1, constnet::Identity, f64>;
/// let mut net = Net::zeros();
/// let mut grads = Net::zeros();
/// grads.bias_mut()[0] = 5.0;
/// let mut adam = Adam::<Net>::new(AdamConfig::new().lr(0.1));
/// adam.step(&mut net, &grads); // the first step moves by about lr, whatever the gradient
/// assert!((net.bias()[0] + 0.1).abs() < 1e-8);
/// ```
#[derive(Clone, Debug)]
pub struct Adam<M> {
    config: AdamConfig,
    moments: AdamMoments<M>,
}

crate::impl_zero_bits!(impl[M: crate::ZeroBits] for Adam<M> { config, moments });
crate::impl_zero_bits!(impl[] for AdamConfig { lr, beta1, beta2, eps, weight_decay, amsgrad });

impl<M: Params> Adam<M> {
    /// A fresh optimizer (zero moments).
    pub fn new(config: AdamConfig) -> Self {
        Adam {
            config,
            moments: AdamMoments::new(),
        }
    }

    /// A fresh optimizer built in place on the heap (for models too large for the stack).
    #[cfg(feature = "std")]
    pub fn boxed(config: AdamConfig) -> Box<Self>
    where
        M: ZeroBits,
    {
        let mut adam = crate::kernel::zeroed_box::<Self>();
        adam.config = config;
        adam
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }
}

impl<M: Params> Optimizer<M> for Adam<M> {
    fn step(&mut self, model: &mut M, grads: &M) {
        let c = self.config;
        self.moments.update(
            model,
            grads,
            AdamUpdate {
                lr: c.lr,
                beta1: c.beta1,
                beta2: c.beta2,
                eps: c.eps,
                l2_weight_decay: c.weight_decay,
                decoupled_decay_factor: 1.0,
                amsgrad: c.amsgrad,
            },
        );
    }
    fn lr(&self) -> f64 {
        self.config.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

/// The settings of one Adam update (Adam and AdamW differ only in the weight decay terms).
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamUpdate {
    pub(crate) lr: f64,
    pub(crate) beta1: f64,
    pub(crate) beta2: f64,
    pub(crate) eps: f64,
    /// Coupled decay: `g += l2_weight_decay·θ`.
    pub(crate) l2_weight_decay: f64,
    /// Decoupled decay: `θ *= decoupled_decay_factor` before the update (1: none).
    pub(crate) decoupled_decay_factor: f64,
    pub(crate) amsgrad: bool,
}

/// Adam's state (step count, first and second moments, the AMSGrad maximum) and its update.
#[derive(Clone, Debug)]
pub(crate) struct AdamMoments<M> {
    steps: u64,
    exp_avg: M,
    exp_avg_sq: M,
    max_exp_avg_sq: M,
}

crate::impl_zero_bits!(impl[M: crate::ZeroBits] for AdamMoments<M> { steps, exp_avg, exp_avg_sq, max_exp_avg_sq });

impl<M: Params> AdamMoments<M> {
    /// Step 0, zero moments.
    pub(crate) fn new() -> Self {
        AdamMoments {
            steps: 0,
            exp_avg: M::zeros(),
            exp_avg_sq: M::zeros(),
            max_exp_avg_sq: M::zeros(),
        }
    }

    /// One Adam step of `model` from `grads`.
    pub(crate) fn update(&mut self, model: &mut M, grads: &M, u: AdamUpdate) {
        self.steps += 1;
        let t = self.steps as f64;
        let bias_correction1 = 1.0 - Float::powf(u.beta1, t);
        let bias_correction2 = 1.0 - Float::powf(u.beta2, t);
        let step_size = M::Scalar::from_f64(u.lr / bias_correction1);
        let bias_correction2_sqrt = M::Scalar::from_f64(Float::sqrt(bias_correction2));
        let beta1 = M::Scalar::from_f64(u.beta1);
        let one_minus_beta1 = M::Scalar::from_f64(1.0 - u.beta1);
        let beta2 = M::Scalar::from_f64(u.beta2);
        let one_minus_beta2 = M::Scalar::from_f64(1.0 - u.beta2);
        let eps = M::Scalar::from_f64(u.eps);
        let wd = M::Scalar::from_f64(u.l2_weight_decay);
        let decoupled = u.decoupled_decay_factor != 1.0;
        let decay = M::Scalar::from_f64(u.decoupled_decay_factor);
        let states = [
            &mut self.exp_avg,
            &mut self.exp_avg_sq,
            &mut self.max_exp_avg_sq,
        ];
        for_each_scalar(model, grads, states, |p, g, [m, v, v_max]| {
            if decoupled {
                *p *= decay;
            }
            let g = g + wd * *p;
            *m = beta1 * *m + one_minus_beta1 * g;
            *v = beta2 * *v + one_minus_beta2 * (g * g);
            let second_moment = if u.amsgrad {
                *v_max = nan_max(*v_max, *v);
                *v_max
            } else {
                *v
            };
            let denom = second_moment.sqrt() / bias_correction2_sqrt + eps;
            *p -= step_size * (*m / denom);
        });
    }
}
