//! `Callback`: what a [`Fit`](crate::fit::Fit) run tells the caller while it trains.

use crate::fit::history::EpochRecord;

/// Whether a run goes on after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// End the run after this epoch (the history says so; early stopping still restores the
    /// best parameters if it is set to).
    Stop,
}

/// One finished training step, as [`Callback::on_batch_end`] sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchProgress {
    /// The epoch, from 1.
    pub epoch: usize,
    /// The batch within the epoch, from 1.
    pub batch: usize,
    /// Batches per epoch.
    pub batches: usize,
    /// Real samples in this batch.
    pub rows: usize,
    /// The batch's loss (with penalties).
    pub loss: f64,
    /// The gradient norm before clipping.
    pub grad_norm: f64,
}

/// Hooks into a [`Fit`](crate::fit::Fit) run; every method has a default that does nothing,
/// and `()` is the callback that does nothing. Per-batch hooks run outside the timed steps.
///
/// ```
/// use constnet::fit::{Callback, Control, EpochRecord};
/// struct Printer;
/// impl<M> Callback<M> for Printer {
///     fn on_epoch_end(&mut self, record: &EpochRecord) -> Control {
///         println!("epoch {}: loss {:.4}", record.epoch, record.train_loss);
///         Control::Continue
///     }
/// }
/// ```
pub trait Callback<M> {
    /// Before the first epoch: how many epochs at most, and batches per epoch.
    fn on_train_begin(&mut self, epochs: usize, batches: usize) {
        let _ = (epochs, batches);
    }
    /// After every training step.
    fn on_batch_end(&mut self, progress: &BatchProgress) {
        let _ = progress;
    }
    /// After every epoch (and its validation); [`Control::Stop`] ends the run.
    fn on_epoch_end(&mut self, record: &EpochRecord) -> Control {
        let _ = record;
        Control::Continue
    }
    /// When an epoch improves on the best monitored loss so far, with the model as it is then
    /// (to save it, for example with [`constnet::io`](crate::io)).
    fn on_best(&mut self, model: &M, record: &EpochRecord) {
        let _ = (model, record);
    }
}

impl<M> Callback<M> for () {}
