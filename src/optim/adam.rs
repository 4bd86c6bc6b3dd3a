//! Adam, and the moment update it shares with AdamW.

#[cfg(feature = "std")]
use alloc::boxed::Box;

use num_traits::Float;

use crate::kernel::{self, adam::AdamStep};
use crate::named::{Setting, SettingMut};
use crate::optim::optimizer::{Optimizer, for_each_tensor};
use crate::optim::{OptimizerState, StateMut, StateRef};
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
}

impl AdamConfig {
    /// `torch.optim.Adam` defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0.
    /// (AMSGrad is a type, [`AdamAmsGrad`], since it needs one more buffer.)
    pub const fn new() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
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
/// `v = β2·v + (1 − β2)·g²`; `θ −= lr/(1 − β1ᵗ) · m / (sqrt(v)/sqrt(1 − β2ᵗ) + eps)`.
///
/// Its state is two values of the model's type (`m`, `v`). [`Adam::amsgrad`] builds
/// `torch.optim.Adam(amsgrad=True)`, an [`AdamAmsGrad<M>`] (`A =` [`AmsGrad<M>`]):
/// `v̂ = max(v̂, v)` replaces `v` in the step, and a third buffer holds `v̂`.
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
pub struct Adam<M, A = NoAmsGrad> {
    config: AdamConfig,
    moments: AdamMoments<M, A>,
}

/// Adam with AMSGrad (`torch.optim.Adam(amsgrad=True)`): three buffers of the model's type.
///
/// ```
/// use constnet::optim::{Adam, AdamAmsGrad, AdamConfig};
/// use constnet::Dense;
/// type Net = Dense<64, 64>;
/// let plain = Adam::<Net>::new(AdamConfig::new());
/// let amsgrad = Adam::<Net>::amsgrad(AdamConfig::new()); // an AdamAmsGrad<Net>
/// let net = core::mem::size_of::<Net>();
/// assert!(core::mem::size_of_val(&plain) < 3 * net); // m and v, and the settings
/// assert_eq!(core::mem::size_of_val(&amsgrad) - core::mem::size_of_val(&plain), net);
/// ```
pub type AdamAmsGrad<M> = Adam<M, AmsGrad<M>>;

/// The AMSGrad state of [`Adam`] and [`AdamW`](super::AdamW): the running maximum of the
/// (uncorrected) second moment, a value of the model's type.
#[derive(Clone, Debug)]
pub struct AmsGrad<M> {
    max_exp_avg_sq: M,
}

/// No AMSGrad: no state (the default of [`Adam`] and [`AdamW`](super::AdamW)).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAmsGrad;

/// Whether an Adam-family optimizer keeps the AMSGrad maximum ([`AmsGrad`] or
/// [`NoAmsGrad`]).
pub trait AmsGradState<M>: Clone + core::fmt::Debug {
    /// The fresh state.
    fn new() -> Self;
    /// The fresh state, written in place (the default moves [`new`](AmsGradState::new) in).
    fn new_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::zeros::InPlace::write(slot, Self::new())
    }
    /// The maximum buffer, if there is one.
    fn max_exp_avg_sq(&mut self) -> Option<&mut M>;
    /// The maximum buffer, read-only, if there is one.
    fn max_exp_avg_sq_ref(&self) -> Option<&M>;
}

impl<M: Params + Clone + core::fmt::Debug> AmsGradState<M> for AmsGrad<M> {
    fn new() -> Self {
        AmsGrad {
            max_exp_avg_sq: M::zeros(),
        }
    }
    fn new_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            AmsGrad {
                max_exp_avg_sq: M::zeros_in_place
            }
        )
    }
    #[inline(always)]
    fn max_exp_avg_sq(&mut self) -> Option<&mut M> {
        Some(&mut self.max_exp_avg_sq)
    }
    fn max_exp_avg_sq_ref(&self) -> Option<&M> {
        Some(&self.max_exp_avg_sq)
    }
}

impl<M> AmsGradState<M> for NoAmsGrad {
    fn new() -> Self {
        NoAmsGrad
    }
    #[inline(always)]
    fn max_exp_avg_sq(&mut self) -> Option<&mut M> {
        None
    }
    fn max_exp_avg_sq_ref(&self) -> Option<&M> {
        None
    }
}

