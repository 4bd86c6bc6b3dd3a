//! `Dropout`: inverted dropout (PyTorch's `nn.Dropout(p)`), a parameter-free layer that zeroes
//! elements at random in training and is the identity in inference.

use core::marker::PhantomData;

use rand::Rng;

use crate::ctx::TrainCtx;
use crate::layer::Layer;
use crate::named::{Setting, SettingMut};
use crate::params::{Params, TensorShape};
use crate::scalar::Scalar;
use crate::zeros::Zeros;

/// PyTorch's `nn.Dropout(p)` over `[T; N]`: in training each element is zeroed with
/// probability `p` and the kept ones are scaled by `1/(1 − p)`, so the expected output is the
/// input; in inference ([`forward`](Layer::forward), [`forward_batch`](Layer::forward_batch))
/// it is the identity.
///
/// * **`p`** is the probability of *zeroing* an element, in `[0, 1]`. [`Dropout::new`] panics
///   for any other value (NaN included), [`Dropout::try_new`] returns `None`;
///   [`forward_train`](Layer::forward_train) checks the field again (it is public and files
///   can set it) and panics when it is not a probability, as PyTorch's `F.dropout` raises.
/// * **Draws.** Each element takes one [`next_u64`](rand::Rng::next_u64) from
///   [`ctx.rng()`](TrainCtx::rng), in element order (sample by sample in a batch), and is kept
///   when the draw is at least `⌈p·2⁶⁴⌉`. The keep probability is `1 − ⌈p·2⁶⁴⌉/2⁶⁴`: exactly
///   `1 − p` (the `f64` value) for every `p ≥ 2⁻¹²`, within `2⁻⁶⁴` of it below. `p = 0` (the
///   identity) and `p = 1` (all zeros) are certain and draw nothing, like PyTorch.
/// * **Scaling** as PyTorch on the CPU (`noise.div_(1 − p)`, then `input.mul(noise)`): a kept
///   element is `x·s` with `s = 1/(1 − p)` computed in `T` (`1 − p` in `f64`, rounded to `T`,
///   then divided), which is `x/(1 − p)` exactly when `1 − p` is a power of two and within an
///   ulp or so otherwise; a dropped one is `x·0` (so `±0`, and NaN for an infinite or NaN
///   input, as in PyTorch). The cache keeps the multipliers (`0` or `s`), and backward is
///   `dx = dy·mask`: the gradient flows only through the kept elements.
/// * **Files.** One `nn.Sequential` module (`MODULES = 1`), so `nn.Sequential(nn.Linear(4, 8),
///   nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2))` and `seq![Dense<4, 8, Relu>, Dropout<8>,
///   Dense<8, 2>]` both have the keys `0.weight`, `0.bias`, `3.weight`, `3.bias`. `p` is the
///   setting `K.p` of the own format and of checkpoints; a safetensors state_dict does not hold
///   it, so loading one keeps the network's `p`.
///
/// ```
/// use constnet::{Dropout, Layer, TrainCtx};
/// let dropout = Dropout::<6, f64>::new(0.5);
/// let x = [1.0, -2.0, 3.0, 4.0, -5.0, 6.0];
/// // Inference: the identity.
/// assert_eq!(dropout.forward(&x), x);
/// // Training: every output is 0 or x/(1 − p) = 2x, and the cache holds the multipliers.
/// let (y, cache) = dropout.forward_train(&x, &mut TrainCtx::new(7));
/// for i in 0..6 {
///     assert!(y[i] == 0.0 || y[i] == 2.0 * x[i]);
///     assert_eq!(y[i], x[i] * cache.mask[i]);
/// }
/// // The same seed draws the same mask.
/// assert_eq!(dropout.forward_train(&x, &mut TrainCtx::new(7)).0, y);
/// ```
///
/// In a network, between two `Dense` layers (set `p` after initializing: initializers build
/// the default, `p = 0.5`):
/// ```
/// use constnet::init::{self, Init};
/// use constnet::{Dense, Dropout, Named, Relu, seq};
/// type Net = seq![Dense<4, 8, Relu>, Dropout<8>, Dense<8, 2>];
/// let mut net: Net = init::seeded(Init::HeUniform, 0);
/// net.second.first = Dropout::new(0.2);
/// let mut keys = Vec::new();
/// net.visit_tensors(0, &mut |info, _| keys.push(format!("{}.{}", info.module, info.name)));
/// assert_eq!(keys, ["0.weight", "0.bias", "3.weight", "3.bias"]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout<const N: usize, T = f32> {
    /// The probability of zeroing an element in training, in `[0, 1]` (not trained; default
    /// `0.5`, PyTorch's).
    pub p: f64,
    scalar: PhantomData<T>,
}

