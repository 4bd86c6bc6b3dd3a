//! Activation functions: the `ActivationFn` trait and its PyTorch-exact implementations.
//!
//! Each activation computes `y = f(z)` over a vector and the vector-Jacobian product
//! `dz = J(z)ᵀ·dy` from the saved pre-activation `z` and output `y`. Elementwise functions
//! implement the smaller [`Pointwise`] trait and get the vector form for free; `Softmax` is
//! per vector. Derivatives at kinks follow PyTorch (ReLU' (0) = 0, LeakyReLU'(0) = slope,
//! ELU'(0) = 1).
//!
//! NaN is never laundered: a NaN input gives a NaN output (for `Softmax`, the whole vector, as
//! PyTorch's), in `f32` and `f64`. The input gradient there is NaN too, except where
//! PyTorch's backward compares the NaN and takes a branch: `Identity` and `Relu` pass `dy`,
//! `LeakyRelu` gives `slope·dy` (all checked by `tests/nan.rs`).

use crate::named::{Setting, SettingMut};
use crate::scalar::{Scalar, sigmoid};

/// A vector activation function fused into [`Dense`](crate::Dense) or used standalone through
/// [`Activation`](crate::Activation).
pub trait ActivationFn<T: Scalar>: Copy + Default + core::fmt::Debug {
    /// `y = f(z)`.
    fn forward<const N: usize>(&self, z: &[T; N], y: &mut [T; N]);
    /// [`forward`](ActivationFn::forward) with its kernels taken from `K` (see
    /// [`Layer::forward_with`](crate::Layer::forward_with)); the same bits. The default calls
    /// `forward`.
    #[doc(hidden)]
    #[inline(always)]
    fn forward_with<K: crate::kernel::Kernels, const N: usize>(&self, z: &[T; N], y: &mut [T; N]) {
        self.forward(z, y);
    }
    /// `dz = J(z)ᵀ·dy`, given the saved `z` and `y = f(z)`.
    fn backward<const N: usize>(&self, z: &[T; N], y: &[T; N], dy: &[T; N], dz: &mut [T; N]);
    /// Modules it stands for in a PyTorch `nn.Sequential`: 1, and 0 for [`Identity`] (a
    /// `Dense` without activation is a bare `Linear`).
    const MODULES: usize = 1;
    /// Whether each output depends on its own input alone (every [`Pointwise`] function,
    /// not [`Softmax`]): then a layer may apply it to any run of its outputs.
    #[doc(hidden)]
    const ELEMENTWISE: bool = false;
    /// [`Pointwise::clamp_range`] for elementwise functions, else `None`.
    #[doc(hidden)]
    #[inline(always)]
    fn clamp_range(&self) -> Option<(T, T)> {
        None
    }
    /// Calls `f` with each setting (PyTorch's argument name and value), for weight files.
    fn visit_settings(&self, f: &mut dyn FnMut(&'static str, Setting)) {
        let _ = f;
    }
    /// [`visit_settings`](ActivationFn::visit_settings), writable.
    fn visit_settings_mut(&mut self, f: &mut dyn FnMut(&'static str, SettingMut<'_>)) {
        let _ = f;
    }
}

/// An elementwise activation: `f(x)` and `f'(x)` from `x` and `y = f(x)`.
///
/// Implement this for a custom elementwise function; [`ActivationFn`] follows.
///
/// ```
/// use constnet::{Pointwise, Scalar};
/// #[derive(Clone, Copy, Debug, Default)]
/// struct Square;
/// impl Pointwise for Square {
///     fn f<T: Scalar>(&self, x: T) -> T { x * x }
///     fn df<T: Scalar>(&self, x: T, _y: T) -> T { x + x }
/// }
/// ```
pub trait Pointwise: Copy + Default + core::fmt::Debug {
    /// The function.
    fn f<T: Scalar>(&self, x: T) -> T;
    /// Its derivative at `x`, where `y = f(x)` is also given.
    fn df<T: Scalar>(&self, x: T, y: T) -> T;
    /// Modules it stands for in a PyTorch `nn.Sequential` (see [`ActivationFn::MODULES`]).
    const MODULES: usize = 1;
    /// Calls `f` with each setting (see [`ActivationFn::visit_settings`]).
    fn visit_settings(&self, f: &mut dyn FnMut(&'static str, Setting)) {
        let _ = f;
    }
    /// [`visit_settings`](Pointwise::visit_settings), writable.
    fn visit_settings_mut(&mut self, f: &mut dyn FnMut(&'static str, SettingMut<'_>)) {
        let _ = f;
    }
    /// `Some((low, high))` when `f(x)` is `low` for `x < low`, `high` for `x > high`, else
    /// `x` itself (NaN kept): layers then apply it in place with a clamp kernel.
    #[doc(hidden)]
    #[inline(always)]
    fn clamp_range<T: Scalar>(&self) -> Option<(T, T)> {
        None
    }

    /// `y = f(x)` over a vector. The default applies [`f`](Pointwise::f) per element; the
    /// crate's transcendental activations override it with whole-vector kernels
    /// ([`Scalar::tanh_slice`] and friends), which vectorize for `f32`.
    #[inline(always)]
    fn f_vector<T: Scalar, const N: usize>(&self, x: &[T; N], y: &mut [T; N]) {
        for (yi, &xi) in y.iter_mut().zip(x.iter()) {
            *yi = self.f(xi);
        }
    }

    /// [`f_vector`](Pointwise::f_vector) with its kernels taken from `K` (see
    /// [`Layer::forward_with`](crate::Layer::forward_with)); the same bits. The default calls
    /// `f_vector`.
    #[doc(hidden)]
    #[inline(always)]
    fn f_vector_with<K: crate::kernel::Kernels, T: Scalar, const N: usize>(
        &self,
        x: &[T; N],
        y: &mut [T; N],
    ) {
        self.f_vector(x, y);
    }

    /// `dx = dy ⊙ f'(x)` over a vector (default: [`df`](Pointwise::df) per element).
    #[inline(always)]
    fn df_vector<T: Scalar, const N: usize>(
        &self,
        x: &[T; N],
        y: &[T; N],
        dy: &[T; N],
        dx: &mut [T; N],
    ) {
        for o in 0..N {
            dx[o] = dy[o] * self.df(x[o], y[o]);
        }
    }
}

impl<T: Scalar, P: Pointwise> ActivationFn<T> for P {
    #[inline(always)]
    fn forward<const N: usize>(&self, z: &[T; N], y: &mut [T; N]) {
        self.f_vector(z, y);
    }
    #[inline(always)]
    fn forward_with<K: crate::kernel::Kernels, const N: usize>(&self, z: &[T; N], y: &mut [T; N]) {
        self.f_vector_with::<K, T, N>(z, y);
    }
    #[inline(always)]
    fn backward<const N: usize>(&self, z: &[T; N], y: &[T; N], dy: &[T; N], dz: &mut [T; N]) {
        self.df_vector(z, y, dy, dz);
    }
    const MODULES: usize = <P as Pointwise>::MODULES;
    const ELEMENTWISE: bool = true;
    #[inline(always)]
    fn clamp_range(&self) -> Option<(T, T)> {
        Pointwise::clamp_range::<T>(self)
    }
    fn visit_settings(&self, f: &mut dyn FnMut(&'static str, Setting)) {
        Pointwise::visit_settings(self, f);
    }
    fn visit_settings_mut(&mut self, f: &mut dyn FnMut(&'static str, SettingMut<'_>)) {
        Pointwise::visit_settings_mut(self, f);
    }
}

/// `f(x) = x`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Identity;

impl Pointwise for Identity {
    const MODULES: usize = 0;
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        x
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, _x: T, _y: T) -> T {
        T::one()
    }
}

/// `max(x, 0)` as PyTorch computes it on the CPU (`clamp_min(x, 0)`): `x` itself unless
/// `x < 0`, so a NaN stays the same NaN and `-0.0` stays `-0.0`. Derivative 0 at 0, and 1
/// at NaN (PyTorch's backward, `y <= 0 ? 0 : dy`, passes the gradient through a NaN).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Relu;

impl Pointwise for Relu {
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        // `x < 0` is false for NaN, which is kept (`x > 0 ? x : 0` made it 0). On x86 this
        // is one `max` instruction with the zero first, as the old form was with it second.
        if x < T::zero() { T::zero() } else { x }
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, x: T, _y: T) -> T {
        if x <= T::zero() { T::zero() } else { T::one() }
    }
    #[inline(always)]
    fn clamp_range<T: Scalar>(&self) -> Option<(T, T)> {
        Some((T::zero(), T::infinity()))
    }
}

/// `min(max(x, 0), 6)`, PyTorch's `nn.ReLU6` (`hardtanh(x, 0, 6)`; MobileNet's activation):
/// NaN stays NaN. Derivative 1 strictly between 0 and 6, else 0 (PyTorch's backward,
/// `dy·(0 < x < 6)`).
///
/// ```
/// use constnet::{Pointwise, Relu6};
/// assert_eq!([-1.0, 3.0, 7.0].map(|x: f64| Relu6.f(x)), [0.0, 3.0, 6.0]);
/// assert!(Relu6.f(f64::NAN).is_nan());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Relu6;

impl Pointwise for Relu6 {
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        let six = T::from_f64(6.0);
        if x < T::zero() {
            T::zero()
        } else if x > six {
            six
        } else {
            x
        }
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, x: T, _y: T) -> T {
        if x > T::zero() && x < T::from_f64(6.0) {
            T::one()
        } else {
            T::zero()
        }
    }
    #[inline(always)]
    fn clamp_range<T: Scalar>(&self) -> Option<(T, T)> {
        Some((T::zero(), T::from_f64(6.0)))
    }
}

