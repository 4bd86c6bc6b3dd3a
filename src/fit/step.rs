//! One guarded training step on a batch of `B` rows of which the first `rows` are real:
//! the building block of [`Fit`](crate::fit::Fit), usable on its own without `std` or a heap.

use crate::ctx::TrainCtx;
use crate::layer::Layer;
use crate::loss::Loss;
use crate::optim::{Optimizer, clip_grad_norm, clip_grad_value, grad_norm, l1_penalty, l2_penalty};
use crate::params::Params;
use crate::scalar::Scalar;
use crate::zeros::Zeros;
use num_traits::Zero;

/// Gradient clipping, as `torch.nn.utils` does it, applied after the backward pass and the
/// penalties.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Clip {
    /// No clipping.
    #[default]
    None,
    /// [`clip_grad_norm`]: scale all gradients so their global L2 norm is at most this.
    Norm(f64),
    /// [`clip_grad_value`]: clamp every gradient to `[−v, v]`.
    Value(f64),
}

/// What a step adds to plain backpropagation: penalties and clipping.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepSettings {
    /// [`l1_penalty`] strength λ (0: none). The penalty is part of the reported loss.
    pub l1: f64,
    /// [`l2_penalty`] strength λ (0: none). The penalty is part of the reported loss. For
    /// decoupled weight decay use [`AdamW`](crate::optim::AdamW) instead.
    pub l2: f64,
    /// Gradient clipping.
    pub clip: Clip,
}

/// The buffers a step works in: the outputs, their loss gradients, the layers' batch cache
/// and the gradients. Start from [`Zeros::zeros`] (or on the heap, built in place:
/// `Params::boxed_zeros`-style through [`Zeros::zeros_in_place`], which `Fit` does).
pub struct StepScratch<M: Layer, const O: usize, const B: usize> {
    /// The model's training-mode outputs of the last step.
    pub y: [[M::Scalar; O]; B],
    /// `dL/dy` of the last step (zero in padding rows).
    pub dy: [[M::Scalar; O]; B],
    /// The layers' batch cache.
    pub cache: M::BatchCache<B>,
    /// The gradients of the last step (after penalties and clipping).
    pub grads: M,
}

impl<M: Layer, const O: usize, const B: usize> Zeros for StepScratch<M, O, B> {
    fn zeros() -> Self {
        StepScratch {
            y: Zeros::zeros(),
            dy: Zeros::zeros(),
            cache: Zeros::zeros(),
            grads: M::zeros(),
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            StepScratch {
                y: Zeros::zeros_in_place,
                dy: Zeros::zeros_in_place,
                cache: Zeros::zeros_in_place,
                grads: Zeros::zeros_in_place,
            }
        )
    }
}

crate::impl_zero_bits!(unsafe impl[M: Layer + crate::ZeroBits, const O: usize, const B: usize] for StepScratch<M, O, B> where [M::Scalar: crate::ZeroBits, M::BatchCache<B>: crate::ZeroBits] { y, dy, cache, grads });

/// A finished step: its loss (with penalties) and the gradients' global norm before clipping.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepOutcome {
    /// The mean loss over the real rows, plus any penalty.
    pub loss: f64,
    /// The L2 norm of the gradients before clipping.
    pub grad_norm: f64,
}

/// A step refused because its loss or its gradient norm was not finite: nothing was changed
/// (not the parameters, not the optimizer state, not BatchNorm's running statistics).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NonFinite {
    /// The loss (with penalties); NaN or infinite when it is the cause.
    pub loss: f64,
    /// The gradient norm; NaN when the loss already failed and no backward pass ran.
    pub grad_norm: f64,
}

