//! `History`: what a [`Fit`](crate::fit::Fit) run did, epoch by epoch.

use crate::fit::metrics::Metrics;

/// One epoch of a [`Fit`](crate::fit::Fit) run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochRecord {
    /// The epoch's number, from 1.
    pub epoch: usize,
    /// The mean training loss over the epoch's samples (with penalties), each batch's loss
    /// taken in training mode before its step, as Keras reports it.
    pub train_loss: f64,
    /// The training metrics over the same outputs.
    pub train_metrics: Metrics,
    /// The validation loss after the epoch, in inference mode (when there is validation data).
    pub val_loss: Option<f64>,
    /// The validation metrics after the epoch.
    pub val_metrics: Option<Metrics>,
    /// The learning rate of the epoch's last step.
    pub lr: f64,
    /// Optimizer steps in the epoch.
    pub steps: usize,
    /// Wall time of the epoch's training steps (assembling each batch, forward, loss, backward,
    /// optimizer), without validation and callbacks.
    pub train_seconds: f64,
    /// The largest gradient norm (before clipping) seen in the epoch.
    pub max_grad_norm: f64,
}

impl EpochRecord {
    /// The value early stopping and learning-rate reduction watch: the validation loss, or the
    /// training loss without validation data.
    pub fn monitored(&self) -> f64 {
        self.val_loss.unwrap_or(self.train_loss)
    }
}

/// What a [`Fit`](crate::fit::Fit) run did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Every epoch run, in order.
    pub epochs: Vec<EpochRecord>,
    /// The epoch (from 1) with the lowest monitored loss (validation loss, else training
    /// loss), improvements smaller than early stopping's `min_delta` not counting.
    pub best_epoch: Option<usize>,
    /// The epoch whose parameters the model holds at the end, when early stopping restored
    /// them (`None`: the model holds the last epoch's parameters).
    pub restored_epoch: Option<usize>,
    /// Whether early stopping ended the run before its last epoch.
    pub stopped_early: bool,
    /// Whether a callback ended the run.
    pub stopped_by_callback: bool,
}

impl History {
    /// Optimizer steps over all epochs.
    pub fn steps(&self) -> usize {
        self.epochs.iter().map(|e| e.steps).sum()
    }

    /// Wall time of all training steps (not validation, not callbacks).
    pub fn train_seconds(&self) -> f64 {
        self.epochs.iter().map(|e| e.train_seconds).sum()
    }

    /// The last epoch's record.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// The record of the epoch the model's parameters come from: the restored one, else the
    /// last.
    pub fn kept(&self) -> Option<&EpochRecord> {
        match self.restored_epoch {
            Some(epoch) => self.epochs.get(epoch - 1),
            None => self.epochs.last(),
        }
    }
}
