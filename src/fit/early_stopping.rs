//! `EarlyStopping`: ends a run when the monitored loss stops improving, and puts back the
//! best parameters (Keras's `EarlyStopping(restore_best_weights=True)`).

/// Stops a [`Fit`](crate::fit::Fit) run after `patience` epochs in a row (at least one) without an
/// improvement of the monitored loss (the validation loss, or the training loss without
/// validation data) by more than `min_delta`, then restores the parameters of the best epoch
/// (unless [`restore_best`](EarlyStopping::restore_best) is turned off). Keras's semantics:
/// an epoch improves when `loss < best − min_delta`; a NaN loss never improves.
///
/// ```
/// use constnet::fit::EarlyStopping;
/// let stopping = EarlyStopping::new(5).min_delta(1e-4);
/// assert_eq!((stopping.patience, stopping.min_delta, stopping.restore_best), (5, 1e-4, true));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    /// Epochs in a row without improvement after which the run stops (0 and 1: at the first
    /// one).
    pub patience: usize,
    /// The smallest decrease that counts as an improvement.
    pub min_delta: f64,
    /// Whether the model ends with the best epoch's parameters (default) or the last one's.
    pub restore_best: bool,
}

impl EarlyStopping {
    /// Stops after `patience` epochs without improvement; `min_delta` 0, best parameters
    /// restored.
    pub const fn new(patience: usize) -> Self {
        EarlyStopping {
            patience,
            min_delta: 0.0,
            restore_best: true,
        }
    }

    /// Sets the smallest decrease that counts as an improvement.
    pub const fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta;
        self
    }

    /// Sets whether the best epoch's parameters are restored at the end.
    pub const fn restore_best(mut self, restore: bool) -> Self {
        self.restore_best = restore;
        self
    }
}