crate::impl_zero_bits!(unsafe impl[M: crate::ZeroBits, A: crate::ZeroBits] for Adam<M, A> { config, moments });
crate::impl_zero_bits!(unsafe impl[] for AdamConfig { lr, beta1, beta2, eps, weight_decay });
crate::impl_zero_bits!(unsafe impl[M: crate::ZeroBits] for AmsGrad<M> { max_exp_avg_sq });
crate::impl_zero_bits!(unsafe impl[] for NoAmsGrad {});

/// The constructors and the `config` accessor that [`Adam`] and
/// [`AdamW`](super::AdamW) share (the same fields, the same state).
macro_rules! adam_constructors {
    ($optimizer:ident, $amsgrad:ident) => {
        impl<M: Params> $optimizer<M> {
            /// A fresh optimizer (zero moments), without AMSGrad: two buffers of the model's
            /// type.
            pub fn new(config: AdamConfig) -> Self {
                $optimizer {
                    config,
                    moments: AdamMoments::new(),
                }
            }

            /// A fresh optimizer built in place on the heap (for models too large for the
            /// stack).
            #[cfg(feature = "std")]
            pub fn boxed(config: AdamConfig) -> Box<Self> {
                crate::kernel::boxed_with(|slot| {
                    crate::kernel::init_fields!(slot, $optimizer {
                        config: |s| crate::zeros::InPlace::write(s, config),
                        moments: AdamMoments::new_in_place,
                    })
                })
            }

            #[doc = concat!("A fresh optimizer with AMSGrad (`amsgrad=True`), an [`", stringify!($amsgrad), "<M>`]: three buffers of the model's type.")]
            pub fn amsgrad(config: AdamConfig) -> $amsgrad<M>
            where
                M: Clone + core::fmt::Debug,
            {
                $optimizer {
                    config,
                    moments: AdamMoments::new(),
                }
            }

            #[doc = concat!("[`amsgrad`](", stringify!($optimizer), "::amsgrad), built in place on the heap.")]
            #[cfg(feature = "std")]
            pub fn boxed_amsgrad(config: AdamConfig) -> Box<$amsgrad<M>>
            where
                M: Clone + core::fmt::Debug,
            {
                crate::kernel::boxed_with(|slot| {
                    crate::kernel::init_fields!(slot, $optimizer {
                        config: |s| crate::zeros::InPlace::write(s, config),
                        moments: AdamMoments::new_in_place,
                    })
                })
            }
        }

        impl<M: Params, A: AmsGradState<M>> $optimizer<M, A> {
            /// The hyperparameters.
            pub fn config(&self) -> &AdamConfig {
                &self.config
            }
        }
    };
}
pub(crate) use adam_constructors;

adam_constructors!(Adam, AdamAmsGrad);

impl<M: Params, A: AmsGradState<M>> Optimizer<M> for Adam<M, A> {
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

impl<M: Params, A: AmsGradState<M>> OptimizerState<M> for Adam<M, A> {
    fn visit_state(&self, f: &mut dyn FnMut(&'static str, StateRef<'_, M>)) {
        f("lr", StateRef::Setting(Setting::Real(self.config.lr)));
        self.moments.visit_state(f);
    }
    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&'static str, StateMut<'_, M>)) {
        f(
            "lr",
            StateMut::Setting(SettingMut::Real(&mut self.config.lr)),
        );
        self.moments.visit_state_mut(f);
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
}

/// Adam's state (step count, first and second moments, the AMSGrad state) and its update.
#[derive(Clone, Debug)]
pub(crate) struct AdamMoments<M, A> {
    steps: u64,
    exp_avg: M,
    exp_avg_sq: M,
    amsgrad: A,
}

crate::impl_zero_bits!(unsafe impl[M: crate::ZeroBits, A: crate::ZeroBits] for AdamMoments<M, A> { steps, exp_avg, exp_avg_sq, amsgrad });

