//! `Flatten`: a rank-2 or rank-3 channels-last array as one vector, in PyTorch's
//! channels-first order, so that a classifier head follows a convolution stack.

use core::marker::PhantomData;

use crate::ctx::TrainCtx;
use crate::layer::Layer;
use crate::layers::message::Message;
use crate::layers::parameter_free::parameter_free;
use crate::scalar::Scalar;

/// A channels-last array that [`Flatten`] reads: `[[T; C]; L]` (a 1-d signal of `L` frames
/// of `C` channels) or `[[[T; C]; W]; H]` (an `H × W` image of `C` channels).
pub trait ChannelsLast: Copy + crate::zeros::Zeros {
    /// The element type.
    type Scalar: Scalar;
    /// The spatial sizes and the channel count, `[L, 1, C]` or `[H, W, C]`.
    const DIMS: [usize; 3];
    /// The rank (2 or 3), for messages.
    const RANK: usize;
    /// The value at `(spatial index, channel)` (spatial index `i·W + j`, or `t`).
    fn at(&self, position: usize, channel: usize) -> Self::Scalar;
    /// The value at `(spatial index, channel)`, writable.
    fn at_mut(&mut self, position: usize, channel: usize) -> &mut Self::Scalar;
}

impl<T: Scalar, const C: usize, const L: usize> ChannelsLast for [[T; C]; L] {
    type Scalar = T;
    const DIMS: [usize; 3] = [L, 1, C];
    const RANK: usize = 2;
    #[inline(always)]
    fn at(&self, position: usize, channel: usize) -> T {
        self[position][channel]
    }
    #[inline(always)]
    fn at_mut(&mut self, position: usize, channel: usize) -> &mut T {
        &mut self[position][channel]
    }
}

impl<T: Scalar, const C: usize, const W: usize, const H: usize> ChannelsLast for [[[T; C]; W]; H] {
    type Scalar = T;
    const DIMS: [usize; 3] = [H, W, C];
    const RANK: usize = 3;
    #[inline(always)]
    fn at(&self, position: usize, channel: usize) -> T {
        self[position / W][position % W][channel]
    }
    #[inline(always)]
    fn at_mut(&mut self, position: usize, channel: usize) -> &mut T {
        &mut self[position / W][position % W][channel]
    }
}

/// `nn.Flatten()` after a convolution: the channels-last input `X` (`[[T; C]; L]` or
/// `[[[T; C]; W]; H]`) as `[T; N]`, in **PyTorch's channels-first order** (`(C, L)` or
/// `(C, H, W)`: element `(c, t)` goes to `c·L + t`), so that the `nn.Linear` after a PyTorch
/// `Flatten` loads as it is. `N` must be the number of input values, checked at compile time
/// with the product in the message.
///
/// ```
/// use constnet::{Flatten, Layer};
/// let flat = Flatten::<[[f32; 2]; 3], 6>::new();
/// // Three frames of two channels, flattened channel by channel.
/// assert_eq!(flat.forward(&[[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// ```
/// A size that is not the product does not compile:
/// ```compile_fail
/// use constnet::{Flatten, Layer};
/// let _ = Flatten::<[[f32; 2]; 3], 5>::new().forward(&[[0.0; 2]; 3]);
/// ```
/// ```
/// use constnet::{Flatten, Layer};
/// let _ = Flatten::<[[f32; 2]; 3], 6>::new().forward(&[[0.0; 2]; 3]);
/// ```
/// rustc reports: `Flatten: N = 5, but the input has 3·1·2 = 6 values (H·W·C, or L·1·C)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Flatten<X, const N: usize> {
    shape: PhantomData<X>,
}

impl<X: ChannelsLast, const N: usize> Flatten<X, N> {
    /// The layer (no parameters).
    pub const fn new() -> Self {
        Flatten { shape: PhantomData }
    }

    /// Fails the build unless `N` is the input's size.
    const CHECK: () = {
        let [a, b, c] = X::DIMS;
        if a * b * c != N {
            Message::new()
                .text("Flatten: N = ")
                .num(N)
                .text(", but the input has ")
                .num(a)
                .text("·")
                .num(b)
                .text("·")
                .num(c)
                .text(" = ")
                .num(a * b * c)
                .text(" values (H·W·C, or L·1·C)")
                .panic();
        }
    };

    /// Output index of `(spatial position, channel)`: channels first.
    #[inline(always)]
    const fn index(position: usize, channel: usize) -> usize {
        let [a, b, _] = X::DIMS;
        channel * a * b + position
    }
}

parameter_free!(
    impl[X: ChannelsLast, const N: usize] for Flatten<X, N>,
    scalar X::Scalar,
    modules 1,
    "One module, `nn.Flatten()`."
);

impl<X: ChannelsLast, const N: usize> Layer for Flatten<X, N> {
    type Input = X;
    type Output = [X::Scalar; N];
    type Cache = ();
    type BatchCache<const B: usize> = [(); B];

    #[inline]
    fn forward(&self, x: &X) -> [X::Scalar; N] {
        let () = Self::CHECK;
        let [a, b, c] = X::DIMS;
        let mut y = [<X::Scalar as num_traits::Zero>::zero(); N];
        for position in 0..a * b {
            for channel in 0..c {
                y[Self::index(position, channel)] = x.at(position, channel);
            }
        }
        y
    }

    #[inline]
    fn forward_train(&self, x: &X, _ctx: &mut TrainCtx) -> ([X::Scalar; N], ()) {
        (self.forward(x), ())
    }

    #[inline]
    fn backward(&self, _cache: &(), dy: &[X::Scalar; N], _grads: &mut Self) -> X {
        let () = Self::CHECK;
        let [a, b, c] = X::DIMS;
        let mut dx = X::zeros();
        for position in 0..a * b {
            for channel in 0..c {
                *dx.at_mut(position, channel) = dy[Self::index(position, channel)];
            }
        }
        dx
    }
}
