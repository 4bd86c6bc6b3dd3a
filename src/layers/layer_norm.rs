//! `LayerNorm`: per-sample normalization over the features with a learned scale and shift.

use crate::ctx::TrainCtx;
use crate::layer::Layer;
use crate::named::{Setting, SettingMut};
use crate::params::{Params, TensorKind, TensorShape};
use crate::scalar::Scalar;
use crate::zeros::Zeros;

/// PyTorch's `nn.LayerNorm(N)` (with its affine weight and bias):
/// `y = (x − mean)/sqrt(var + eps)·weight + bias`, with the mean and the **biased** variance
/// taken over the `N` features of each sample.
///
/// [`LayerNorm::new`] gives PyTorch's initial values (weight 1, bias 0); [`Zeros::zeros`]
/// gives all-zero parameters (for gradients and optimizer state).
///
/// ```
/// use constnet::{Layer, LayerNorm};
/// let norm = LayerNorm::<4, f64>::new();
/// let y = norm.forward(&[1.0, 2.0, 3.0, 4.0]);
/// // mean 2.5, biased variance 1.25
/// let want = (1.0 - 2.5) / (1.25f64 + 1e-5).sqrt();
/// assert!((y[0] - want).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNorm<const N: usize, T = f32> {
    /// The per-feature scale (PyTorch `weight`, starts at 1).
    pub weight: [T; N],
    /// The per-feature shift (PyTorch `bias`, starts at 0).
    pub bias: [T; N],
    /// Added to the variance before the square root (not trained; default `1e-5`).
    pub eps: f64,
}

/// PyTorch's default `eps` for the norm layers.
const DEFAULT_EPS: f64 = 1e-5;

/// What `LayerNorm::backward` needs from one sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNormCache<const N: usize, T> {
    /// The normalized input `x̂ = (x − mean)/sqrt(var + eps)`.
    pub normalized: [T; N],
    /// `1/sqrt(var + eps)`.
    pub inv_std: T,
}

impl<const N: usize, T: Scalar> Zeros for LayerNormCache<N, T> {
    fn zeros() -> Self {
        LayerNormCache {
            normalized: [T::zero(); N],
            inv_std: T::zero(),
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            LayerNormCache {
                normalized: crate::zeros::Zeros::zeros_in_place,
                inv_std: crate::zeros::Zeros::zeros_in_place
            }
        )
    }
}

impl<const N: usize, T: Scalar> LayerNorm<N, T> {
    /// PyTorch's initial layer: weight 1, bias 0, `eps = 1e-5`.
    pub fn new() -> Self {
        Self::from_affine([T::one(); N], [T::zero(); N])
    }

    /// A layer with the given weight and bias and `eps = 1e-5` (a `const fn`).
    pub const fn from_affine(weight: [T; N], bias: [T; N]) -> Self {
        LayerNorm {
            weight,
            bias,
            eps: DEFAULT_EPS,
        }
    }

    /// The same layer with another `eps` (a `const fn`).
    pub const fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// `x̂` and `1/sqrt(var + eps)` of one sample.
    #[inline]
    fn normalize(&self, x: &[T; N]) -> ([T; N], T) {
        let count = T::from_f64(N as f64);
        let mut sum = T::zero();
        for &v in x {
            sum += v;
        }
        let mean = sum / count;
        let mut centered = [T::zero(); N];
        let mut square_sum = T::zero();
        for (c, &v) in centered.iter_mut().zip(x.iter()) {
            *c = v - mean;
            square_sum += *c * *c;
        }
        let variance = square_sum / count;
        let inv_std = T::one() / (variance + T::from_f64(self.eps)).sqrt();
        for c in centered.iter_mut() {
            *c *= inv_std;
        }
        (centered, inv_std)
    }

    /// `y = x̂·weight + bias`.
    #[inline]
    fn affine(&self, normalized: &[T; N]) -> [T; N] {
        let mut y = [T::zero(); N];
        for o in 0..N {
            y[o] = normalized[o] * self.weight[o] + self.bias[o];
        }
        y
    }

    /// Adds the weight and bias gradients and returns `g = dy·weight` (the gradient w.r.t.
    /// `x̂`).
    #[inline]
    fn param_grads(&self, cache: &LayerNormCache<N, T>, dy: &[T; N], grads: &mut Self) -> [T; N] {
        let mut g = [T::zero(); N];
        for o in 0..N {
            grads.weight[o] += dy[o] * cache.normalized[o];
            grads.bias[o] += dy[o];
            g[o] = dy[o] * self.weight[o];
        }
        g
    }
}

