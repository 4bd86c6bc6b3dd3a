//! `Gru`: PyTorch's `nn.GRU` cell (one layer), with a caller-owned state for streaming.
//!
//! # Storage
//! [`RecurrentWeights`] with three gates (`r`, `z`, `n`, PyTorch's order): per gate,
//! input-major; the API and the named walk speak PyTorch's `[3H, IN]`, `[3H, H]`, `[3H]`.

use crate::kernel::Kernels;
use crate::layers::recurrent_cell::{
    RecurrentCell, StreamStep, add_into, backward_one, flush_tiny, step_one, train_one,
};
use crate::layers::recurrent_weights::RecurrentWeights;
use crate::named::TensorInfo;
use crate::params::{Params, TensorShape};
use crate::scalar::Scalar;
use crate::zeros::Zeros;

/// Gates of a GRU.
const G: usize = 3;

/// PyTorch's `nn.GRU(IN, H)` cell (one layer, with both biases), step by step:
///
/// ```text
/// r = σ(W_ir x + b_ir + W_hr h + b_hr)
/// z = σ(W_iz x + b_iz + W_hz h + b_hz)
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
/// h' = (1 − z) ⊙ n + z ⊙ h      (PyTorch's n + z ⊙ (h − n), evaluated in this order)
/// ```
///
/// The state is a [`GruState`] the caller owns, so one model serves many channels or voices.
/// [`step`](Gru::step) runs one sample, [`process`](Gru::process) an audio callback's buffer.
/// Every step flushes state values below `√(T::MIN_POSITIVE)` to zero (see
/// [`RecurrentCell`]: no denormal stalls after a long silence). For training
/// over a sequence, use [`GruSequence`](crate::layers::GruSequence).
///
/// ```
/// use constnet::layers::{Gru, GruState};
/// use constnet::init::{self, Init};
/// let gru: Gru<1, 8> = init::seeded(Init::PyTorchDefault, 0);
/// let (mut left, mut right) = (GruState::zeros(), GruState::zeros()); // two voices
/// let h = gru.step(&mut left, &[0.5]);
/// assert_eq!(h, left.h);
/// // A callback's buffer of mono samples, in one call:
/// let samples = [0.1f32, 0.2, -0.3, 0.0];
/// let (frames, _) = samples.as_chunks::<1>();
/// let mut out = [[0.0; 8]; 4];
/// gru.process(&mut right, frames, &mut out);
/// assert_eq!(out[3], right.h);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gru<const IN: usize, const H: usize, T = f32> {
    /// The parameters (the cell dereferences to them: `weight_ih`, `bias_hh_mut`, ...).
    weights: RecurrentWeights<IN, H, G, T>,
}

/// A GRU's state: the hidden vector `h` (PyTorch's `h_n` of one sample). Start from
/// [`GruState::zeros`] (PyTorch's default `h0`) or any value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GruState<const H: usize, T = f32> {
    /// The hidden state, which is also the cell's output.
    pub h: [T; H],
}

impl<const H: usize, T: Scalar> GruState<H, T> {
    /// The zero state.
    pub fn zeros() -> Self {
        GruState { h: [T::zero(); H] }
    }
}

impl<const H: usize, T: Scalar> Zeros for GruState<H, T> {
    fn zeros() -> Self {
        GruState::zeros()
    }
}

/// What [`Gru`]'s backward needs from one training step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GruStepCache<const H: usize, T> {
    /// The state before the step.
    pub h_prev: [T; H],
    /// The gates `r`, `z`, `n`.
    pub gates: [[T; H]; G],
    /// `W_hn h_prev + b_hn` (what `r` multiplies).
    pub hn: [T; H],
}

impl<const H: usize, T: Scalar> Zeros for GruStepCache<H, T> {
    fn zeros() -> Self {
        GruStepCache {
            h_prev: [T::zero(); H],
            gates: [[T::zero(); H]; G],
            hn: [T::zero(); H],
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            GruStepCache {
                h_prev: crate::zeros::Zeros::zeros_in_place,
                gates: crate::zeros::Zeros::zeros_in_place,
                hn: crate::zeros::Zeros::zeros_in_place
            }
        )
    }
}

impl<const IN: usize, const H: usize, T: Scalar> Gru<IN, H, T> {
    /// The gates `r`, `z`, `n` and `W_hn h + b_hn` for input `x` and state `h`.
    #[inline(always)]
    fn gates<K: Kernels>(&self, h: &[T; H], x: &[T; IN], gates: &mut [[T; H]; G], hn: &mut [T; H]) {
        // Gate by gate (an interleaved product of the three gates, as the LSTM's, measured
        // slower at H = 8: 66-75 against 56-60 ns per sample).
        let mut gi = [[T::zero(); H]; G];
        let mut gh = [[T::zero(); H]; G];
        for k in 0..G {
            K::dense_forward_row(&self.w_ih[k], &self.b_ih[k], x, &mut gi[k]);
            K::dense_forward_row(&self.w_hh[k], &self.b_hh[k], h, &mut gh[k]);
        }
        let mut pre = [[T::zero(); H]; 2];
        for k in 0..2 {
            for j in 0..H {
                pre[k][j] = gi[k][j] + gh[k][j];
            }
        }
        K::gate_sigmoid(pre.as_flattened(), gates[..2].as_flattened_mut());
        let [_, _, gi_n] = gi;
        let gh_n = gh[2];
        let mut pre_n = [T::zero(); H];
        for j in 0..H {
            pre_n[j] = K::mul_add(gates[0][j], gh_n[j], gi_n[j]);
        }
        K::tanh(&pre_n, &mut gates[2]);
        *hn = gh_n;
    }

