//! Low-level kernels: the only module with `unsafe` code.
//!
//! Every `unsafe` block carries a `// SAFETY:` line. Today the module holds the safe,
//! portable loops (`portable.rs`) and the zeroed heap allocation behind [`ZeroBits`]
//! (`heap.rs`); there are no SIMD kernels yet.

mod heap;
#[cfg(feature = "std")]
pub(crate) mod peak;
pub(crate) mod portable;

#[cfg(feature = "std")]
pub use heap::zeroed_box;
pub use heap::{ZeroBits, require_zero_bits};
