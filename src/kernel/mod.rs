//! Low-level kernels: the only module with `unsafe` code.
//!
//! Every `unsafe` block carries a `// SAFETY:` line. The module holds the safe, portable
//! loops (`portable.rs`), the vectorizable `f32` transcendentals (`math.rs`), their AVX2+FMA
//! builds (`x86.rs`, chosen at run time by `dispatch.rs`), and the zeroed heap allocation
//! behind [`ZeroBits`] (`heap.rs`). Each AVX2+FMA kernel is tested against its portable twin
//! below.

mod dispatch;
mod heap;
pub(crate) mod math;
pub(crate) mod portable;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86;

pub use dispatch::{SimdLevel, simd_level};
#[cfg(feature = "std")]
pub use heap::zeroed_box;
pub use heap::{ZeroBits, require_zero_bits};

/// Defines a dispatching elementwise `f32` kernel: the AVX2+FMA build when the CPU has it,
/// else the portable loop.
macro_rules! elementwise {
    ($(#[$doc:meta])* $name:ident = $function:ident) => {
        $(#[$doc])*
        #[inline]
        pub(crate) fn $name(x: &[f32], y: &mut [f32]) {
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            if dispatch::use_avx2_fma() {
                // SAFETY: `use_avx2_fma` checked that this CPU has AVX2 and FMA.
                unsafe { x86::$function(x, y) };
                return;
            }
            math::map(x, y, math::$function::<math::Separate>);
        }
    };
}

elementwise!(
    /// `y = tanh(x)`.
    tanh_f32 = tanh
);
elementwise!(
    /// `y = σ(x)`.
    sigmoid_f32 = sigmoid
);
elementwise!(
    /// `y = eˣ`.
    exp_f32 = exp
);
elementwise!(
    /// `y = eˣ − 1`.
    expm1_f32 = expm1
);
elementwise!(
    /// `y = ln(1 + x)`, `x >= 0`.
    ln_1p_f32 = ln_1p
);

#[cfg(all(test, feature = "std"))]
mod accuracy;