impl<M: Params, A: AmsGradState<M>> AdamMoments<M, A> {
    /// [`new`](AdamMoments::new), written in place.
    #[cfg(feature = "std")]
    pub(crate) fn new_in_place(
        slot: &mut core::mem::MaybeUninit<Self>,
    ) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            AdamMoments {
                steps: |s| crate::zeros::InPlace::write(s, 0),
                exp_avg: M::zeros_in_place,
                exp_avg_sq: M::zeros_in_place,
                amsgrad: A::new_in_place,
            }
        )
    }

    /// Step 0, zero moments.
    pub(crate) fn new() -> Self {
        AdamMoments {
            steps: 0,
            exp_avg: M::zeros(),
            exp_avg_sq: M::zeros(),
            amsgrad: A::new(),
        }
    }

    /// The state after the learning rate: `steps`, `exp_avg`, `exp_avg_sq` and, with
    /// AMSGrad, `max_exp_avg_sq`.
    pub(crate) fn visit_state(&self, f: &mut dyn FnMut(&'static str, StateRef<'_, M>)) {
        f("steps", StateRef::Setting(Setting::Count(self.steps)));
        f("exp_avg", StateRef::Buffer(&self.exp_avg));
        f("exp_avg_sq", StateRef::Buffer(&self.exp_avg_sq));
        if let Some(max) = self.amsgrad.max_exp_avg_sq_ref() {
            f("max_exp_avg_sq", StateRef::Buffer(max));
        }
    }

    /// [`visit_state`](AdamMoments::visit_state), writable.
    pub(crate) fn visit_state_mut(&mut self, f: &mut dyn FnMut(&'static str, StateMut<'_, M>)) {
        f(
            "steps",
            StateMut::Setting(SettingMut::Count(&mut self.steps)),
        );
        f("exp_avg", StateMut::Buffer(&mut self.exp_avg));
        f("exp_avg_sq", StateMut::Buffer(&mut self.exp_avg_sq));
        if let Some(max) = self.amsgrad.max_exp_avg_sq() {
            f("max_exp_avg_sq", StateMut::Buffer(max));
        }
    }

    /// One Adam step of `model` from `grads`.
    pub(crate) fn update(&mut self, model: &mut M, grads: &M, u: AdamUpdate) {
        self.steps += 1;
        let t = self.steps as f64;
        let bias_correction1 = 1.0 - Float::powf(u.beta1, t);
        let bias_correction2 = 1.0 - Float::powf(u.beta2, t);
        let step_size = M::Scalar::from_f64(u.lr / bias_correction1);
        let inv_bias_correction2_sqrt = M::Scalar::from_f64(1.0 / Float::sqrt(bias_correction2));
        let step = AdamStep {
            beta1: M::Scalar::from_f64(u.beta1),
            one_minus_beta1: M::Scalar::from_f64(1.0 - u.beta1),
            beta2: M::Scalar::from_f64(u.beta2),
            one_minus_beta2: M::Scalar::from_f64(1.0 - u.beta2),
            wd: M::Scalar::from_f64(u.l2_weight_decay),
            decay: M::Scalar::from_f64(u.decoupled_decay_factor),
            decoupled: u.decoupled_decay_factor != 1.0,
            step_size,
            inv_bias_correction2_sqrt,
            eps: M::Scalar::from_f64(u.eps),
        };
        let (exp_avg, exp_avg_sq) = (&mut self.exp_avg, &mut self.exp_avg_sq);
        match self.amsgrad.max_exp_avg_sq() {
            Some(max) => {
                for_each_tensor(
                    model,
                    grads,
                    [exp_avg, exp_avg_sq, max],
                    |p, g, [m, v, vm]| {
                        kernel::adam_update(&step, p, g, m, v, Some(vm));
                    },
                );
            }
            None => {
                for_each_tensor(model, grads, [exp_avg, exp_avg_sq], |p, g, [m, v]| {
                    kernel::adam_update(&step, p, g, m, v, None);
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dense, Identity, Zeros};

    /// A moment whose gradient stays zero decays to exactly zero instead of sinking into the
    /// subnormal range (where `0.9·x` can round back to `x` and never leave it).
    #[test]
    fn decaying_moments_flush_to_zero() {
        type Net = Dense<1, 1, Identity, f32>;
        let mut net = Net::zeros();
        let mut adam = Adam::<Net>::new(AdamConfig::new());
        let mut grads = Net::zeros();
        grads.bias_mut()[0] = 1e-20;
        adam.step(&mut net, &grads);
        grads.bias_mut()[0] = 0.0;
        for _ in 0..2000 {
            adam.step(&mut net, &grads);
        }
        let state = [&adam.moments.exp_avg, &adam.moments.exp_avg_sq];
        for tensor in state.iter().flat_map(|m| m.tensors()) {
            for &x in tensor {
                assert!(x == 0.0 || x.is_normal(), "subnormal state {x:e}");
            }
        }
        assert_eq!(adam.moments.exp_avg.bias()[0], 0.0);
    }
}
