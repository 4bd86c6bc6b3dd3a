//! The floating-point element type of every tensor: `f32` or `f64`.

use core::fmt::{Debug, Display};
use core::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use num_traits::Float;

use crate::zeros::Zeros;

pub(crate) mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type: implemented for `f32` and `f64` only (sealed).
///
/// ```
/// use constnet::Scalar;
/// fn half<T: Scalar>(x: T) -> T { x * T::from_f64(0.5) }
/// assert_eq!(half(3.0f32), 1.5);
/// ```
pub trait Scalar:
    Float
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + Zeros
    + sealed::Sealed
    + 'static
{
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Size of one element in bytes.
    const BYTES: usize;
    /// Zero, usable in a `const fn`.
    const ZERO: Self;
    /// Converts from `f64`, rounding to nearest for `f32`.
    fn from_f64(v: f64) -> Self;
    /// Widens to `f64` (exact).
    fn to_f64(self) -> f64;
    /// The error function `erf(x)` (from `libm`; neither `core` nor `num-traits` has it).
    fn erf(self) -> Self;
    /// `self`, or zero when `|self| < threshold` (a non-negative threshold), compared on the
    /// bits (a one-cycle integer comparison: the bits of non-negative floats order as
    /// integers). NaN is kept. What the recurrent cells flush their state with.
    ///
    /// ```
    /// use constnet::Scalar;
    /// assert_eq!(1e-30f32.flush_below(1e-19), 0.0);
    /// assert_eq!((-0.5f32).flush_below(1e-19), -0.5);
    /// assert!(f64::NAN.flush_below(1e-19).is_nan());
    /// ```
    fn flush_below(self, threshold: Self) -> Self;

    /// `y[i] = tanh(x[i])` over equal-length slices. `f64`: `libm`, per element. `f32`: the
    /// crate's vectorized kernel (AVX2+FMA where the CPU has it), within a few ulp of the
    /// correctly rounded value (the bounds are measured by the crate's tests and listed in
    /// `ARCHITECTURE.md`).
    ///
    /// ```
    /// use constnet::Scalar;
    /// let mut y = [0.0f32; 3];
    /// f32::tanh_slice(&[-20.0, 0.0, 0.5], &mut y);
    /// assert_eq!(y[..2], [-1.0, 0.0]);
    /// assert!((y[2] - 0.5f32.tanh()).abs() < 1e-6);
    /// ```
    fn tanh_slice(x: &[Self], y: &mut [Self]) {
        for (yi, &xi) in y.iter_mut().zip(x.iter()) {
            *yi = xi.tanh();
        }
    }

    /// `y[i] = erf(x[i])` (as [`tanh_slice`](Scalar::tanh_slice) for the precision of each
    /// type).
    fn erf_slice(x: &[Self], y: &mut [Self]) {
        for (yi, &xi) in y.iter_mut().zip(x.iter()) {
            *yi = xi.erf();
        }
    }

    /// `y[i] = 1/(1 + e^{−x[i]})`, stable for large `|x|` (as [`tanh_slice`](Scalar::tanh_slice)
    /// for the precision of each type).
    fn sigmoid_slice(x: &[Self], y: &mut [Self]) {
        for (yi, &xi) in y.iter_mut().zip(x.iter()) {
            *yi = sigmoid(xi);
        }
    }

    /// `y[i] = e^{x[i]}` (as [`tanh_slice`](Scalar::tanh_slice) for the precision of each
    /// type).
    fn exp_slice(x: &[Self], y: &mut [Self]) {
        for (yi, &xi) in y.iter_mut().zip(x.iter()) {
            *yi = xi.exp();
        }
    }

    /// `y[i] = e^{x[i]} − 1`, accurate near 0 (as [`tanh_slice`](Scalar::tanh_slice) for the
    /// precision of each type).
    fn exp_m1_slice(x: &[Self], y: &mut [Self]) {
        for (yi, &xi) in y.iter_mut().zip(x.iter()) {
            *yi = xi.exp_m1();
        }
    }

    /// `y[i] = ln(1 + x[i])` for `x[i] >= 0`, accurate for tiny `x` (as
    /// [`tanh_slice`](Scalar::tanh_slice) for the precision of each type).
    fn ln_1p_slice(x: &[Self], y: &mut [Self]) {
        for (yi, &xi) in y.iter_mut().zip(x.iter()) {
            *yi = xi.ln_1p();
        }
    }
}

/// The logistic function, stable for large `|x|`.
#[inline(always)]
pub(crate) fn sigmoid<T: Scalar>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}
