//! Optimizers with `torch.optim` semantics, learning-rate schedules, gradient clipping and
//! penalties. Every optimizer is a few lines over one flat-slice walk of model, gradients and
//! state (all of the model's own type).
//!
//! | optimizer | PyTorch | state (each of the model's type) |
//! |---|---|---|
//! | [`Sgd`] | `torch.optim.SGD` | momentum buffer |
//! | [`Adagrad`] | `torch.optim.Adagrad` | sum of squared gradients |
//! | [`RmsProp`] | `torch.optim.RMSprop` | square average, gradient average, momentum buffer |
//! | [`Adam`] | `torch.optim.Adam` | first and second moments (and the AMSGrad maximum in [`AdamAmsGrad`]) |
//! | [`AdamW`] | `torch.optim.AdamW` | as Adam (same [`AdamConfig`], decoupled decay) |
//! | [`Adamax`] | `torch.optim.Adamax` | first moment, infinity norm |
//! | [`NAdam`] | `torch.optim.NAdam` | first and second moments (and the product `Π_t`) |
//!
//! Per-step coefficients (bias corrections, decayed rates) are computed in `f64` and rounded
//! once to the model's scalar; the elementwise work is in the model's scalar. A step
//! allocates nothing.

/// Const builder methods `field(self, value) -> Self` for the listed fields of a config.
macro_rules! setters {
    ($($(#[$doc:meta])* $field:ident: $ty:ty),* $(,)?) => {$(
        $(#[$doc])*
        pub const fn $field(mut self, $field: $ty) -> Self {
            self.$field = $field;
            self
        }
    )*};
}
pub(crate) use setters;

mod adagrad;
mod adam;
mod adamax;
mod adamw;
mod clip;
mod nadam;
mod optimizer;
mod penalty;
mod rmsprop;
mod schedule;
mod sgd;
mod state;

pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamAmsGrad, AdamConfig, AmsGrad, AmsGradState, NoAmsGrad};
pub use adamax::{Adamax, AdamaxConfig};
pub use adamw::{AdamW, AdamWAmsGrad};
pub use clip::{clip_grad_norm, clip_grad_value, grad_norm};
pub use nadam::{NAdam, NAdamConfig};
pub use optimizer::Optimizer;
pub use penalty::{l1_penalty, l2_penalty};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use schedule::{CosineAnnealingLr, ExponentialLr, FixedLr, LinearWarmup, LrSchedule, StepLr};
pub use sgd::{Sgd, SgdConfig};
pub use state::{OptimizerState, StateMut, StateRef};
