//! `GlobalAvgPool1d` and `GlobalMaxPool1d`: a sequence of frames `[[T; C]; L]` reduced to one
//! frame `[T; C]` over time, so that a convolution stack ends in a classifier head.

use core::marker::PhantomData;

use crate::ctx::TrainCtx;
use crate::layer::Layer;
use crate::layers::parameter_free::parameter_free;
use crate::scalar::Scalar;

/// The mean over time of each channel: `y[c] = (1/L)·Σₜ x[t][c]` (PyTorch's
/// `nn.AdaptiveAvgPool1d(1)` then `nn.Flatten()`, or `x.mean(dim=2)`).
///
/// ```
/// use constnet::{GlobalAvgPool1d, Layer};
/// let pool = GlobalAvgPool1d::<2, 4, f64>::new();
/// assert_eq!(pool.forward(&[[1.0, 0.0], [2.0, 0.0], [3.0, 4.0], [2.0, 0.0]]), [2.0, 1.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlobalAvgPool1d<const C: usize, const L: usize, T = f32> {
    shape: PhantomData<T>,
}

/// The maximum over time of each channel: `y[c] = maxₜ x[t][c]` (PyTorch's
/// `nn.AdaptiveMaxPool1d(1)` then `nn.Flatten()`). A NaN in a channel makes its maximum NaN,
/// as in PyTorch; the gradient goes to the first maximum.
///
/// ```
/// use constnet::{GlobalMaxPool1d, Layer};
/// let pool = GlobalMaxPool1d::<2, 3, f64>::new();
/// assert_eq!(pool.forward(&[[1.0, -5.0], [3.0, -4.0], [2.0, -6.0]]), [3.0, -4.0]);
/// assert!(pool.forward(&[[1.0, 0.0], [f64::NAN, 0.0], [2.0, 0.0]])[0].is_nan());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlobalMaxPool1d<const C: usize, const L: usize, T = f32> {
    shape: PhantomData<T>,
}

impl<const C: usize, const L: usize, T: Scalar> GlobalAvgPool1d<C, L, T> {
    /// The layer (no parameters).
    pub const fn new() -> Self {
        const {
            assert!(
                L > 0,
                "GlobalAvgPool1d: the window needs at least one frame (L > 0)"
            )
        };
        GlobalAvgPool1d { shape: PhantomData }
    }
}

impl<const C: usize, const L: usize, T: Scalar> GlobalMaxPool1d<C, L, T> {
    /// The layer (no parameters).
    pub const fn new() -> Self {
        const {
            assert!(
                L > 0,
                "GlobalMaxPool1d: the window needs at least one frame (L > 0)"
            )
        };
        GlobalMaxPool1d { shape: PhantomData }
    }

    /// The index of each channel's maximum (the first, or the first NaN).
    #[inline(always)]
    fn argmax(x: &[[T; C]; L]) -> [usize; C] {
        let mut at = [0usize; C];
        for (c, best) in at.iter_mut().enumerate() {
            for t in 1..L {
                let (v, m) = (x[t][c], x[*best][c]);
                if !m.is_nan() && (v > m || v.is_nan()) {
                    *best = t;
                }
            }
        }
        at
    }
}

parameter_free!(
    impl[const C: usize, const L: usize, T: Scalar] for GlobalAvgPool1d<C, L, T>,
    scalar T,
    modules 2,
    "Two modules, `nn.AdaptiveAvgPool1d(1)` and `nn.Flatten()`."
);

parameter_free!(
    impl[const C: usize, const L: usize, T: Scalar] for GlobalMaxPool1d<C, L, T>,
    scalar T,
    modules 2,
    "Two modules, `nn.AdaptiveMaxPool1d(1)` and `nn.Flatten()`."
);

impl<const C: usize, const L: usize, T: Scalar> Layer for GlobalAvgPool1d<C, L, T> {
    type Input = [[T; C]; L];
    type Output = [T; C];
    type Cache = ();
    type BatchCache<const B: usize> = [(); B];

    #[inline]
    fn forward(&self, x: &[[T; C]; L]) -> [T; C] {
        let mut sum = [T::zero(); C];
        for frame in x {
            for (s, &v) in sum.iter_mut().zip(frame) {
                *s += v;
            }
        }
        let scale = T::one() / T::from_f64(L as f64);
        sum.map(|s| s * scale)
    }

    #[inline]
    fn forward_train(&self, x: &[[T; C]; L], _ctx: &mut TrainCtx) -> ([T; C], ()) {
        (self.forward(x), ())
    }

    #[inline]
    fn backward(&self, _cache: &(), dy: &[T; C], _grads: &mut Self) -> [[T; C]; L] {
        let scale = T::one() / T::from_f64(L as f64);
        [dy.map(|d| d * scale); L]
    }
}

impl<const C: usize, const L: usize, T: Scalar> Layer for GlobalMaxPool1d<C, L, T> {
    type Input = [[T; C]; L];
    type Output = [T; C];
    /// The input (backward finds each channel's maximum again).
    type Cache = [[T; C]; L];
    type BatchCache<const B: usize> = [[[T; C]; L]; B];

    #[inline]
    fn forward(&self, x: &[[T; C]; L]) -> [T; C] {
        let at = Self::argmax(x);
        core::array::from_fn(|c| x[at[c]][c])
    }

    #[inline]
    fn forward_train(&self, x: &[[T; C]; L], _ctx: &mut TrainCtx) -> ([T; C], [[T; C]; L]) {
        (self.forward(x), *x)
    }

    #[inline]
    fn backward(&self, x: &[[T; C]; L], dy: &[T; C], _grads: &mut Self) -> [[T; C]; L] {
        let at = Self::argmax(x);
        let mut dx = [[T::zero(); C]; L];
        for c in 0..C {
            dx[at[c]][c] = dy[c];
        }
        dx
    }
}
