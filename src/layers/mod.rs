//! Layers: each file holds one layer's forward and backward side by side.

mod activation;
mod batch_norm;
mod dense;
mod dropout;
mod layer_norm;

pub use activation::{Activation, ActivationCache, Softmax};
pub use batch_norm::{BatchNorm, BatchNormCache};
pub use dense::{Dense, DenseBatchCache, DenseCache};
pub use dropout::{Dropout, DropoutCache};
pub use layer_norm::{LayerNorm, LayerNormCache};
