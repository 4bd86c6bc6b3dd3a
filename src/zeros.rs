//! `Zeros`: the all-zero value of a tensor, a cache or a whole model, and its construction in
//! place (on the heap, with nothing of the value's size on the stack).

use core::mem::MaybeUninit;

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

    /// Writes [`zeros`](Zeros::zeros) into `slot` (the inside of a heap allocation) and
    /// proves it. The heap constructors ([`init::boxed`](crate::init::boxed),
    /// [`Params::boxed_zeros`](crate::Params::boxed_zeros), the optimizers' `boxed`, `Fit`)
    /// build through it.
    ///
    /// The default builds the value and moves it in, so it passes through the stack: right
    /// for a small custom layer, which needs nothing more (no `unsafe`, no
    /// [`ZeroBits`](crate::ZeroBits)). The crate's layers, caches, arrays and chains write
    /// their parts in place, so a multi-megabyte network never touches the stack, whatever
    /// small custom layers it holds.
    ///
    /// ```
    /// use constnet::Zeros;
    /// use core::mem::MaybeUninit;
    /// // A small custom value: the default (build, then move in) is right for it.
    /// struct Offset([f32; 3]);
    /// impl Zeros for Offset {
    ///     fn zeros() -> Self { Offset([0.0; 3]) }
    /// }
    /// let mut slot = MaybeUninit::<Offset>::uninit();
    /// assert_eq!(Offset::zeros_in_place(&mut slot).get().0, [0.0; 3]);
    /// // A 4 MB array is written element by element, never whole on the stack.
    /// let mut big = Box::<[[f32; 1024]; 1024]>::new_uninit();
    /// let zeros: &mut [[f32; 1024]; 1024] = Zeros::zeros_in_place(&mut *big).get();
    /// assert!(zeros.iter().flatten().all(|&v| v == 0.0));
    /// ```
    #[inline]
    fn zeros_in_place(slot: &mut MaybeUninit<Self>) -> InPlace<'_, Self> {
        InPlace::write(slot, Self::zeros())
    }
}

/// Proof that a slot was initialized: what [`Zeros::zeros_in_place`] returns. It holds the
/// initialized value, and the heap constructors check that it is the slot they passed (a
/// proof for another slot is a panic, never a value read from uninitialized memory).
pub struct InPlace<'a, T>(&'a mut T);

impl<'a, T> InPlace<'a, T> {
    /// Moves `value` into `slot`.
    #[inline(always)]
    pub fn write(slot: &'a mut MaybeUninit<T>, value: T) -> Self {
        InPlace(slot.write(value))
    }

    /// The initialized value.
    #[inline(always)]
    pub fn get(self) -> &'a mut T {
        self.0
    }

    /// A proof from a reference (initialized by the type system's guarantee).
    #[inline(always)]
    pub(crate) fn from_initialized(value: &'a mut T) -> Self {
        InPlace(value)
    }

    /// Where the value is.
    #[inline(always)]
    pub(crate) fn address(&self) -> *const T {
        &*self.0
    }
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

impl Zeros for bool {
    #[inline(always)]
    fn zeros() -> Self {
        false
    }
}

impl Zeros for i8 {
    #[inline(always)]
    fn zeros() -> Self {
        0
    }
}

impl Zeros for i32 {
    #[inline(always)]
    fn zeros() -> Self {
        0
    }
}

impl<T: ?Sized> Zeros for core::marker::PhantomData<T> {
    #[inline(always)]
    fn zeros() -> Self {
        core::marker::PhantomData
    }
}

impl Zeros for () {
    #[inline(always)]
    fn zeros() -> Self {}
}
