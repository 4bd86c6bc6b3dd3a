//! AdamW: Adam with decoupled weight decay.

#[cfg(feature = "std")]
use alloc::boxed::Box;

use crate::optim::adam::{AdamConfig, AdamMoments, AdamUpdate, AmsGrad, AmsGradState, NoAmsGrad};
use crate::optim::optimizer::Optimizer;
use crate::params::Params;

/// `torch.optim.AdamW` for the model type `M`: `θ *= 1 − lr·wd` (with the current lr), then
/// exactly [`Adam`](super::Adam) without weight decay. Two buffers of the model's type;
/// [`AdamW::amsgrad`] builds `amsgrad=True` (an [`AdamWAmsGrad<M>`]) with a third.
///
/// It takes Adam's hyperparameters, [`AdamConfig`], with `weight_decay` decoupled;
/// [`AdamConfig::adamw`] gives `torch.optim.AdamW`'s defaults (weight decay 0.01, where
/// [`AdamConfig::new`] has Adam's 0).
///
/// ```
/// use constnet::{Dense, Params, Zeros};
/// use constnet::optim::{AdamW, AdamConfig, Optimizer};
/// type Net = Dense<1, 1, constnet::Identity, f64>;
/// let mut net = Net::zeros();
/// net.bias_mut()[0] = 2.0;
/// let grads = Net::zeros(); // no gradient: only the decay acts
/// let mut adamw = AdamW::<Net>::new(AdamConfig::adamw().lr(0.1).weight_decay(0.5));
/// adamw.step(&mut net, &grads);
/// assert_eq!(net.bias()[0], 2.0 * (1.0 - 0.1 * 0.5));
/// ```
#[derive(Clone, Debug)]
pub struct AdamW<M, A = NoAmsGrad> {
    config: AdamConfig,
    moments: AdamMoments<M, A>,
}

/// AdamW with AMSGrad (`torch.optim.AdamW(amsgrad=True)`).
pub type AdamWAmsGrad<M> = AdamW<M, AmsGrad<M>>;

crate::impl_zero_bits!(unsafe impl[M: crate::ZeroBits, A: crate::ZeroBits] for AdamW<M, A> { config, moments });

crate::optim::adam::adam_constructors!(AdamW, AdamWAmsGrad);

impl<M: Params, A: AmsGradState<M>> Optimizer<M> for AdamW<M, A> {
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

impl<M: Params, A: AmsGradState<M>> crate::optim::OptimizerState<M> for AdamW<M, A> {
    fn visit_state(&self, f: &mut dyn FnMut(&'static str, crate::optim::StateRef<'_, M>)) {
        let lr = crate::Setting::Real(self.config.lr);
        f("lr", crate::optim::StateRef::Setting(lr));
        self.moments.visit_state(f);
    }
    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&'static str, crate::optim::StateMut<'_, M>)) {
        let lr = crate::SettingMut::Real(&mut self.config.lr);
        f("lr", crate::optim::StateMut::Setting(lr));
        self.moments.visit_state_mut(f);
    }
}
