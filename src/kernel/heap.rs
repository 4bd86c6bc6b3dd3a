//! In-place heap construction of large models: a zeroed allocation instead of a value built on
//! the stack and moved.

#[cfg(feature = "std")]
use alloc::boxed::Box;

/// Types for which the all-zero byte pattern is a valid value (floats, arrays of floats, and
/// structs made only of such fields).
///
/// # Safety
/// Implement only for types whose every field is itself `ZeroBits` (no references, no enums
/// without a zero discriminant, no `NonZero*`). The crate implements it for its own layers,
/// optimizers and caches; a user type can opt in with `unsafe impl` when this holds.
pub unsafe trait ZeroBits {}

// SAFETY: 0x00.. is +0.0 for IEEE-754 floats.
unsafe impl ZeroBits for f32 {}
// SAFETY: 0x00.. is +0.0 for IEEE-754 floats.
unsafe impl ZeroBits for f64 {}
// SAFETY: 0 is a valid integer.
unsafe impl ZeroBits for usize {}
// SAFETY: 0 is a valid integer.
unsafe impl ZeroBits for u64 {}
// SAFETY: 0 is `false`.
unsafe impl ZeroBits for bool {}
// SAFETY: a zero-sized type has no bytes.
unsafe impl ZeroBits for () {}
// SAFETY: an array of zero-valid elements is zero-valid.
unsafe impl<T: ZeroBits, const N: usize> ZeroBits for [T; N] {}
// SAFETY: a tuple of zero-valid fields is zero-valid.
unsafe impl<A: ZeroBits, B: ZeroBits> ZeroBits for (A, B) {}
// SAFETY: a tuple of zero-valid fields is zero-valid.
unsafe impl<A: ZeroBits, B: ZeroBits, C: ZeroBits> ZeroBits for (A, B, C) {}
// SAFETY: PhantomData is zero-sized.
unsafe impl<T: ?Sized> ZeroBits for core::marker::PhantomData<T> {}

/// Allocates a `T` directly on the heap with every byte zero (no stack temporary).
#[cfg(feature = "std")]
pub(crate) fn zeroed_box<T: ZeroBits>() -> Box<T> {
    let uninit = Box::<T>::new_zeroed();
    // SAFETY: `T: ZeroBits` promises that all-zero bytes are a valid `T`.
    unsafe { uninit.assume_init() }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn zeroed_box_matches_portable_zero() {
        let b = zeroed_box::<[[f64; 7]; 5]>();
        assert_eq!(*b, [[0.0f64; 7]; 5]);
        let c = zeroed_box::<([f32; 3], u64)>();
        assert_eq!(*c, ([0.0f32; 3], 0));
    }
}

/// Marks crate types made only of floats (or of `ZeroBits` fields) as `ZeroBits`.
macro_rules! zero_bits {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: every field of the type is a float or itself `ZeroBits`.
        unsafe impl $crate::kernel::ZeroBits for $t {}
    )*};
}
pub(crate) use zero_bits;

/// Like `zero_bits!` for a generic type whose parameters must all be `ZeroBits`.
macro_rules! zero_bits_generic {
    ($t:ty where $($p:ident),+) => {
        // SAFETY: every field of the type is a float, integer or bool, or one of the
        // `ZeroBits` parameters (checked by the bounds).
        unsafe impl<$($p: $crate::kernel::ZeroBits),+> $crate::kernel::ZeroBits for $t {}
    };
}
pub(crate) use zero_bits_generic;

// SAFETY: `Dense` holds float arrays and its activation, which must itself be `ZeroBits`.
unsafe impl<const IN: usize, const OUT: usize, A: ZeroBits, T: ZeroBits> ZeroBits
    for crate::layers::Dense<IN, OUT, A, T>
{
}
// SAFETY: a cache holds float arrays only.
unsafe impl<const IN: usize, const OUT: usize, T: ZeroBits> ZeroBits
    for crate::layers::DenseCache<IN, OUT, T>
{
}

// SAFETY: `Activation` holds its activation function (which must itself be `ZeroBits`) and a
// zero-sized `PhantomData`.
unsafe impl<A: ZeroBits, const N: usize, T> ZeroBits for crate::layers::Activation<A, N, T> {}
// SAFETY: a cache holds float arrays only.
unsafe impl<const N: usize, T: ZeroBits> ZeroBits for crate::layers::ActivationCache<N, T> {}
// SAFETY: `LayerNorm` holds float arrays and an `f64` (`eps`, restored by `restore_defaults`).
unsafe impl<const N: usize, T: ZeroBits> ZeroBits for crate::layers::LayerNorm<N, T> {}
// SAFETY: a cache holds float arrays and a float only.
unsafe impl<const N: usize, T: ZeroBits> ZeroBits for crate::layers::LayerNormCache<N, T> {}
// SAFETY: `BatchNorm` holds float arrays and two `f64` settings; the all-zero running variance
// and settings are valid floats, which `restore_defaults` resets to their defaults.
unsafe impl<const N: usize, T: ZeroBits> ZeroBits for crate::layers::BatchNorm<N, T> {}
// SAFETY: a cache holds float arrays only.
unsafe impl<const N: usize, const B: usize, T: ZeroBits> ZeroBits
    for crate::layers::BatchNormCache<N, B, T>
{
}
