//! `Metrics`: the score of a model on a data set, by the kind of its targets.

use core::fmt;

/// A model's score on a data set, chosen by the kind of target (see
/// [`FitTarget`](crate::fit::FitTarget)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metrics {
    /// Class-index targets: the fraction of samples whose largest output is the target class.
    Accuracy(f64),
    /// Value targets: the mean squared and the mean absolute error over every output value.
    Regression {
        /// Mean squared error.
        mse: f64,
        /// Mean absolute error.
        mae: f64,
    },
}

impl Metrics {
    /// The accuracy, for class-index targets.
    pub fn accuracy(&self) -> Option<f64> {
        match *self {
            Metrics::Accuracy(accuracy) => Some(accuracy),
            Metrics::Regression { .. } => None,
        }
    }

    /// The mean squared error, for value targets.
    pub fn mse(&self) -> Option<f64> {
        match *self {
            Metrics::Regression { mse, .. } => Some(mse),
            Metrics::Accuracy(_) => None,
        }
    }

    /// The mean absolute error, for value targets.
    pub fn mae(&self) -> Option<f64> {
        match *self {
            Metrics::Regression { mae, .. } => Some(mae),
            Metrics::Accuracy(_) => None,
        }
    }
}

/// `accuracy 0.9750` or `mse 1.234e-4 mae 8.1e-3`.
impl fmt::Display for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Metrics::Accuracy(accuracy) => write!(f, "accuracy {accuracy:.4}"),
            Metrics::Regression { mse, mae } => write!(f, "mse {mse:.3e} mae {mae:.3e}"),
        }
    }
}