/// `x` if `x > 0` else `negative_slope·x` (PyTorch default slope 0.01).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu {
    /// Slope for `x <= 0`.
    pub negative_slope: f64,
}

impl Default for LeakyRelu {
    fn default() -> Self {
        LeakyRelu {
            negative_slope: 0.01,
        }
    }
}

impl Pointwise for LeakyRelu {
    fn visit_settings(&self, f: &mut dyn FnMut(&'static str, Setting)) {
        f("negative_slope", Setting::Real(self.negative_slope));
    }
    fn visit_settings_mut(&mut self, f: &mut dyn FnMut(&'static str, SettingMut<'_>)) {
        f("negative_slope", SettingMut::Real(&mut self.negative_slope));
    }
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        if x > T::zero() {
            x
        } else {
            T::from_f64(self.negative_slope) * x
        }
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, x: T, _y: T) -> T {
        if x > T::zero() {
            T::one()
        } else {
            T::from_f64(self.negative_slope)
        }
    }
}

/// `x` if `x > 0` else `alpha·(eˣ − 1)` (PyTorch default alpha 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu {
    /// Scale of the negative part.
    pub alpha: f64,
}

impl Default for Elu {
    fn default() -> Self {
        Elu { alpha: 1.0 }
    }
}

impl Pointwise for Elu {
    fn visit_settings(&self, f: &mut dyn FnMut(&'static str, Setting)) {
        f("alpha", Setting::Real(self.alpha));
    }
    fn visit_settings_mut(&mut self, f: &mut dyn FnMut(&'static str, SettingMut<'_>)) {
        f("alpha", SettingMut::Real(&mut self.alpha));
    }
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        if x > T::zero() {
            x
        } else {
            T::from_f64(self.alpha) * x.exp_m1()
        }
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, x: T, _y: T) -> T {
        if x > T::zero() {
            T::one()
        } else {
            T::from_f64(self.alpha) * x.exp()
        }
    }
    #[inline(always)]
    fn f_vector<T: Scalar, const N: usize>(&self, x: &[T; N], y: &mut [T; N]) {
        T::exp_m1_slice(x, y);
        let alpha = T::from_f64(self.alpha);
        for (yi, &xi) in y.iter_mut().zip(x.iter()) {
            *yi = if xi > T::zero() { xi } else { alpha * *yi };
        }
    }
    #[inline(always)]
    fn df_vector<T: Scalar, const N: usize>(
        &self,
        x: &[T; N],
        _y: &[T; N],
        dy: &[T; N],
        dx: &mut [T; N],
    ) {
        T::exp_slice(x, dx);
        let alpha = T::from_f64(self.alpha);
        for o in 0..N {
            dx[o] = dy[o]
                * if x[o] > T::zero() {
                    T::one()
                } else {
                    alpha * dx[o]
                };
        }
    }
}

