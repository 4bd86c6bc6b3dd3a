//! `FitError`: why a [`Fit`](crate::fit::Fit) run did not start or did not finish.

use core::fmt;

use crate::fit::history::History;

/// Why a [`Fit`](crate::fit::Fit) run did not start (bad data: nothing was changed) or did not
/// finish (divergence: the model and the optimizer state are those after the last finite
/// step, and the history so far comes with the error).
#[derive(Clone, Debug, PartialEq)]
pub enum FitError {
    /// A data set has another number of targets than inputs.
    LengthMismatch {
        /// `"training"` or `"validation"`.
        set: &'static str,
        /// Inputs given.
        inputs: usize,
        /// Targets given.
        targets: usize,
    },
    /// A data set has no sample.
    Empty {
        /// `"training"` or `"validation"`.
        set: &'static str,
    },
    /// A target is invalid for the model's output: a class index not below the number of
    /// outputs, or a value target that is not finite.
    InvalidTarget {
        /// `"training"` or `"validation"`.
        set: &'static str,
        /// The row (from 0) of the first invalid target.
        index: usize,
    },
    /// The last batch would hold fewer real samples than a layer needs in training (2 for
    /// `BatchNorm`): change the batch size, drop a sample, or set `drop_last`. Also the error
    /// of `drop_last` with fewer samples than one batch (then `min` is the batch size).
    ShortLastBatch {
        /// Real samples in the last batch.
        rows: usize,
        /// The batch size.
        batch: usize,
        /// The fewest rows the model trains on (`Layer::MIN_TRAIN_ROWS`).
        min: usize,
    },
    /// A step's loss or gradient norm was not finite. That step changed nothing.
    Diverged {
        /// The epoch, from 1.
        epoch: usize,
        /// The step within the epoch, from 1.
        step: usize,
        /// The step's loss (with penalties).
        loss: f64,
        /// The step's gradient norm (NaN when the loss failed first and no backward ran).
        grad_norm: f64,
        /// The epochs finished before it.
        history: History,
    },
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitError::LengthMismatch {
                set,
                inputs,
                targets,
            } => write!(f, "the {set} set has {inputs} inputs but {targets} targets"),
            FitError::Empty { set } => write!(f, "the {set} set is empty"),
            FitError::InvalidTarget { set, index } => write!(
                f,
                "the {set} target at row {index} is invalid for the model's output (a class index out of range, or a value that is not finite)"
            ),
            FitError::ShortLastBatch { rows, batch, min } if min == batch => write!(
                f,
                "the training set has {rows} sample(s), fewer than one batch of {batch}, and drop_last drops them all"
            ),
            FitError::ShortLastBatch { rows, batch, min } => write!(
                f,
                "the last batch would hold {rows} sample(s) of {batch}, and the model needs at least {min} in training (BatchNorm needs 2): set drop_last or change the batch size"
            ),
            FitError::Diverged {
                epoch,
                step,
                loss,
                grad_norm,
                ..
            } => write!(
                f,
                "training diverged at epoch {epoch}, step {step}: loss {loss}, gradient norm {grad_norm}; the model and the optimizer hold the state after the last finite step"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FitError {}
