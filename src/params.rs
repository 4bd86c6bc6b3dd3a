//! `Params`: a fixed tree of parameter tensors, walked as flat slices in one fixed order.

#[cfg(feature = "std")]
use alloc::boxed::Box;

use crate::scalar::Scalar;
use crate::zeros::Zeros;

/// What a parameter tensor is, so initializers know how to fill it and files know how to
/// name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorKind {
    /// A weight matrix `[out][in]` (PyTorch `nn.Linear.weight`).
    Weight,
    /// A bias vector `[out]`.
    Bias,
    /// A norm layer's multiplicative weight (starts at one).
    Scale,
    /// A norm layer's additive bias (starts at zero).
    Shift,
}

/// The shape of one parameter tensor in PyTorch terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorShape {
    /// What the tensor is.
    pub kind: TensorKind,
    /// Rows (`out` features); the length for a vector.
    pub rows: usize,
    /// Columns (`in` features) for a matrix; 1 for a vector.
    pub cols: usize,
    /// The fan-in used by initializers (`in` features of the owning layer).
    pub fan_in: usize,
    /// The fan-out used by initializers (`out` features of the owning layer).
    pub fan_out: usize,
}

impl TensorShape {
    /// Number of elements.
    pub const fn len(&self) -> usize {
        self.rows * self.cols
    }
    /// True when the tensor holds no element.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A fixed tree of parameter tensors.
///
/// Gradients and optimizer state are values of the *same type* as the model, so an optimizer
/// built for one network cannot step another. Every walk (`tensors`, `tensors_mut`, `shapes`)
/// visits the tensors in the same order: layer by layer, weight before bias.
///
/// ```
/// use constnet::{Dense, Params, Zeros, seq, Tanh};
/// type Net = seq![Dense<2, 8, Tanh>, Dense<8, 1>];
/// assert_eq!(Net::PARAM_COUNT, 2 * 8 + 8 + 8 + 1);
/// let net = Net::zeros();
/// assert_eq!(net.tensors().map(|t| t.len()).sum::<usize>(), Net::PARAM_COUNT);
/// ```
pub trait Params: Zeros {
    /// The element type of every tensor.
    type Scalar: Scalar;
    /// Total number of trainable scalars, known at compile time.
    const PARAM_COUNT: usize;
    /// The tensors, read-only, in the fixed order.
    fn tensors(&self) -> impl Iterator<Item = &[Self::Scalar]>;
    /// The tensors, writable, in the fixed order.
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [Self::Scalar]>;
    /// The shape of each tensor, in the same order as `tensors`.
    fn shapes() -> impl Iterator<Item = TensorShape>;
    /// Resets every setting that is not a trainable number (an activation's slope, a norm's
    /// `eps` and running statistics) to its default (what [`Zeros::zeros`] keeps).
    fn restore_defaults(&mut self) {}

    /// Sets every parameter to zero (for gradients: zeroing is explicit, `backward` adds).
    fn fill_zero(&mut self) {
        for t in self.tensors_mut() {
            t.fill(<Self::Scalar as num_traits::Zero>::zero());
        }
    }

    /// A zero model allocated and filled in place on the heap: nothing of the model's size is
    /// ever built on the stack, so multi-megabyte networks, gradients and optimizer state
    /// can be created on small threads.
    ///
    /// ```
    /// use constnet::{Dense, Params, seq, Relu};
    /// type Big = seq![Dense<784, 512, Relu>, Dense<512, 512, Relu>, Dense<512, 10>];
    /// let grads = Big::boxed_zeros(); // ~2.7 MB, straight to the heap
    /// assert!(grads.tensors().all(|t| t.iter().all(|&g| g == 0.0)));
    /// ```
    #[cfg(feature = "std")]
    fn boxed_zeros() -> Box<Self> {
        crate::kernel::boxed_zeros::<Self>()
    }
}
