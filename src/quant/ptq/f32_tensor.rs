//! `F32Tensor`: an `f32` array of one of the shapes constnet's layers pass between them, seen
//! as its values in row-major order, with the int8 array of the same shape.

use crate::quant::{Int8Tensor, Quantization};
use crate::zeros::Zeros;

/// An `f32` tensor of fixed shape (`[f32; N]`, `[[f32; C]; L]` or `[[[f32; C]; W]; H]`), seen
/// as its values in row-major order, and its int8 twin ([`Int8`](F32Tensor::Int8), the same
/// shape in `i8`): what the calibration reads and what the int8 network takes.
///
/// ```
/// use constnet::quant::{F32Tensor, Quantization};
/// let image = [[[0.0_f32, 1.0]], [[-0.5, 2.0]]];
/// assert_eq!(image.values(), [0.0, 1.0, -0.5, 2.0]);
/// let q = Quantization::new(0.5, -1);
/// assert_eq!(image.quantize(q), Some([[[-1, 1]], [[-2, 3]]]));
/// assert_eq!([f32::NAN].quantize(q), None);
/// ```
pub trait F32Tensor: Copy + Zeros {
    /// The int8 tensor of the same shape.
    type Int8: Int8Tensor;

    /// The values in row-major order.
    fn values(&self) -> &[f32];

    /// The values in row-major order, to write.
    fn values_mut(&mut self) -> &mut [f32];

    /// Each value quantized with `q` ([`Quantization::quantize`]: rounded, saturated); `None`
    /// if a value is NaN.
    fn quantize(&self, q: Quantization) -> Option<Self::Int8> {
        let mut out = Self::Int8::zeros();
        for (o, &v) in out.values_mut().iter_mut().zip(self.values()) {
            *o = q.quantize(v)?;
        }
        Some(out)
    }
}

impl<const N: usize> F32Tensor for [f32; N] {
    type Int8 = [i8; N];
    fn values(&self) -> &[f32] {
        self
    }
    fn values_mut(&mut self) -> &mut [f32] {
        self
    }
}

impl<const C: usize, const L: usize> F32Tensor for [[f32; C]; L] {
    type Int8 = [[i8; C]; L];
    fn values(&self) -> &[f32] {
        self.as_flattened()
    }
    fn values_mut(&mut self) -> &mut [f32] {
        self.as_flattened_mut()
    }
}

impl<const C: usize, const W: usize, const H: usize> F32Tensor for [[[f32; C]; W]; H] {
    type Int8 = [[[i8; C]; W]; H];
    fn values(&self) -> &[f32] {
        self.as_flattened().as_flattened()
    }
    fn values_mut(&mut self) -> &mut [f32] {
        self.as_flattened_mut().as_flattened_mut()
    }
}