impl<const N: usize, T: Scalar> Default for LayerNorm<N, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, T: Scalar> Zeros for LayerNorm<N, T> {
    /// Weight and bias zero (a gradient or optimizer state), `eps` at its default.
    fn zeros() -> Self {
        Self::from_affine([T::zero(); N], [T::zero(); N])
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            LayerNorm {
                weight: crate::zeros::Zeros::zeros_in_place,
                bias: crate::zeros::Zeros::zeros_in_place,
                eps: |s| crate::zeros::InPlace::write(s, DEFAULT_EPS)
            }
        )
    }
}

impl<const N: usize, T: Scalar> Params for LayerNorm<N, T> {
    type Scalar = T;
    const PARAM_COUNT: usize = 2 * N;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        [&self.weight[..], &self.bias[..]].into_iter()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [&mut self.weight[..], &mut self.bias[..]].into_iter()
    }
    fn shapes() -> impl Iterator<Item = TensorShape> {
        let weight = TensorShape {
            kind: TensorKind::Scale,
            rows: N,
            cols: 1,
            fan_in: N,
            fan_out: N,
        };
        let bias = TensorShape {
            kind: TensorKind::Shift,
            ..weight
        };
        [weight, bias].into_iter()
    }
    fn restore_defaults(&mut self) {
        self.eps = DEFAULT_EPS;
    }
}

impl<const N: usize, T: Scalar> crate::named::Named for LayerNorm<N, T> {
    fn visit_settings(&self, module: usize, f: &mut dyn FnMut(usize, &'static str, Setting)) {
        f(module, "eps", Setting::Real(self.eps));
    }
    fn visit_settings_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(usize, &'static str, SettingMut<'_>),
    ) {
        f(module, "eps", SettingMut::Real(&mut self.eps));
    }
}

impl<const N: usize, T: Scalar> Layer for LayerNorm<N, T> {
    type Input = [T; N];
    type Output = [T; N];
    type Cache = LayerNormCache<N, T>;
    type BatchCache<const B: usize> = [LayerNormCache<N, T>; B];

    #[inline]
    fn forward(&self, x: &[T; N]) -> [T; N] {
        self.affine(&self.normalize(x).0)
    }

    #[inline]
    fn forward_train(&self, x: &[T; N], _ctx: &mut TrainCtx) -> ([T; N], Self::Cache) {
        let (normalized, inv_std) = self.normalize(x);
        (
            self.affine(&normalized),
            LayerNormCache {
                normalized,
                inv_std,
            },
        )
    }

    /// With `g = dy·weight`: `dx = (g − mean(g) − x̂·mean(g·x̂))/sqrt(var + eps)`.
    #[inline]
    fn backward(&self, cache: &Self::Cache, dy: &[T; N], grads: &mut Self) -> [T; N] {
        let g = self.param_grads(cache, dy, grads);
        let count = T::from_f64(N as f64);
        let mut g_sum = T::zero();
        let mut g_dot_normalized = T::zero();
        for (&go, &normalized) in g.iter().zip(cache.normalized.iter()) {
            g_sum += go;
            g_dot_normalized += go * normalized;
        }
        let g_mean = g_sum / count;
        let g_normalized_mean = g_dot_normalized / count;
        let mut dx = [T::zero(); N];
        for o in 0..N {
            dx[o] = (g[o] - g_mean - cache.normalized[o] * g_normalized_mean) * cache.inv_std;
        }
        dx
    }

    #[inline]
    fn backward_params(&self, cache: &Self::Cache, dy: &[T; N], grads: &mut Self) {
        self.param_grads(cache, dy, grads);
    }
}

crate::impl_zero_bits!(unsafe impl[const N: usize, T: crate::ZeroBits] for LayerNorm<N, T> { weight, bias, eps });
crate::impl_zero_bits!(unsafe impl[const N: usize, T: crate::ZeroBits] for LayerNormCache<N, T> { normalized, inv_std });

crate::stream::stateless_stream!(impl[const N: usize, T: Scalar] for LayerNorm<N, T>, [T; N] => [T; N]);
