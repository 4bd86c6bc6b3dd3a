//! In-place heap construction of large models: a zeroed allocation instead of a value built on
//! the stack and moved.

#[cfg(feature = "std")]
use alloc::boxed::Box;
use core::mem::MaybeUninit;

use crate::zeros::{InPlace, Zeros};

/// Types for which the all-zero byte pattern is a valid value, so that batch buffers and
/// caches can be allocated zeroed directly on the heap ([`zeroed_box`](crate::zeroed_box))
/// instead of being built on the stack and moved. (Models, optimizer states and `Fit`'s
/// buffers are built in place without it, by [`Zeros::zeros_in_place`].)
///
/// Implement it with [`impl_zero_bits!`](crate::impl_zero_bits), which lists every field of a
/// struct and checks each field's type at compile time, rather than by hand.
///
/// # Safety
/// An implementation promises that a value whose every byte is zero is a valid value of the
/// type, and one that upholds the type's own invariants. That holds for:
/// - `f32` and `f64` (+0.0), integers (0), `bool` (`false`), `()`, `PhantomData`;
/// - arrays and tuples of `ZeroBits` types;
/// - structs (of any `#[repr]`) whose every field is `ZeroBits`, and whose invariants allow
///   every field to be zero (a field that must be non-zero, such as a divisor the type never
///   checks, rules it out);
/// - enums only with an explicit integer `#[repr]` (`#[repr(u8)]`, ..., or `#[repr(C)]`)
///   and a variant whose discriminant is 0 and whose fields are all `ZeroBits`.
///
/// It does **not** hold for references, `Box`, `Vec` or any pointer-holding type, `NonNull`,
/// `NonZero*`, function pointers, or enums without an explicit `#[repr]` (their discriminant
/// layout is unspecified). Types such as `Option<NonZeroU32>`, whose zero happens to be valid
/// (`None`) but carries meaning the type's author chose, are left out too: the crate does not
/// implement `ZeroBits` for them, so a struct holding one cannot use `impl_zero_bits!`.
pub unsafe trait ZeroBits {}

/// Used by [`impl_zero_bits!`](crate::impl_zero_bits): compiles only for a `ZeroBits` type.
#[doc(hidden)]
#[inline(always)]
pub fn require_zero_bits<T: ZeroBits + ?Sized>(_field: &T) {}

/// Implements [`ZeroBits`](crate::ZeroBits) for a struct with named fields (or a unit struct),
/// after checking at compile time that the listed fields are **all** of its fields (an
/// exhaustive destructure: adding a field breaks the build until it is listed) and that each
/// field's type is `ZeroBits` (a reference, `NonZero*` or pointer field does not compile).
///
/// The call says `unsafe impl`: the macro checks the fields, the caller vouches for the rest
/// of [`ZeroBits`](crate::ZeroBits)'s contract (that no invariant of the type forbids a
/// field from being zero). Nothing in the crate *needs* it: a custom layer without
/// `ZeroBits` trains, boxes and fits like any other, through a slower path for its own
/// part of the heap construction (see [`Zeros`](crate::Zeros)).
///
/// The generic parameters go in brackets, with the bounds the fields need (bounds on
/// associated types in an optional `where [...]` before the field list):
///
/// ```
/// use constnet::{ZeroBits, impl_zero_bits};
/// struct Scaled<const N: usize, T> {
///     scale: [T; N],
///     offset: f64,
/// }
/// // SAFETY: every field may be zero (no invariant ties them).
/// impl_zero_bits!(unsafe impl[const N: usize, T: ZeroBits] for Scaled<N, T> { scale, offset });
///
/// fn zero_valid<T: ZeroBits>() {}
/// zero_valid::<Scaled<4, f32>>();
/// ```
/// A field the list forgets, or a field whose all-zero bytes are not a value, does not compile:
/// ```compile_fail
/// use constnet::impl_zero_bits;
/// struct Holder<'a> {
///     weights: &'a [f32; 4],
/// }
/// impl_zero_bits!(unsafe impl['a] for Holder<'a> { weights });
/// ```
/// ```compile_fail
/// use constnet::impl_zero_bits;
/// struct Layer {
///     weights: [f32; 4],
///     count: core::num::NonZeroU32,
/// }
/// impl_zero_bits!(unsafe impl[] for Layer { weights });
/// ```
/// The form without `unsafe` (before 0.2) still compiles, with a deprecation warning.
#[macro_export]
macro_rules! impl_zero_bits {
    (unsafe impl[$($generics:tt)*] for $ty:ty $(where [$($bounds:tt)*])? { $($field:ident),* $(,)? }) => {
        const _: () = {
            #[allow(dead_code)] // only type-checked, never called
            trait EveryFieldIsZeroBits {
                fn every_field_is_zero_bits(&self);
            }
            impl<$($generics)*> EveryFieldIsZeroBits for $ty where $($($bounds)*)? {
                fn every_field_is_zero_bits(&self) {
                    // No `..`: the list must name every field.
                    let Self { $($field),* } = self;
                    $($crate::__private::require_zero_bits($field);)*
                }
            }
        };
        // SAFETY: the destructure above names every field of the struct and requires each
        // field's type to be `ZeroBits` (under the same bounds as this impl); the caller
        // wrote `unsafe` for the type's own invariants.
        #[allow(unsafe_code)]
        unsafe impl<$($generics)*> $crate::ZeroBits for $ty where $($($bounds)*)? {}
    };
    (impl[$($generics:tt)*] for $ty:ty $(where [$($bounds:tt)*])? { $($field:ident),* $(,)? }) => {
        const _: () = $crate::__private::impl_zero_bits_without_unsafe();
        $crate::impl_zero_bits!(unsafe impl[$($generics)*] for $ty $(where [$($bounds)*])? { $($field),* });
    };
}