    /// `h' = (1 − z) ⊙ n + z ⊙ h`, flushed. PyTorch writes `n + z ⊙ (h − n)`; this form
    /// leaves one multiplication and one addition after `n`, the last gate to be ready
    /// (`z ⊙ h` and `1 − z` are computed while `n` is).
    #[inline(always)]
    fn update<K: Kernels>(h: &mut [T; H], gates: &[[T; H]; G]) {
        let (z, n) = (&gates[1], &gates[2]);
        for j in 0..H {
            h[j] = flush_tiny(K::mul_add(T::one() - z[j], n[j], z[j] * h[j]));
        }
    }
}

impl<const IN: usize, const H: usize, T: Scalar> Gru<IN, H, T> {
    /// [`RecurrentCell::step_backward`] with the kernels of `K`.
    #[inline(always)]
    fn backward_with<K: Kernels>(
        &self,
        cache: &GruStepCache<H, T>,
        x: &[T; IN],
        d_state: &mut GruState<H, T>,
        grads: &mut Self,
        dx: Option<&mut [T; IN]>,
    ) {
        let one = T::one();
        let dh = d_state.h;
        let [r, z, n] = &cache.gates;
        let mut a_i = [[T::zero(); H]; G];
        let mut a_h = [[T::zero(); H]; G];
        for j in 0..H {
            let dn = dh[j] * (one - z[j]);
            let dz = dh[j] * (cache.h_prev[j] - n[j]);
            let an = dn * (one - n[j] * n[j]);
            let ar = an * cache.hn[j] * r[j] * (one - r[j]);
            let az = dz * z[j] * (one - z[j]);
            a_i[0][j] = ar;
            a_i[1][j] = az;
            a_i[2][j] = an;
            a_h[0][j] = ar;
            a_h[1][j] = az;
            a_h[2][j] = an * r[j];
        }
        let grads = &mut grads.weights;
        for k in 0..G {
            K::dense_param_grads_row(x, &a_i[k], &mut grads.w_ih[k], &mut grads.b_ih[k]);
            K::dense_param_grads_row(
                &cache.h_prev,
                &a_h[k],
                &mut grads.w_hh[k],
                &mut grads.b_hh[k],
            );
        }
        if let Some(dx) = dx {
            *dx = [T::zero(); IN];
            let mut part = [T::zero(); IN];
            for (w, a) in self.w_ih.iter().zip(a_i.iter()) {
                K::dense_input_grads_row(w, a, &mut part);
                add_into(dx, &part);
            }
        }
        let mut dh_prev = [T::zero(); H];
        for j in 0..H {
            dh_prev[j] = dh[j] * z[j];
        }
        let mut part = [T::zero(); H];
        for (w, a) in self.w_hh.iter().zip(a_h.iter()) {
            K::dense_input_grads_row(w, a, &mut part);
            add_into(&mut dh_prev, &part);
        }
        d_state.h = dh_prev;
    }
}

impl<const IN: usize, const H: usize, T: Scalar> StreamStep for Gru<IN, H, T> {
    #[inline(always)]
    fn stream_step<K: Kernels>(&self, state: &mut GruState<H, T>, x: &[T; IN]) {
        let mut gates = [[T::zero(); H]; G];
        let mut hn = [T::zero(); H];
        self.gates::<K>(&state.h, x, &mut gates, &mut hn);
        Self::update::<K>(&mut state.h, &gates);
    }

    #[inline(always)]
    fn train_step<K: Kernels>(
        &self,
        state: &mut GruState<H, T>,
        x: &[T; IN],
        cache: &mut GruStepCache<H, T>,
    ) {
        cache.h_prev = state.h;
        self.gates::<K>(&state.h, x, &mut cache.gates, &mut cache.hn);
        Self::update::<K>(&mut state.h, &cache.gates);
    }

    #[inline(always)]
    fn backward_step<K: Kernels>(
        &self,
        cache: &GruStepCache<H, T>,
        x: &[T; IN],
        d_state: &mut GruState<H, T>,
        grads: &mut Self,
        dx: Option<&mut [T; IN]>,
    ) {
        self.backward_with::<K>(cache, x, d_state, grads, dx);
    }
}

crate::layers::recurrent_cell::recurrent_cell!(Gru, GruState, GruStepCache, "nn.GRU");

crate::impl_zero_bits!(unsafe impl[const H: usize, T: crate::ZeroBits] for GruState<H, T> { h });
crate::impl_zero_bits!(unsafe impl[const H: usize, T: crate::ZeroBits] for GruStepCache<H, T> { h_prev, gates, hn });