/// `1 / (1 + e⁻ˣ)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sigmoid;

impl Pointwise for Sigmoid {
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        sigmoid(x)
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, _x: T, y: T) -> T {
        y * (T::one() - y)
    }
    #[inline(always)]
    fn f_vector<T: Scalar, const N: usize>(&self, x: &[T; N], y: &mut [T; N]) {
        T::sigmoid_slice(x, y);
    }
    #[inline(always)]
    fn f_vector_with<K: crate::kernel::Kernels, T: Scalar, const N: usize>(
        &self,
        x: &[T; N],
        y: &mut [T; N],
    ) {
        K::sigmoid(x, y);
    }
}

/// Hyperbolic tangent.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tanh;

impl Pointwise for Tanh {
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        x.tanh()
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, _x: T, y: T) -> T {
        T::one() - y * y
    }
    #[inline(always)]
    fn f_vector<T: Scalar, const N: usize>(&self, x: &[T; N], y: &mut [T; N]) {
        T::tanh_slice(x, y);
    }
    #[inline(always)]
    fn f_vector_with<K: crate::kernel::Kernels, T: Scalar, const N: usize>(
        &self,
        x: &[T; N],
        y: &mut [T; N],
    ) {
        K::tanh(x, y);
    }
}

/// `ln(1 + e^{βx})/β`, and `x` itself where `βx > threshold` (PyTorch: β = 1, threshold 20).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softplus {
    /// β.
    pub beta: f64,
    /// Above `β·x > threshold` the function is the identity.
    pub threshold: f64,
}

