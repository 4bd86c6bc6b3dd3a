//! Layers: each file holds one layer's forward and backward side by side.

mod dense;

pub use dense::{Dense, DenseCache};
