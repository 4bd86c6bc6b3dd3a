//! Training on data sets: the [`Fit`] loop (with `std`) and the pieces it is made of, which
//! also work without `std` and without a heap.
//!
//! | piece | what | `no_std` |
//! |---|---|---|
//! | [`Fit`] | the epoch loop: shuffling, short last batch, validation, history, early stopping, learning-rate reduction and schedules, callbacks, divergence guard | no (`Vec`, `Box`, `Instant`) |
//! | [`guarded_step`], [`StepScratch`] | one step on a batch with a count of real rows; refuses a non-finite loss or gradient norm before changing anything | yes, no heap |
//! | [`evaluate`], [`predict`], [`accuracy`], [`confusion_matrix`], [`argmax`] | whole-data-set helpers, one sample at a time | yes, no heap |
//! | [`FitTarget`], [`Metrics`] | class indices → accuracy; value targets → MSE and MAE | yes |
//!
//! A short batch: the loss is the mean over its real rows
//! ([`Loss::loss_rows`](crate::loss::Loss::loss_rows)), the padding rows get a zero loss
//! gradient (so they add nothing to any parameter gradient), and
//! [`TrainCtx::set_real_rows`](crate::TrainCtx::set_real_rows) tells batch-statistics layers:
//! [`BatchNorm`](crate::BatchNorm) normalizes with the real rows' statistics and updates its
//! running statistics from them, as PyTorch does on a short last batch; it needs 2 real rows
//! (`Layer::MIN_TRAIN_ROWS`), which `Fit` checks before the first step.

#[cfg(feature = "std")]
mod callback;
#[cfg(feature = "std")]
mod early_stopping;
#[cfg(feature = "std")]
mod error;
mod evaluate;
#[cfg(feature = "std")]
#[allow(clippy::module_inception)]
mod fit;
#[cfg(feature = "std")]
mod history;
mod metrics;
#[cfg(feature = "std")]
mod reduce_lr_on_plateau;
mod step;
mod target;

#[cfg(feature = "std")]
pub use callback::{BatchProgress, Callback, Control};
#[cfg(feature = "std")]
pub use early_stopping::EarlyStopping;
#[cfg(feature = "std")]
pub use error::FitError;
pub use evaluate::{Evaluation, accuracy, argmax, confusion_matrix, evaluate, predict};
#[cfg(feature = "std")]
pub use fit::{DataSet, Fit, ScheduleInterval};
#[cfg(feature = "std")]
pub use history::{EpochRecord, History};
pub use metrics::Metrics;
#[cfg(feature = "std")]
pub use reduce_lr_on_plateau::ReduceLrOnPlateau;
pub use step::{Clip, NonFinite, StepOutcome, StepScratch, StepSettings, guarded_step};
pub use target::{FitTarget, MetricSum};