impl Default for Softplus {
    fn default() -> Self {
        Softplus {
            beta: 1.0,
            threshold: 20.0,
        }
    }
}

impl Pointwise for Softplus {
    fn visit_settings(&self, f: &mut dyn FnMut(&'static str, Setting)) {
        f("beta", Setting::Real(self.beta));
        f("threshold", Setting::Real(self.threshold));
    }
    fn visit_settings_mut(&mut self, f: &mut dyn FnMut(&'static str, SettingMut<'_>)) {
        f("beta", SettingMut::Real(&mut self.beta));
        f("threshold", SettingMut::Real(&mut self.threshold));
    }
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        let beta = T::from_f64(self.beta);
        let bx = beta * x;
        if bx > T::from_f64(self.threshold) {
            x
        } else {
            bx.exp().ln_1p() / beta
        }
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, x: T, _y: T) -> T {
        let bx = T::from_f64(self.beta) * x;
        if bx > T::from_f64(self.threshold) {
            T::one()
        } else {
            sigmoid(bx)
        }
    }
    #[inline(always)]
    fn f_vector<T: Scalar, const N: usize>(&self, x: &[T; N], y: &mut [T; N]) {
        let beta = T::from_f64(self.beta);
        let threshold = T::from_f64(self.threshold);
        let scaled = map_array(x, |xi| beta * xi);
        T::exp_slice(&scaled, y);
        let exp = *y;
        T::ln_1p_slice(&exp, y);
        for o in 0..N {
            y[o] = if scaled[o] > threshold {
                x[o]
            } else {
                y[o] / beta
            };
        }
    }
    #[inline(always)]
    fn df_vector<T: Scalar, const N: usize>(
        &self,
        x: &[T; N],
        _y: &[T; N],
        dy: &[T; N],
        dx: &mut [T; N],
    ) {
        let beta = T::from_f64(self.beta);
        let threshold = T::from_f64(self.threshold);
        let scaled = map_array(x, |xi| beta * xi);
        T::sigmoid_slice(&scaled, dx);
        for o in 0..N {
            dx[o] = dy[o]
                * if scaled[o] > threshold {
                    T::one()
                } else {
                    dx[o]
                };
        }
    }
}