/// PyTorch's default dropout probability.
const DEFAULT_P: f64 = 0.5;

/// 2⁶⁴, exactly.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// What `Dropout::backward` needs from one sample: the multiplier of each element.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropoutCache<const N: usize, T> {
    /// `0` for a dropped element, `1/(1 − p)` (computed in `T`) for a kept one; all `1` when
    /// `p = 0`. The output is `x·mask`, the input gradient `dy·mask`.
    pub mask: [T; N],
}

impl<const N: usize, T: Scalar> Zeros for DropoutCache<N, T> {
    fn zeros() -> Self {
        DropoutCache {
            mask: [T::zero(); N],
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            DropoutCache {
                mask: crate::zeros::Zeros::zeros_in_place
            }
        )
    }
}

impl<const N: usize, T: Scalar> Dropout<N, T> {
    /// The layer with drop probability `p` (a `const fn`).
    ///
    /// # Panics
    /// When `p` is not in `[0, 1]` or is NaN (at compile time in a `const` or `static`); see
    /// [`try_new`](Dropout::try_new) for a checked constructor.
    ///
    /// ```should_panic
    /// let _ = constnet::Dropout::<4>::new(1.5);
    /// ```
    pub const fn new(p: f64) -> Self {
        match Self::try_new(p) {
            Some(layer) => layer,
            None => panic!("Dropout::new: p must be a probability in [0, 1] (and not NaN)"),
        }
    }

    /// The layer with drop probability `p`, or `None` when `p` is not in `[0, 1]` or is NaN
    /// (a `const fn`).
    ///
    /// ```
    /// use constnet::Dropout;
    /// assert_eq!(Dropout::<4>::try_new(0.3).map(|d| d.p), Some(0.3));
    /// assert!(Dropout::<4>::try_new(-0.1).is_none());
    /// assert!(Dropout::<4>::try_new(f64::NAN).is_none());
    /// ```
    pub const fn try_new(p: f64) -> Option<Self> {
        if is_probability(p) {
            Some(Dropout {
                p,
                scalar: PhantomData,
            })
        } else {
            None
        }
    }

    /// The multipliers of one sample: one draw per element (none for `p = 0` or `p = 1`).
    #[inline]
    fn draw_mask(&self, ctx: &mut TrainCtx) -> [T; N] {
        let p = self.p;
        assert!(
            is_probability(p),
            "Dropout: p = {p} is not a probability in [0, 1]"
        );
        if p == 0.0 {
            return [T::one(); N];
        }
        if p == 1.0 {
            return [T::zero(); N];
        }
        let threshold = keep_threshold(p);
        let scale = T::one() / T::from_f64(1.0 - p);
        let rng = ctx.rng();
        core::array::from_fn(|_| {
            if rng.next_u64() >= threshold {
                scale
            } else {
                T::zero()
            }
        })
    }
}

/// `0 ≤ p ≤ 1` (false for NaN).
const fn is_probability(p: f64) -> bool {
    p >= 0.0 && p <= 1.0
}

/// `⌈p·2⁶⁴⌉` for `0 < p < 1`: a uniform `u64` draw at least this large has probability
/// `1 − ⌈p·2⁶⁴⌉/2⁶⁴`. `p·2⁶⁴` is exact and below 2⁶⁴; it is an integer from `2⁵²` up
/// (`p ≥ 2⁻¹²`), and below that the truncated value converts back exactly, so the comparison
/// decides the ceiling exactly.
#[inline]
fn keep_threshold(p: f64) -> u64 {
    let scaled = p * TWO_POW_64;
    let floor = scaled as u64;
    if (floor as f64) < scaled {
        floor + 1
    } else {
        floor
    }
}

impl<const N: usize, T: Scalar> Default for Dropout<N, T> {
    /// `p = 0.5`, PyTorch's default.
    fn default() -> Self {
        Self::new(DEFAULT_P)
    }
}

impl<const N: usize, T: Scalar> Zeros for Dropout<N, T> {
    /// No parameters: the same as [`Dropout::default`] (`p = 0.5`; the `p` of a gradient or
    /// optimizer-state value means nothing).
    fn zeros() -> Self {
        Self::default()
    }
}

