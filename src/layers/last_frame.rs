//! `LastFrame`: the last frame of a window, `[[T; C]; L] → [T; C]`: what a causal
//! convolution stack computes for its newest sample, so that a classifier trained on windows
//! streams one frame at a time.

use core::marker::PhantomData;

use crate::ctx::TrainCtx;
use crate::layer::Layer;
use crate::layers::parameter_free::parameter_free;
use crate::scalar::Scalar;
use crate::stream::Stream;

/// `y = x[L − 1]`: the newest frame of a window (PyTorch: `x[:, :, -1]`, no module).
///
/// After a stack of causal convolutions over a window (stride 1, no padding) the last
/// output frame sees exactly the frames a stream has seen at that sample, so a network
/// trained on windows with `LastFrame` before its head streams through [`Stream`] with the
/// same result: as a stream, `LastFrame` passes each frame through.
///
/// ```
/// use constnet::{LastFrame, Layer};
/// assert_eq!(LastFrame::<2, 3, f64>::new().forward(&[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), [5.0, 6.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LastFrame<const C: usize, const L: usize, T = f32> {
    shape: PhantomData<T>,
}

impl<const C: usize, const L: usize, T: Scalar> LastFrame<C, L, T> {
    /// The layer (no parameters).
    pub const fn new() -> Self {
        const {
            assert!(
                L > 0,
                "LastFrame: the window needs at least one frame (L > 0)"
            )
        };
        LastFrame { shape: PhantomData }
    }
}

parameter_free!(
    impl[const C: usize, const L: usize, T: Scalar] for LastFrame<C, L, T>,
    scalar T,
    modules 0,
    "No module (an indexing in PyTorch's `forward`)."
);

impl<const C: usize, const L: usize, T: Scalar> Layer for LastFrame<C, L, T> {
    type Input = [[T; C]; L];
    type Output = [T; C];
    type Cache = ();
    type BatchCache<const B: usize> = [(); B];

    #[inline]
    fn forward(&self, x: &[[T; C]; L]) -> [T; C] {
        x[L - 1]
    }

    #[inline]
    fn forward_train(&self, x: &[[T; C]; L], _ctx: &mut TrainCtx) -> ([T; C], ()) {
        (x[L - 1], ())
    }

    #[inline]
    fn backward(&self, _cache: &(), dy: &[T; C], _grads: &mut Self) -> [[T; C]; L] {
        let mut dx = [[T::zero(); C]; L];
        dx[L - 1] = *dy;
        dx
    }
}

/// As a stream, the frame passes through (the stream's newest frame is the window's last).
impl<const C: usize, const L: usize, T: Scalar> Stream for LastFrame<C, L, T> {
    type InFrame = [T; C];
    type OutFrame = [T; C];
    type State = ();
    #[inline(always)]
    fn step(&self, _state: &mut (), x: &[T; C]) -> [T; C] {
        *x
    }
}
