//! Post-training quantization: a trained `f32` network into its int8 twin, with TensorFlow
//! Lite's scheme ([`quantize`]), the twin's type named by [`Quantize::Int8`].
//!
//! One file per concept: the trait and the entry point (`quantize.rs`), the numbers of the
//! scheme (`scheme.rs`), the walk in forward order that folds BatchNorms and activations into
//! the layer before them (`walk.rs`, `folded.rs`), the float tensors (`f32_tensor.rs`), the
//! fusable activations (`fusable.rs`), then one file per float layer family.

mod chain;
mod conv2d;
mod dense;
mod error;
mod f32_tensor;
mod flatten;
mod folded;
mod folds;
mod fusable;
mod pool2d;
mod quantize;
mod residual;
mod scheme;
mod walk;

pub use error::QuantizeError;
pub use f32_tensor::F32Tensor;
pub use folded::{Folded, Then};
pub use fusable::Fusable;
pub use quantize::{Quantize, quantize};
