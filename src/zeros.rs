//! `Zeros`: the all-zero value of a tensor, a cache or a whole model.

/// Types with an all-zero value: scalars, arrays of them, models (all parameters zero), caches.
///
/// Gradients and optimizer state start as `Zeros::zeros()` of the model's own type.
///
/// ```
/// use constnet::Zeros;
/// let z: [[f32; 3]; 2] = Zeros::zeros();
/// assert_eq!(z, [[0.0; 3]; 2]);
/// ```
pub trait Zeros: Sized {
    /// The zero value. Parameterised settings (an activation's slope, a norm layer's `eps`)
    /// keep their defaults; only numbers that training changes are zero.
    fn zeros() -> Self;
}

impl Zeros for f32 {
    #[inline(always)]
    fn zeros() -> Self {
        0.0
    }
}

impl Zeros for f64 {
    #[inline(always)]
    fn zeros() -> Self {
        0.0
    }
}

impl<U: Zeros, const N: usize> Zeros for [U; N] {
    #[inline]
    fn zeros() -> Self {
        core::array::from_fn(|_| U::zeros())
    }
}

impl Zeros for () {
    #[inline(always)]
    fn zeros() -> Self {}
}

impl<A: Zeros, B: Zeros> Zeros for (A, B) {
    #[inline]
    fn zeros() -> Self {
        (A::zeros(), B::zeros())
    }
}

impl<A: Zeros, B: Zeros, C: Zeros> Zeros for (A, B, C) {
    #[inline]
    fn zeros() -> Self {
        (A::zeros(), B::zeros(), C::zeros())
    }
}
