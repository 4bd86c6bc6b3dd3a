//! Low-level kernels: the only module with `unsafe` code.
//!
//! Every `unsafe` block carries a `// SAFETY:` line and every kernel is tested against its
//! portable version.

mod heap;
pub(crate) mod portable;

pub use heap::ZeroBits;
#[cfg(feature = "std")]
pub(crate) use heap::zeroed_box;
pub(crate) use heap::{zero_bits, zero_bits_generic};