/// Used by the old form of [`impl_zero_bits!`](crate::impl_zero_bits) to warn.
#[doc(hidden)]
#[deprecated(
    since = "0.2.0",
    note = "write `impl_zero_bits!(unsafe impl[...] for ...)`: the call site vouches for the type's invariants"
)]
pub const fn impl_zero_bits_without_unsafe() {}

// SAFETY: 0x00.. is +0.0 for IEEE-754 floats.
unsafe impl ZeroBits for f32 {}
// SAFETY: 0x00.. is +0.0 for IEEE-754 floats.
unsafe impl ZeroBits for f64 {}
// SAFETY: 0 is a valid integer.
unsafe impl ZeroBits for usize {}
// SAFETY: 0 is a valid integer.
unsafe impl ZeroBits for u64 {}
// SAFETY: zero bits are the integer 0.
unsafe impl ZeroBits for i8 {}
// SAFETY: zero bits are the integer 0.
unsafe impl ZeroBits for i32 {}
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

/// A `T` allocated directly on the heap with every byte zero: no stack temporary, so
/// multi-megabyte batch buffers and caches can be made on small threads. For arrays and the
/// crate's caches this is their [`Zeros`](crate::Zeros) value; for models use
/// [`Params::boxed_zeros`](crate::Params::boxed_zeros), which builds [`Zeros::zeros`] (settings
/// at their defaults) in place.
///
/// ```
/// use constnet::{Dense, Layer, Relu, seq, zeroed_box};
/// type Net = seq![Dense<64, 512, Relu>, Dense<512, 10>];
/// let x = zeroed_box::<[[f32; 64]; 1024]>();
/// let mut y = zeroed_box::<[[f32; 10]; 1024]>();
/// let mut scratch = zeroed_box::<<Net as Layer>::BatchCache<1024>>();
/// let net = constnet::init::boxed::<Net>(constnet::init::Init::HeUniform, 0);
/// net.forward_batch(&x, &mut y, &mut scratch);
/// ```
#[cfg(feature = "std")]
pub fn zeroed_box<T: ZeroBits>() -> Box<T> {
    let uninit = Box::<T>::new_zeroed();
    // SAFETY: `T: ZeroBits` promises that all-zero bytes are a valid `T`.
    unsafe { uninit.assume_init() }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn in_place_construction_builds_the_zero_value() {
        use crate::layers::{BatchNorm, Dense, LayerNorm};
        type Net = crate::seq![Dense<3, 4>, BatchNorm<4>, LayerNorm<4>, Dense<4, 2>];
        let boxed = boxed_zeros::<Net>();
        assert!(
            *boxed == Net::zeros(),
            "settings (eps, running variance 1) as zeros() has them"
        );
        let pairs = boxed_zeros::<([f64; 3], ([f32; 2], (), [[f64; 2]; 2]))>();
        assert_eq!(*pairs, ([0.0; 3], ([0.0; 2], (), [[0.0; 2]; 2])));
    }

    /// A `zeros_in_place` that proves another slot initialized is caught before the box is
    /// read.
    #[test]
    #[should_panic(expected = "proved another slot initialized")]
    fn a_proof_for_another_slot_panics() {
        struct Liar(#[allow(dead_code)] f64);
        impl Zeros for Liar {
            fn zeros() -> Self {
                Liar(0.0)
            }
            fn zeros_in_place(_slot: &mut MaybeUninit<Self>) -> InPlace<'_, Self> {
                let elsewhere = Box::leak(Box::new(MaybeUninit::uninit()));
                InPlace::write(elsewhere, Liar(1.0))
            }
        }
        let _ = boxed_zeros::<Liar>();
    }

    #[test]
    fn zeroed_box_matches_portable_zero() {
        let b = zeroed_box::<[[f64; 7]; 5]>();
        assert_eq!(*b, [[0.0f64; 7]; 5]);
        let c = zeroed_box::<([f32; 3], u64)>();
        assert_eq!(*c, ([0.0f32; 3], 0));
    }
}

