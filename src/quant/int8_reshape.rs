//! `Int8Reshape`: TensorFlow Lite's RESHAPE (Keras's `Flatten`) of an int8 tensor, and
//! `Int8Tensor`, an int8 array seen as its row-major values.

use core::marker::PhantomData;

use super::{Int8Layer, Quantization};
use crate::zeros::Zeros;

/// An int8 tensor of fixed size, seen as its values in row-major (NHWC) order.
pub trait Int8Tensor: Copy + Zeros {
    /// How many values.
    const LEN: usize;
    /// The dimensions, outermost first (`[[[i8; C]; W]; H]` is `[H, W, C]`).
    const DIMS: &'static [usize];
    /// The values in row-major order.
    fn values(&self) -> &[i8];
    /// The values in row-major order, to write.
    fn values_mut(&mut self) -> &mut [i8];
}

impl<const N: usize> Int8Tensor for [i8; N] {
    const LEN: usize = N;
    const DIMS: &'static [usize] = &[N];
    fn values(&self) -> &[i8] {
        self
    }
    fn values_mut(&mut self) -> &mut [i8] {
        self
    }
}

impl<const C: usize, const W: usize> Int8Tensor for [[i8; C]; W] {
    const LEN: usize = C * W;
    const DIMS: &'static [usize] = &[W, C];
    fn values(&self) -> &[i8] {
        self.as_flattened()
    }
    fn values_mut(&mut self) -> &mut [i8] {
        self.as_flattened_mut()
    }
}

impl<const C: usize, const W: usize, const H: usize> Int8Tensor for [[[i8; C]; W]; H] {
    const LEN: usize = C * W * H;
    const DIMS: &'static [usize] = &[H, W, C];
    fn values(&self) -> &[i8] {
        self.as_flattened().as_flattened()
    }
    fn values_mut(&mut self) -> &mut [i8] {
        self.as_flattened_mut().as_flattened_mut()
    }
}

/// TensorFlow Lite's `RESHAPE` of an int8 tensor `X` to `[i8; N]`: the values in row-major
/// (NHWC) order, unchanged, so Keras's `Flatten` (unlike PyTorch's, which flattens
/// channels-first: see [`Flatten`](crate::layers::Flatten)). `N` is checked at compile time.
///
/// ```
/// use constnet::quant::{Int8Layer, Int8Reshape, Quantization};
/// let flat = Int8Reshape::<[[[i8; 2]; 1]; 2], 4>::new(Quantization::new(0.1, 0));
/// assert_eq!(flat.forward(&[[[1, 2]], [[3, 4]]]), [1, 2, 3, 4]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Int8Reshape<X, const N: usize> {
    quantization: Quantization,
    shape: PhantomData<X>,
}

impl<X: Int8Tensor, const N: usize> Int8Reshape<X, N> {
    const SHAPE: () = assert!(
        X::LEN == N,
        "Int8Reshape: N differs from the input's number of values"
    );

    /// The reshape of a tensor quantized as `quantization` (which the output keeps).
    pub const fn new(quantization: Quantization) -> Self {
        let () = Self::SHAPE;
        Int8Reshape {
            quantization,
            shape: PhantomData,
        }
    }

    #[cfg_attr(not(feature = "tflite"), allow(dead_code))]
    #[cfg_attr(not(feature = "tflite"), allow(dead_code))]
    pub(crate) fn set(&mut self, quantization: Quantization) {
        self.quantization = quantization;
    }
}

impl<X, const N: usize> Zeros for Int8Reshape<X, N> {
    fn zeros() -> Self {
        Int8Reshape {
            quantization: Quantization::default(),
            shape: PhantomData,
        }
    }
}

impl<X: Int8Tensor, const N: usize> Int8Layer for Int8Reshape<X, N> {
    type Input = X;
    type Output = [i8; N];
    type Scratch = ();

    fn input_quantization(&self) -> Quantization {
        self.quantization
    }

    fn output_quantization(&self) -> Quantization {
        self.quantization
    }

    fn forward_into(&self, x: &X, y: &mut [i8; N], _: &mut ()) {
        let () = Self::SHAPE;
        y.copy_from_slice(x.values());
    }
}