/// One training step on the first `rows` rows of a batch (the rest is padding, ignored):
/// forward in training mode, the loss's mean over the real rows, backward, penalties,
/// clipping, and, only when the loss and the gradient norm are finite, BatchNorm's running
/// statistics and the optimizer step. Allocates nothing.
///
/// The padding rows' loss gradient is zero, so they add nothing to any gradient (and
/// BatchNorm leaves them out of its statistics through [`TrainCtx::set_real_rows`], which
/// this sets).
///
/// ```
/// use constnet::fit::{StepScratch, StepSettings, guarded_step};
/// use constnet::loss::Mse;
/// use constnet::optim::{Optimizer, Sgd, SgdConfig};
/// use constnet::{Dense, Identity, TrainCtx, Zeros};
/// type Net = Dense<1, 1, Identity, f64>;
/// let mut net = Net::from_rows([[0.0]], [0.0]);
/// let mut sgd = Sgd::<Net>::new(SgdConfig::new().lr(0.5));
/// let mut scratch = constnet::zeroed_box::<StepScratch<Net, 1, 4>>();
/// // Two real rows (x = 1, target 2), two rows of padding that must not count.
/// let x = [[1.0], [1.0], [100.0], [100.0]];
/// let targets = [[2.0], [2.0], [-5.0], [-5.0]];
/// let mut ctx = TrainCtx::new(0);
/// let outcome = guarded_step(&mut net, &mut sgd, &Mse, &StepSettings::default(), &x, &targets, 2, &mut scratch, &mut ctx).unwrap();
/// assert_eq!(outcome.loss, 4.0); // (0 − 2)² on the real rows only
/// assert_eq!(net.weight(0, 0), 2.0); // w − 0.5·dL/dw, dL/dw = 2·(0 − 2)·1 = −4
/// ```
#[allow(clippy::too_many_arguments)]
pub fn guarded_step<M, Opt, L, const O: usize, const B: usize>(
    model: &mut M,
    optimizer: &mut Opt,
    loss: &L,
    settings: &StepSettings,
    x: &[M::Input; B],
    targets: &[L::Target<O>; B],
    rows: usize,
    scratch: &mut StepScratch<M, O, B>,
    ctx: &mut TrainCtx,
) -> Result<StepOutcome, NonFinite>
where
    M: Layer<Output = [<M as Params>::Scalar; O]>,
    Opt: Optimizer<M>,
    L: Loss<<M as Params>::Scalar>,
{
    assert!(
        (1..=B).contains(&rows),
        "a step needs 1 to {B} real rows, got {rows}"
    );
    let zero = <M as Params>::Scalar::zero();
    scratch.grads.fill_zero();
    ctx.set_real_rows(Some(rows));
    model.forward_train_batch_shared(x, &mut scratch.y, &mut scratch.cache, ctx);
    let mut value = loss
        .loss_rows(
            &scratch.y[..rows],
            &targets[..rows],
            &mut scratch.dy[..rows],
        )
        .to_f64();
    for row in &mut scratch.dy[rows..] {
        *row = [zero; O];
    }
    if !value.is_finite() {
        return Err(NonFinite {
            loss: value,
            grad_norm: f64::NAN,
        });
    }
    model.backward_batch_params(
        x,
        &scratch.y,
        &mut scratch.cache,
        &scratch.dy,
        &mut scratch.grads,
    );
    if settings.l1 != 0.0 {
        value += l1_penalty(model, &mut scratch.grads, settings.l1);
    }
    if settings.l2 != 0.0 {
        value += l2_penalty(model, &mut scratch.grads, settings.l2);
    }
    let norm = match settings.clip {
        Clip::None => grad_norm(&scratch.grads),
        Clip::Norm(max_norm) => clip_grad_norm(&mut scratch.grads, max_norm),
        Clip::Value(limit) => {
            let norm = grad_norm(&scratch.grads);
            if norm.is_finite() {
                clip_grad_value(&mut scratch.grads, limit);
            }
            norm
        }
    };
    if !value.is_finite() || !norm.is_finite() {
        return Err(NonFinite {
            loss: value,
            grad_norm: norm,
        });
    }
    model.update_statistics(&scratch.cache);
    optimizer.step(model, &scratch.grads);
    Ok(StepOutcome {
        loss: value,
        grad_norm: norm,
    })
}