impl<const N: usize, T: Scalar> Params for Dropout<N, T> {
    type Scalar = T;
    const PARAM_COUNT: usize = 0;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        core::iter::empty()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::empty()
    }
    fn shapes() -> impl Iterator<Item = TensorShape> {
        core::iter::empty()
    }
    /// `p` back to `0.5`, as an activation's settings go back to theirs (after a zeroed heap
    /// allocation, where `p` would read `0`).
    fn restore_defaults(&mut self) {
        self.p = DEFAULT_P;
    }
}

impl<const N: usize, T: Scalar> crate::named::Named for Dropout<N, T> {
    /// One module (`nn.Dropout(p)`), with the setting `p`.
    const MODULES: usize = 1;
    fn visit_settings(&self, module: usize, f: &mut dyn FnMut(usize, &'static str, Setting)) {
        f(module, "p", Setting::Real(self.p));
    }
    fn visit_settings_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(usize, &'static str, SettingMut<'_>),
    ) {
        f(module, "p", SettingMut::Real(&mut self.p));
    }
}

impl<const N: usize, T: Scalar> Layer for Dropout<N, T> {
    type Input = [T; N];
    type Output = [T; N];
    type Cache = DropoutCache<N, T>;
    type BatchCache<const B: usize> = [DropoutCache<N, T>; B];

    /// Inference: the identity (no draw).
    #[inline]
    fn forward(&self, x: &[T; N]) -> [T; N] {
        *x
    }

    /// `y = x·mask` with a fresh mask from `ctx` (see [`Dropout`] for the draws).
    ///
    /// # Panics
    /// When `p` is not in `[0, 1]` or is NaN.
    #[inline]
    fn forward_train(&self, x: &[T; N], ctx: &mut TrainCtx) -> ([T; N], Self::Cache) {
        let mask = self.draw_mask(ctx);
        let mut y = [T::zero(); N];
        for ((yi, &xi), &mi) in y.iter_mut().zip(x.iter()).zip(mask.iter()) {
            *yi = xi * mi;
        }
        (y, DropoutCache { mask })
    }

    /// `dx = dy·mask`; no parameters.
    #[inline]
    fn backward(&self, cache: &Self::Cache, dy: &[T; N], _grads: &mut Self) -> [T; N] {
        let mut dx = [T::zero(); N];
        for ((dxi, &dyi), &mi) in dx.iter_mut().zip(dy.iter()).zip(cache.mask.iter()) {
            *dxi = dyi * mi;
        }
        dx
    }

    /// No parameters: nothing to do.
    #[inline]
    fn backward_params(&self, _cache: &Self::Cache, _dy: &[T; N], _grads: &mut Self) {}
}

crate::impl_zero_bits!(unsafe impl[const N: usize, T] for Dropout<N, T> { p, scalar });
crate::impl_zero_bits!(unsafe impl[const N: usize, T: crate::ZeroBits] for DropoutCache<N, T> { mask });

#[cfg(test)]
mod tests {
    use super::*;

    /// The threshold is the exact ceiling of `p·2⁶⁴`, at the edges of the exact range too.
    #[test]
    fn keep_threshold_is_the_ceiling() {
        assert_eq!(keep_threshold(0.5), 1 << 63);
        assert_eq!(keep_threshold(0.25), 1 << 62);
        assert_eq!(
            keep_threshold(1.0 - f64::EPSILON / 2.0),
            u64::MAX - (1 << 11) + 1
        );
        // 2⁻¹²: the smallest binade where p·2⁶⁴ is always an integer.
        assert_eq!(keep_threshold(1.0 / 4096.0), 1 << 52);
        // Below it: a fraction rounds up.
        let ulp = 1.0 / TWO_POW_64;
        assert_eq!(keep_threshold(1.5 * ulp), 2);
        assert_eq!(keep_threshold(3.0 * ulp), 3);
        assert_eq!(keep_threshold(f64::MIN_POSITIVE), 1);
        // Just below 2⁻¹²: p·2⁶⁴ = 2⁵² − 1/2.
        let below = f64::from_bits((1.0f64 / 4096.0).to_bits() - 1);
        assert_eq!(keep_threshold(below), 1 << 52);
    }

    #[test]
    fn probabilities() {
        assert!(is_probability(0.0) && is_probability(1.0) && is_probability(0.3));
        assert!(!is_probability(-0.0 - f64::MIN_POSITIVE));
        assert!(!is_probability(1.0 + f64::EPSILON));
        assert!(!is_probability(f64::NAN));
        assert!(!is_probability(f64::INFINITY));
    }
}

// Streaming is inference: the identity.
crate::stream::stateless_stream!(impl[const N: usize, T: Scalar] for Dropout<N, T>, [T; N] => [T; N]);