/// GELU with the exact erf: `x·Φ(x)` (PyTorch `approximate='none'`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Gelu;

impl Pointwise for Gelu {
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        let half = T::from_f64(0.5);
        half * x * (T::one() + (x * T::from_f64(core::f64::consts::FRAC_1_SQRT_2)).erf())
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, x: T, _y: T) -> T {
        let half = T::from_f64(0.5);
        let cdf = half * (T::one() + (x * T::from_f64(core::f64::consts::FRAC_1_SQRT_2)).erf());
        // φ(x) = e^{-x²/2}/√(2π)
        let pdf = (-half * x * x).exp() * T::from_f64(0.398_942_280_401_432_7);
        cdf + x * pdf
    }
    #[inline(always)]
    fn f_vector<T: Scalar, const N: usize>(&self, x: &[T; N], y: &mut [T; N]) {
        let c = T::from_f64(core::f64::consts::FRAC_1_SQRT_2);
        let scaled = map_array(x, |xi| xi * c);
        T::erf_slice(&scaled, y);
        let half = T::from_f64(0.5);
        for (yi, &xi) in y.iter_mut().zip(x.iter()) {
            *yi = half * xi * (T::one() + *yi);
        }
    }
    #[inline(always)]
    fn df_vector<T: Scalar, const N: usize>(
        &self,
        x: &[T; N],
        _y: &[T; N],
        dy: &[T; N],
        dx: &mut [T; N],
    ) {
        let c = T::from_f64(core::f64::consts::FRAC_1_SQRT_2);
        let half = T::from_f64(0.5);
        let scaled = map_array(x, |xi| xi * c);
        let exponent = map_array(x, |xi| -half * xi * xi);
        let mut pdf = [T::zero(); N];
        T::exp_slice(&exponent, &mut pdf);
        T::erf_slice(&scaled, dx);
        let inv_sqrt_2pi = T::from_f64(0.398_942_280_401_432_7);
        for o in 0..N {
            let cdf = half * (T::one() + dx[o]);
            dx[o] = dy[o] * (cdf + x[o] * (pdf[o] * inv_sqrt_2pi));
        }
    }
}

/// GELU, tanh approximation: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GeluTanh;

const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
const GELU_CUBIC: f64 = 0.044_715;

impl Pointwise for GeluTanh {
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        let inner = T::from_f64(SQRT_2_OVER_PI) * (x + T::from_f64(GELU_CUBIC) * x * x * x);
        T::from_f64(0.5) * x * (T::one() + inner.tanh())
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, x: T, _y: T) -> T {
        let k = T::from_f64(SQRT_2_OVER_PI);
        let c = T::from_f64(GELU_CUBIC);
        let half = T::from_f64(0.5);
        let t = (k * (x + c * x * x * x)).tanh();
        let dinner = k * (T::one() + T::from_f64(3.0) * c * x * x);
        half * (T::one() + t) + half * x * (T::one() - t * t) * dinner
    }
    #[inline(always)]
    fn f_vector<T: Scalar, const N: usize>(&self, x: &[T; N], y: &mut [T; N]) {
        let inner = gelu_tanh_inner(x);
        T::tanh_slice(&inner, y);
        let half = T::from_f64(0.5);
        for (yi, &xi) in y.iter_mut().zip(x.iter()) {
            *yi = half * xi * (T::one() + *yi);
        }
    }
    #[inline(always)]
    fn df_vector<T: Scalar, const N: usize>(
        &self,
        x: &[T; N],
        _y: &[T; N],
        dy: &[T; N],
        dx: &mut [T; N],
    ) {
        let inner = gelu_tanh_inner(x);
        T::tanh_slice(&inner, dx);
        let k = T::from_f64(SQRT_2_OVER_PI);
        let c = T::from_f64(GELU_CUBIC);
        let half = T::from_f64(0.5);
        for o in 0..N {
            let (xo, t) = (x[o], dx[o]);
            let dinner = k * (T::one() + T::from_f64(3.0) * c * xo * xo);
            dx[o] = dy[o] * (half * (T::one() + t) + half * xo * (T::one() - t * t) * dinner);
        }
    }
}