/// `T`'s [`Zeros`] value on the heap, built in place by [`Zeros::zeros_in_place`].
#[cfg(feature = "std")]
pub(crate) fn boxed_zeros<T: Zeros>() -> Box<T> {
    boxed_with(T::zeros_in_place)
}

/// A `T` on the heap, written in place by `init`.
///
/// # Panics
/// When `init` proves another slot initialized than the one it was given.
#[cfg(feature = "std")]
pub(crate) fn boxed_with<T>(init: impl FnOnce(&mut MaybeUninit<T>) -> InPlace<'_, T>) -> Box<T> {
    let mut uninit = Box::<T>::new_uninit();
    let slot: &mut MaybeUninit<T> = &mut uninit;
    let expected = slot.as_ptr();
    assert_initialized(init(slot), expected);
    // SAFETY: `init` returned a proof (an `&mut T`, so an initialized value) at the box's own
    // address, checked just above.
    unsafe { uninit.assume_init() }
}

/// Type-checks `pattern` (an exhaustive destructure) against the struct `base` points to.
#[inline(always)]
pub(crate) fn every_field<T>(base: *mut T, pattern: impl FnOnce(&T)) {
    let _ = (base, pattern);
}

/// Panics unless `proof` is for the slot at `expected`.
#[inline(always)]
pub(crate) fn assert_initialized<T>(proof: InPlace<'_, T>, expected: *const T) {
    assert!(
        core::ptr::eq(proof.address(), expected),
        "Zeros::zeros_in_place proved another slot initialized than the one it was given"
    );
}

/// The slot of a field at `field`, a place inside a slot the caller holds exclusively.
///
/// # Safety
/// `field` must point to a field of a `MaybeUninit` slot that the caller borrows mutably
/// for `'a`, and no other reference to that field may exist during `'a`.
#[inline(always)]
pub(crate) unsafe fn uninit_field<'a, F>(field: *mut F) -> &'a mut MaybeUninit<F> {
    // SAFETY: `MaybeUninit<F>` has `F`'s layout, and the caller guarantees the place is
    // valid, exclusively borrowed and lives for `'a`; no value is read.
    unsafe { &mut *field.cast::<MaybeUninit<F>>() }
}

/// Writes a struct's fields in place, each by its own initializer (a function from the
/// field's slot to its [`InPlace`] proof, such as `Zeros::zeros_in_place`), and proves the
/// struct initialized. The field list must name every field (an exhaustive pattern checks
/// it at compile time); each proof is checked against its field's address.
macro_rules! init_fields {
    ($slot:expr, $Type:ident { $($field:tt: $init:expr),* $(,)? }) => {{
        let slot: &mut core::mem::MaybeUninit<_> = $slot;
        let base = slot.as_mut_ptr();
        // Every field, once: an exhaustive pattern (type-checked, never run).
        $crate::kernel::every_field(base, |value| {
            let $Type { $($field: _),* } = value;
        });
        $(
            // SAFETY: `base` points to `slot`, which this function borrows mutably; `&raw mut`
            // computes the field's address without reading it or making a reference to it,
            // and each field is borrowed once, here.
            #[allow(unsafe_code)]
            let field = unsafe { $crate::kernel::uninit_field(&raw mut (*base).$field) };
            let expected = field.as_ptr();
            $crate::kernel::assert_initialized(($init)(field), expected);
        )*
        // SAFETY: the pattern above names every field of `Self`, and each was initialized at
        // its own address (each proof checked); padding needs no value.
        #[allow(unsafe_code)]
        let value = unsafe { slot.assume_init_mut() };
        $crate::zeros::InPlace::from_initialized(value)
    }};
}
pub(crate) use init_fields;

