//! `Gru`: PyTorch's `nn.GRU` cell (one layer), with a caller-owned state for streaming.
//!
//! # Storage
//! [`RecurrentWeights`] with three gates (`r`, `z`, `n`, PyTorch's order): per gate,
//! input-major; the API and the named walk speak PyTorch's `[3H, IN]`, `[3H, H]`, `[3H]`.

use crate::kernel::Kernels;
use crate::layers::recurrent_batch::{
    BatchStep, GateActivation, StepLanes, activate, gate_product, input_grads, param_grads,
    transpose_in, transposed_row,
};
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

/// The states of `B` samples of a [`Gru`], transposed: `h[j][b]` is unit `j` of sample `b`
/// (see [`RecurrentCell::BatchState`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GruBatchState<const H: usize, const B: usize, T = f32> {
    /// The hidden states, `h[j][b]`.
    pub h: [[T; B]; H],
}

impl<const H: usize, const B: usize, T: Scalar> Zeros for GruBatchState<H, B, T> {
    fn zeros() -> Self {
        GruBatchState {
            h: [[T::zero(); B]; H],
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            GruBatchState {
                h: crate::zeros::Zeros::zeros_in_place
            }
        )
    }
}

/// What [`Gru`]'s batched backward needs from one training step of `B` samples, each
/// vector transposed (`[j][b]`: see [`RecurrentCell::BatchStepCache`]). The batched backward
/// overwrites `gates` with the gradients of the gates' pre-activations (`r`, `z`, `n`) and
/// `hn` with that of `W_hn h + b_hn`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GruBatchStepCache<const IN: usize, const H: usize, const B: usize, T = f32> {
    /// The step's inputs, `x[i][b]`.
    pub x: [[T; B]; IN],
    /// The states before the step.
    pub h_prev: [[T; B]; H],
    /// The gates `r`, `z`, `n`.
    pub gates: [[[T; B]; H]; G],
    /// `W_hn h_prev + b_hn`.
    pub hn: [[T; B]; H],
}

