//! Optimizers with `torch.optim` semantics, learning-rate schedules, gradient clipping and
//! penalties. Every optimizer is a few lines over one flat-slice walk of model, gradients and
//! state (all of the model's own type).

mod optimizer;
mod sgd;

pub use optimizer::Optimizer;
pub use sgd::{Sgd, SgdConfig};
