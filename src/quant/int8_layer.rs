//! `Int8Layer`: an integer-only inference step between int8 tensors of fixed shapes.

use super::Quantization;
use crate::zeros::Zeros;

/// A layer of an int8 network: TensorFlow Lite's integer arithmetic between fixed-size int8
/// tensors (images channels-last, `[[[i8; C]; W]; H]`, the NHWC order of TensorFlow Lite),
/// inference only. Its forward uses integers only (no float, so it runs on cores without an
/// FPU), allocates nothing and writes into caller-owned buffers.
///
/// Chains are written with [`int8_seq!`](crate::int8_seq); a chain only type-checks when each
/// layer's output type is the next one's input type. That each layer's output
/// [`Quantization`] is the next one's input quantization is checked by
/// [`check`](Int8Layer::check) (the importers and the quantizer call it).
pub trait Int8Layer: Zeros {
    /// The int8 tensor the layer reads.
    type Input: Copy + Zeros;
    /// The int8 tensor the layer writes.
    type Output: Copy + Zeros;
    /// Intermediate tensors the forward pass needs (a chain's activations between its
    /// layers); `()` for a single layer. Caller-owned, so nothing of image size needs to be
    /// on the stack: box it with [`Zeros::zeros_in_place`] for large networks.
    type Scratch: Zeros;

    /// The quantization of the input tensor.
    fn input_quantization(&self) -> Quantization;

    /// The quantization of the output tensor.
    fn output_quantization(&self) -> Quantization;

    /// Writes the output for `x` into `y`, using `scratch` for intermediate tensors.
    fn forward_into(&self, x: &Self::Input, y: &mut Self::Output, scratch: &mut Self::Scratch);

    /// The output for `x`, with the output and the scratch on the stack (for small networks;
    /// large ones call [`forward_into`](Int8Layer::forward_into) with buffers they own).
    fn forward(&self, x: &Self::Input) -> Self::Output {
        let mut y = Self::Output::zeros();
        let mut scratch = Self::Scratch::zeros();
        self.forward_into(x, &mut y, &mut scratch);
        y
    }

    /// Checks the layer's own invariants and that consecutive layers agree on the
    /// quantization of the tensor between them; `Err` names the first disagreement by the
    /// index of the layer (counted from `first`) at which it occurs.
    fn check(&self, first: usize) -> Result<(), QuantizationMismatch> {
        let _ = first;
        Ok(())
    }

    /// Switches every fully connected layer to TensorFlow Lite Micro's fixed-point
    /// requantization ([`Int8Dense::to_fixed_point`](super::Int8Dense::to_fixed_point)), so
    /// the network computes what TensorFlow Lite Micro computes from the same file; the other
    /// layers already requantize as both runtimes do. Without it a network loaded from a file
    /// computes what LiteRT's reference kernels compute.
    fn use_fixed_point(&mut self) {}

    /// How many layers this is (a chain: the sum of its parts; used to number errors).
    const LAYERS: usize = 1;
}

/// Two consecutive layers disagree on the quantization of the tensor between them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantizationMismatch {
    /// The index of the layer whose input differs from the previous layer's output.
    pub layer: usize,
    /// The previous layer's output quantization.
    pub produced: Quantization,
    /// This layer's input quantization.
    pub expected: Quantization,
}

impl core::fmt::Display for QuantizationMismatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "layer {} reads its input with scale {:e} and zero point {}, but the previous layer writes scale {:e} and zero point {}",
            self.layer,
            self.expected.scale,
            self.expected.zero_point,
            self.produced.scale,
            self.produced.zero_point
        )
    }
}