impl<U: Zeros, const N: usize> Zeros for [U; N] {
    /// Written in place, element by element ([`zeros_in_place`](Zeros::zeros_in_place)): for
    /// arrays of numbers one `memset` where `array::from_fn` built each row apart and copied it
    /// in (about 4% of the `f32` ResNet-8's forward went to those copies).
    #[inline]
    fn zeros() -> Self {
        let mut slot = MaybeUninit::<Self>::uninit();
        let expected = slot.as_ptr();
        assert_initialized(Self::zeros_in_place(&mut slot), expected);
        // SAFETY: `zeros_in_place` initialized the slot (its proof checked just above).
        unsafe { slot.assume_init() }
    }

    /// Element by element, each in place.
    fn zeros_in_place(slot: &mut MaybeUninit<Self>) -> InPlace<'_, Self> {
        // SAFETY: `[MaybeUninit<U>; N]` has the layout of `MaybeUninit<[U; N]>`, and every
        // bit pattern (initialized or not) is a valid `[MaybeUninit<U>; N]`.
        let elements = unsafe { &mut *slot.as_mut_ptr().cast::<[MaybeUninit<U>; N]>() };
        for element in elements.iter_mut() {
            let expected = element.as_ptr();
            assert_initialized(U::zeros_in_place(element), expected);
        }
        // SAFETY: every element was initialized in place (each proof checked).
        InPlace::from_initialized(unsafe { slot.assume_init_mut() })
    }
}

impl<A: Zeros, B: Zeros> Zeros for (A, B) {
    #[inline]
    fn zeros() -> Self {
        (A::zeros(), B::zeros())
    }

    fn zeros_in_place(slot: &mut MaybeUninit<Self>) -> InPlace<'_, Self> {
        let slot: &mut MaybeUninit<Self> = slot;
        let base: *mut Self = slot.as_mut_ptr();
        // SAFETY: as in `init_fields!`: each field's address, borrowed once.
        let first = unsafe { uninit_field(&raw mut (*base).0) };
        let expected = first.as_ptr();
        assert_initialized(A::zeros_in_place(first), expected);
        // SAFETY: as above.
        let second = unsafe { uninit_field(&raw mut (*base).1) };
        let expected = second.as_ptr();
        assert_initialized(B::zeros_in_place(second), expected);
        // SAFETY: both fields initialized in place (proofs checked).
        InPlace::from_initialized(unsafe { slot.assume_init_mut() })
    }
}

impl<A: Zeros, B: Zeros, C: Zeros> Zeros for (A, B, C) {
    #[inline]
    fn zeros() -> Self {
        (A::zeros(), B::zeros(), C::zeros())
    }

    fn zeros_in_place(slot: &mut MaybeUninit<Self>) -> InPlace<'_, Self> {
        let base: *mut Self = slot.as_mut_ptr();
        // SAFETY: as in `init_fields!`: each field's address, borrowed once.
        let first = unsafe { uninit_field(&raw mut (*base).0) };
        let expected = first.as_ptr();
        assert_initialized(A::zeros_in_place(first), expected);
        // SAFETY: as above.
        let second = unsafe { uninit_field(&raw mut (*base).1) };
        let expected = second.as_ptr();
        assert_initialized(B::zeros_in_place(second), expected);
        // SAFETY: as above.
        let third = unsafe { uninit_field(&raw mut (*base).2) };
        let expected = third.as_ptr();
        assert_initialized(C::zeros_in_place(third), expected);
        // SAFETY: the three fields initialized in place (proofs checked).
        InPlace::from_initialized(unsafe { slot.assume_init_mut() })
    }
}