/// `√(2/π)·(x + 0.044715·x³)`, the argument of GeluTanh's `tanh`.
#[inline(always)]
fn gelu_tanh_inner<T: Scalar, const N: usize>(x: &[T; N]) -> [T; N] {
    let k = T::from_f64(SQRT_2_OVER_PI);
    let c = T::from_f64(GELU_CUBIC);
    map_array(x, |xi| k * (xi + c * xi * xi * xi))
}

/// `[f(x[0]), f(x[1]), ...]`: the argument of a whole-vector transcendental.
#[inline(always)]
fn map_array<T: Scalar, const N: usize>(x: &[T; N], f: impl Fn(T) -> T) -> [T; N] {
    let mut out = [T::zero(); N];
    for (o, &xi) in out.iter_mut().zip(x.iter()) {
        *o = f(xi);
    }
    out
}

/// SiLU (swish): `x·σ(x)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Silu;

impl Pointwise for Silu {
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        x * sigmoid(x)
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, x: T, _y: T) -> T {
        let s = sigmoid(x);
        s * (T::one() + x * (T::one() - s))
    }
    #[inline(always)]
    fn f_vector<T: Scalar, const N: usize>(&self, x: &[T; N], y: &mut [T; N]) {
        T::sigmoid_slice(x, y);
        for (yi, &xi) in y.iter_mut().zip(x.iter()) {
            *yi = xi * *yi;
        }
    }
    #[inline(always)]
    fn df_vector<T: Scalar, const N: usize>(
        &self,
        x: &[T; N],
        _y: &[T; N],
        dy: &[T; N],
        dx: &mut [T; N],
    ) {
        T::sigmoid_slice(x, dx);
        for o in 0..N {
            let s = dx[o];
            dx[o] = dy[o] * (s * (T::one() + x[o] * (T::one() - s)));
        }
    }
}

/// Softmax over the vector, with max subtraction (stable for logits near ±1000).
///
/// For training a classifier prefer raw logits and [`CrossEntropy`](crate::loss::CrossEntropy),
/// which fuses the softmax stably.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Softmax;

impl<T: Scalar> ActivationFn<T> for Softmax {
    #[inline]
    fn forward<const N: usize>(&self, z: &[T; N], y: &mut [T; N]) {
        let max = z.iter().copied().fold(T::neg_infinity(), T::max);
        let mut shifted = [T::zero(); N];
        for (si, &zi) in shifted.iter_mut().zip(z.iter()) {
            *si = zi - max;
        }
        T::exp_slice(&shifted, y);
        let mut sum = T::zero();
        for &yi in y.iter() {
            sum += yi;
        }
        let inv = T::one() / sum;
        for yi in y.iter_mut() {
            *yi *= inv;
        }
    }
    #[inline]
    fn backward<const N: usize>(&self, _z: &[T; N], y: &[T; N], dy: &[T; N], dz: &mut [T; N]) {
        let mut s = T::zero();
        for o in 0..N {
            s += y[o] * dy[o];
        }
        for o in 0..N {
            dz[o] = y[o] * (dy[o] - s);
        }
    }
}

crate::impl_zero_bits!(unsafe impl[] for Identity {});
crate::impl_zero_bits!(unsafe impl[] for Relu {});
crate::impl_zero_bits!(unsafe impl[] for LeakyRelu { negative_slope });
crate::impl_zero_bits!(unsafe impl[] for Elu { alpha });
crate::impl_zero_bits!(unsafe impl[] for Sigmoid {});
crate::impl_zero_bits!(unsafe impl[] for Tanh {});
crate::impl_zero_bits!(unsafe impl[] for Softplus { beta, threshold });
crate::impl_zero_bits!(unsafe impl[] for Gelu {});
crate::impl_zero_bits!(unsafe impl[] for GeluTanh {});
crate::impl_zero_bits!(unsafe impl[] for Silu {});
crate::impl_zero_bits!(unsafe impl[] for Softmax {});
