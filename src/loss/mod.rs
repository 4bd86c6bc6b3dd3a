//! Losses with PyTorch's `mean` reduction: each returns the value and `dL/dprediction` in one
//! pass.

#[allow(clippy::module_inception)]
mod loss;
mod mse;

pub use loss::Loss;
pub use mse::Mse;
