//! AdamW: Adam with decoupled weight decay.

#[cfg(feature = "std")]
use alloc::boxed::Box;

#[cfg(feature = "std")]
use crate::kernel::ZeroBits;
use crate::optim::adam::{AdamMoments, AdamUpdate};
use crate::optim::optimizer::Optimizer;
use crate::params::Params;

/// Hyperparameters of [`AdamW`], with `torch.optim.AdamW`'s defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay β1 of the first-moment average.
    pub beta1: f64,
    /// Decay β2 of the second-moment average.
    pub beta2: f64,
    /// Added to the bias-corrected root of the second moment (outside the root).
    pub eps: f64,
    /// Decoupled weight decay: `θ *= 1 − lr·wd` before each step.
    pub weight_decay: f64,
    /// Divide by the running maximum of the (uncorrected) second moment.
    pub amsgrad: bool,
}

impl AdamWConfig {
    /// `torch.optim.AdamW` defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
    /// weight_decay 0.01, no amsgrad.
    pub const fn new() -> Self {
        AdamWConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            amsgrad: false,
        }
    }
    /// Sets the learning rate.
    pub const fn lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self
    }
    /// Sets β1 and β2.
    pub const fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }
    /// Sets eps.
    pub const fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
    /// Sets the decoupled weight decay.
    pub const fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }
    /// Enables AMSGrad.
    pub const fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
        self
    }
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// `torch.optim.AdamW` for the model type `M`: `θ *= 1 − lr·wd` (with the current lr), then
/// exactly [`Adam`](super::Adam) without weight decay (same amsgrad rule).
///
/// ```
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::{AdamW, AdamWConfig, Optimizer};
/// type Net = Dense<1, 1, constnet::Identity, f64>;
/// let mut net = Net::zeros();
/// net.bias_mut()[0] = 2.0;
/// let grads = Net::zeros(); // no gradient: only the decay acts
/// let mut adamw = AdamW::<Net>::new(AdamWConfig::new().lr(0.1).weight_decay(0.5));
/// adamw.step(&mut net, &grads);
/// assert_eq!(net.bias()[0], 2.0 * (1.0 - 0.1 * 0.5));
/// ```
#[derive(Clone, Debug)]
pub struct AdamW<M> {
    config: AdamWConfig,
    moments: AdamMoments<M>,
}

crate::kernel::zero_bits_generic!(AdamW<M> where M);
crate::kernel::zero_bits!(AdamWConfig);

impl<M: Params> AdamW<M> {
    /// A fresh optimizer (zero moments).
    pub fn new(config: AdamWConfig) -> Self {
        AdamW {
            config,
            moments: AdamMoments::new(),
        }
    }

    /// A fresh optimizer built in place on the heap (for models too large for the stack).
    #[cfg(feature = "std")]
    pub fn boxed(config: AdamWConfig) -> Box<Self>
    where
        M: ZeroBits,
    {
        let mut adamw = crate::kernel::zeroed_box::<Self>();
        adamw.config = config;
        adamw
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamWConfig {
        &self.config
    }
}

impl<M: Params> Optimizer<M> for AdamW<M> {
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
                l2_weight_decay: 0.0,
                decoupled_decay_factor: 1.0 - c.lr * c.weight_decay,
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