impl<const IN: usize, const H: usize, const B: usize, T: Scalar> Zeros
    for GruBatchStepCache<IN, H, B, T>
{
    fn zeros() -> Self {
        GruBatchStepCache {
            x: [[T::zero(); B]; IN],
            h_prev: [[T::zero(); B]; H],
            gates: [[[T::zero(); B]; H]; G],
            hn: [[T::zero(); B]; H],
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            GruBatchStepCache {
                x: crate::zeros::Zeros::zeros_in_place,
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

/// The batched steps: the equations of [`Gru`]'s `gates`, `update` and `backward_with` on
/// transposed vectors (one row of `B` samples per unit).
impl<const IN: usize, const H: usize, T: Scalar> BatchStep for Gru<IN, H, T> {
    #[inline(always)]
    fn train_lanes<K: Kernels, const B: usize>(
        &self,
        state: &mut GruBatchState<H, B, T>,
        x: [&[T; IN]; B],
        cache: &mut GruBatchStepCache<IN, H, B, T>,
    ) {
        transpose_in(x, &mut cache.x);
        cache.h_prev = state.h;
        let h = &state.h;
        for k in 0..G {
            gate_product::<K, T, IN, H, B>(
                &self.w_ih[k],
                &self.b_ih[k],
                &cache.x,
                &mut cache.gates[k],
                false,
            );
        }
        for k in 0..2 {
            gate_product::<K, T, H, H, B>(
                &self.w_hh[k],
                &self.b_hh[k],
                h,
                &mut cache.gates[k],
                true,
            );
        }
        gate_product::<K, T, H, H, B>(&self.w_hh[2], &self.b_hh[2], h, &mut cache.hn, false);
        activate::<K, T>(
            cache.gates[..2].as_flattened_mut().as_flattened_mut(),
            GateActivation::Sigmoid,
        );
        // Elementwise over the flattened rows: written as loops over units and lanes, the
        // compiler vectorizes across the units with gathers and scatters.
        let [r, z, n] = &mut cache.gates;
        let (r, z, n) = (r.as_flattened(), z.as_flattened(), n.as_flattened_mut());
        for ((nv, &rv), &hv) in n.iter_mut().zip(r).zip(cache.hn.as_flattened()) {
            *nv = K::mul_add(rv, hv, *nv);
        }
        activate::<K, T>(n, GateActivation::Tanh);
        for ((h, &zv), &nv) in state.h.as_flattened_mut().iter_mut().zip(z).zip(n.iter()) {
            *h = flush_tiny(K::mul_add(T::one() - zv, nv, zv * *h));
        }
    }

    #[inline(always)]
    fn backward_lanes<K: Kernels, const B: usize>(
        &self,
        cache: &mut GruBatchStepCache<IN, H, B, T>,
        d_state: &mut GruBatchState<H, B, T>,
        dx: Option<[&mut [T; IN]; B]>,
    ) {
        let one = T::one();
        let GruBatchStepCache {
            h_prev, gates, hn, ..
        } = cache;
        {
            let [g_r, g_z, g_n] = gates;
            let (g_r, g_z, g_n) = (
                g_r.as_flattened_mut(),
                g_z.as_flattened_mut(),
                g_n.as_flattened_mut(),
            );
            let (hn, h_prev) = (hn.as_flattened_mut(), h_prev.as_flattened());
            let dh_all = d_state.h.as_flattened_mut();
            // One flat loop (see `train_lanes`).
            for e in 0..H * B {
                let dh = dh_all[e];
                let (r, z, n) = (g_r[e], g_z[e], g_n[e]);
                let dn = dh * (one - z);
                let dz = dh * (h_prev[e] - n);
                let an = dn * (one - n * n);
                let ar = an * hn[e] * r * (one - r);
                let az = dz * z * (one - z);
                g_r[e] = ar;
                g_z[e] = az;
                g_n[e] = an;
                hn[e] = an * r;
                dh_all[e] = dh * z;
            }
        }
        let [ar, az, an] = &*gates;
        if let Some(dx) = dx {
            input_grads::<K, T, IN, H, G, B>(&self.w_ih, [ar, az, an], dx);
        }
        for m in 0..H {
            transposed_row::<K, T, H, H, G, B>(
                &self.w_hh,
                [ar, az, hn],
                m,
                &mut d_state.h[m],
                true,
            );
        }
    }

    #[inline(always)]
    fn param_grads_lanes<K: Kernels, const B: usize>(
        &self,
        steps: &[GruBatchStepCache<IN, H, B, T>],
        grads: &mut Self,
        wide: bool,
    ) {
        param_grads::<K, _, T, IN, H, G, B>(steps, &mut grads.weights, wide);
    }
}

/// After the batched backward: `gates` holds the input-side gradients, `hn` the hidden side's of `n`.
impl<const IN: usize, const H: usize, const B: usize, T> StepLanes<T, IN, H, B>
    for GruBatchStepCache<IN, H, B, T>
{
    #[inline(always)]
    fn x(&self) -> &[[T; B]; IN] {
        &self.x
    }
    #[inline(always)]
    fn h_prev(&self) -> &[[T; B]; H] {
        &self.h_prev
    }
    #[inline(always)]
    fn a_i(&self, k: usize) -> &[[T; B]; H] {
        &self.gates[k]
    }
    #[inline(always)]
    fn a_h(&self, k: usize) -> &[[T; B]; H] {
        if k == 2 { &self.hn } else { &self.gates[k] }
    }
}

crate::layers::recurrent_cell::recurrent_cell!(
    Gru,
    GruState,
    GruStepCache,
    GruBatchState,
    GruBatchStepCache,
    "nn.GRU"
);

crate::impl_zero_bits!(unsafe impl[const H: usize, T: crate::ZeroBits] for GruState<H, T> { h });
crate::impl_zero_bits!(unsafe impl[const H: usize, T: crate::ZeroBits] for GruStepCache<H, T> { h_prev, gates, hn });
crate::impl_zero_bits!(unsafe impl[const H: usize, const B: usize, T: crate::ZeroBits] for GruBatchState<H, B, T> { h });
crate::impl_zero_bits!(unsafe impl[const IN: usize, const H: usize, const B: usize, T: crate::ZeroBits] for GruBatchStepCache<IN, H, B, T> { x, h_prev, gates, hn });
