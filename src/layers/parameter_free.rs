//! What every parameter-free layer (the shape adapters and pools) writes the same way: its
//! zero value, an empty parameter walk, its module count in weight files, and `ZeroBits`.

/// Implements `Default` and `Zeros` (both `Self::new()`), an empty `Params`, `Named` with
/// `$modules` modules and `ZeroBits` for a parameter-free layer whose only field is a
/// `PhantomData` named `shape`.
macro_rules! parameter_free {
    (impl[$($generics:tt)*] for $ty:ty, scalar $scalar:ty, modules $modules:expr, $doc:literal) => {
        impl<$($generics)*> Default for $ty {
            fn default() -> Self {
                Self::new()
            }
        }

        impl<$($generics)*> $crate::zeros::Zeros for $ty {
            fn zeros() -> Self {
                Self::new()
            }
        }

        impl<$($generics)*> $crate::params::Params for $ty {
            type Scalar = $scalar;
            const PARAM_COUNT: usize = 0;
            fn tensors(&self) -> impl Iterator<Item = &[$scalar]> {
                core::iter::empty()
            }
            fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [$scalar]> {
                core::iter::empty()
            }
            fn shapes() -> impl Iterator<Item = $crate::params::TensorShape> {
                core::iter::empty()
            }
        }

        #[doc = $doc]
        impl<$($generics)*> $crate::named::Named for $ty {
            const MODULES: usize = $modules;
        }

        $crate::impl_zero_bits!(unsafe impl[$($generics)*] for $ty { shape });
    };
}
pub(crate) use parameter_free;
