//! `ReduceLrOnPlateau`: lowers the learning rate when the monitored loss stalls (Keras's
//! `ReduceLROnPlateau`).

/// Multiplies the optimizer's learning rate by `factor` (never below `min_lr`) after
/// `patience` epochs in a row without an improvement of the monitored loss by more than
/// `min_delta`, then waits `cooldown` epochs before it counts again. Keras's defaults and
/// semantics. The reduced rate is the optimizer's rate: a schedule running beside it goes on
/// from the reduced rate, as PyTorch's chained schedulers do.
///
/// ```
/// use constnet::fit::ReduceLrOnPlateau;
/// let plateau = ReduceLrOnPlateau::new().factor(0.5).patience(3);
/// assert_eq!((plateau.factor, plateau.patience, plateau.min_delta), (0.5, 3, 1e-4));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReduceLrOnPlateau {
    /// The factor applied to the learning rate (below 1).
    pub factor: f64,
    /// Epochs without improvement before a reduction.
    pub patience: usize,
    /// The smallest decrease that counts as an improvement.
    pub min_delta: f64,
    /// Epochs after a reduction during which no epoch counts as a stall.
    pub cooldown: usize,
    /// The learning rate is never reduced below this.
    pub min_lr: f64,
}

impl ReduceLrOnPlateau {
    /// Keras's defaults: factor 0.1, patience 10, min_delta 1e-4, cooldown 0, min_lr 0.
    pub const fn new() -> Self {
        ReduceLrOnPlateau {
            factor: 0.1,
            patience: 10,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
        }
    }

    /// Sets the reduction factor.
    pub const fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Sets the patience in epochs.
    pub const fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// Sets the smallest decrease that counts as an improvement.
    pub const fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta;
        self
    }

    /// Sets the cooldown in epochs.
    pub const fn cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// Sets the lowest learning rate.
    pub const fn min_lr(mut self, min_lr: f64) -> Self {
        self.min_lr = min_lr;
        self
    }
}

impl Default for ReduceLrOnPlateau {
    fn default() -> Self {
        Self::new()
    }
}

/// The plateau tracker's running state in one run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlateauState {
    best: f64,
    wait: usize,
    cooldown_left: usize,
}

impl PlateauState {
    pub(crate) const fn new() -> Self {
        PlateauState {
            best: f64::INFINITY,
            wait: 0,
            cooldown_left: 0,
        }
    }

    /// Takes an epoch's monitored loss and the current rate; returns the new rate when it is
    /// reduced.
    pub(crate) fn update(
        &mut self,
        settings: &ReduceLrOnPlateau,
        loss: f64,
        lr: f64,
    ) -> Option<f64> {
        let cooling = self.cooldown_left > 0;
        if cooling {
            self.cooldown_left -= 1;
            self.wait = 0;
        }
        if loss < self.best - settings.min_delta {
            self.best = loss;
            self.wait = 0;
            return None;
        }
        if cooling {
            return None;
        }
        self.wait += 1;
        if self.wait < settings.patience || lr <= settings.min_lr {
            return None;
        }
        self.wait = 0;
        self.cooldown_left = settings.cooldown;
        Some((lr * settings.factor).max(settings.min_lr))
    }
}
