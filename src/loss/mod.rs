//! Losses with PyTorch's `mean` reduction: each returns the value and `dL/dprediction` in one
//! pass, with no allocation.
//!
//! | loss | PyTorch | target per sample | mean over |
//! |---|---|---|---|
//! | [`Mse`] | `F.mse_loss` | `[T; N]` | `B·N` |
//! | [`L1`] | `F.l1_loss` | `[T; N]` | `B·N` |
//! | [`Huber`] | `F.huber_loss(delta)` | `[T; N]` | `B·N` |
//! | [`SmoothL1`] | `F.smooth_l1_loss(beta)` | `[T; N]` | `B·N` |
//! | [`Bce`] | `F.binary_cross_entropy` (probabilities) | `[T; N]` | `B·N` |
//! | [`BceWithLogits`] | `F.binary_cross_entropy_with_logits` | `[T; N]` | `B·N` |
//! | [`CrossEntropy`] | `F.cross_entropy(logits, class_index)` | `usize` | `B` |
//! | [`CrossEntropyProbs`] | `F.cross_entropy(logits, probabilities)` | `[T; N]` | `B` |

mod bce;
mod bce_with_logits;
mod cross_entropy;
mod cross_entropy_probs;
mod elementwise;
mod huber;
mod l1;
#[allow(clippy::module_inception)]
mod loss;
mod mse;
mod smooth_l1;

pub use bce::Bce;
pub use bce_with_logits::BceWithLogits;
pub use cross_entropy::CrossEntropy;
pub use cross_entropy_probs::CrossEntropyProbs;
pub use huber::Huber;
pub use l1::L1;
pub use loss::Loss;
pub use mse::Mse;
pub use smooth_l1::SmoothL1;
