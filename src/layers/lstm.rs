//! `Lstm`: PyTorch's `nn.LSTM` cell (one layer), with a caller-owned state for streaming.
//!
//! # Storage
//! [`RecurrentWeights`] with four gates (`i`, `f`, `g`, `o`, PyTorch's order): per gate,
//! input-major; the API and the named walk speak PyTorch's `[4H, IN]`, `[4H, H]`, `[4H]`.

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

/// Gates of an LSTM.
const G: usize = 4;

/// PyTorch's `nn.LSTM(IN, H)` cell (one layer, both biases, no peepholes, no projection),
/// step by step:
///
/// ```text
/// i = σ(W_ii x + b_ii + W_hi h + b_hi)      f = σ(W_if x + b_if + W_hf h + b_hf)
/// g = tanh(W_ig x + b_ig + W_hg h + b_hg)   o = σ(W_io x + b_io + W_ho h + b_ho)
/// c' = f ⊙ c + i ⊙ g                         h' = o ⊙ tanh(c')
/// ```
///
/// The state is an [`LstmState`] (`h` and `c`) the caller owns; [`step`](Lstm::step) runs
/// one sample, [`process`](Lstm::process) a buffer. Every step flushes state values below
/// `√(T::MIN_POSITIVE)` to zero (see [`RecurrentCell`]). For training over a
/// sequence, use [`LstmSequence`](crate::layers::LstmSequence).
///
/// ```
/// use constnet::layers::{Lstm, LstmState};
/// use constnet::init::{self, Init};
/// let lstm: Lstm<2, 4, f64> = init::seeded(Init::PyTorchDefault, 0);
/// let mut state = LstmState::zeros();
/// let h = lstm.step(&mut state, &[0.5, -0.5]);
/// assert_eq!(h, state.h);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lstm<const IN: usize, const H: usize, T = f32> {
    /// The parameters (the cell dereferences to them: `weight_ih`, `bias_hh_mut`, ...).
    weights: RecurrentWeights<IN, H, G, T>,
}

/// An LSTM's state: the hidden vector `h` (the output) and the cell vector `c` (PyTorch's
/// `h_n` and `c_n` of one sample). Start from [`LstmState::zeros`] or any value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LstmState<const H: usize, T = f32> {
    /// The hidden state, which is also the cell's output.
    pub h: [T; H],
    /// The cell state.
    pub c: [T; H],
}

impl<const H: usize, T: Scalar> LstmState<H, T> {
    /// The zero state.
    pub fn zeros() -> Self {
        LstmState {
            h: [T::zero(); H],
            c: [T::zero(); H],
        }
    }
}

impl<const H: usize, T: Scalar> Zeros for LstmState<H, T> {
    fn zeros() -> Self {
        LstmState::zeros()
    }
}

/// What [`Lstm`]'s backward needs from one training step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LstmStepCache<const H: usize, T> {
    /// The hidden state before the step.
    pub h_prev: [T; H],
    /// The cell state before the step.
    pub c_prev: [T; H],
    /// The gates `i`, `f`, `g`, `o`.
    pub gates: [[T; H]; G],
    /// `tanh(c')`.
    pub tanh_c: [T; H],
}

impl<const H: usize, T: Scalar> Zeros for LstmStepCache<H, T> {
    fn zeros() -> Self {
        LstmStepCache {
            h_prev: [T::zero(); H],
            c_prev: [T::zero(); H],
            gates: [[T::zero(); H]; G],
            tanh_c: [T::zero(); H],
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            LstmStepCache {
                h_prev: crate::zeros::Zeros::zeros_in_place,
                c_prev: crate::zeros::Zeros::zeros_in_place,
                gates: crate::zeros::Zeros::zeros_in_place,
                tanh_c: crate::zeros::Zeros::zeros_in_place
            }
        )
    }
}

impl<const IN: usize, const H: usize, T: Scalar> Lstm<IN, H, T> {
    /// The gates `i`, `f`, `g`, `o` for input `x` and hidden state `h`.
    #[inline(always)]
    fn gates<K: Kernels>(&self, h: &[T; H], x: &[T; IN], gates: &mut [[T; H]; G]) {
        // The input side (`W_ih x + b_ih + b_hh`) does not wait for `h`: it is the starting
        // value of the recurrent products' accumulators, so the latency chain from `h` to
        // the gates holds the recurrent products alone.
        let mut input_side = [[T::zero(); H]; G];
        K::gates_forward_row(&self.w_ih, &self.b_ih, x, &mut input_side);
        for (a, b) in input_side.iter_mut().zip(self.b_hh.iter()) {
            add_into(a, b);
        }
        let mut pre = [[T::zero(); H]; G];
        K::gates_forward_row(&self.w_hh, &input_side, h, &mut pre);
        // Gate by gate: each activation's input and output stay one array of `H` values.
        // In the order the update needs them (`g` and `i` for `i ⊙ g`, then `f`, `o` last,
        // after `tanh(c')`): their divisions share one divider, which takes the oldest first.
        K::tanh(&pre[2], &mut gates[2]);
        for k in [0, 1, 3] {
            K::gate_sigmoid(&pre[k], &mut gates[k]);
        }
    }

    /// `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh(c')`, both flushed; returns `tanh(c')`.
    ///
    /// `tanh` takes `c'` before its flush, so the flush is off the step's dependency chain;
    /// where they differ (`|c'| < √MIN_POSITIVE`), `tanh(c') = c'` and `o ⊙ c'` flushes to
    /// the same `h'`. `i ⊙ g` is ready before `f` (see [`Lstm::gates`]'s order), so `f`
    /// enters the sum as one multiply-add.
    #[inline(always)]
    fn update<K: Kernels>(state: &mut LstmState<H, T>, gates: &[[T; H]; G]) -> [T; H] {
        let [i, f, g, o] = gates;
        let mut c = [T::zero(); H];
        for j in 0..H {
            c[j] = K::mul_add(f[j], state.c[j], i[j] * g[j]);
        }
        let mut tanh_c = [T::zero(); H];
        K::tanh(&c, &mut tanh_c);
        for (state_c, &c) in state.c.iter_mut().zip(c.iter()) {
            *state_c = flush_tiny(c);
        }
        for j in 0..H {
            state.h[j] = flush_tiny(o[j] * tanh_c[j]);
        }
        tanh_c
    }
}

impl<const IN: usize, const H: usize, T: Scalar> Lstm<IN, H, T> {
    /// [`RecurrentCell::step_backward`] with the kernels of `K`.
    #[inline(always)]
    fn backward_with<K: Kernels>(
        &self,
        cache: &LstmStepCache<H, T>,
        x: &[T; IN],
        d_state: &mut LstmState<H, T>,
        grads: &mut Self,
        dx: Option<&mut [T; IN]>,
    ) {
        let one = T::one();
        let [i, f, g, o] = &cache.gates;
        let tc = &cache.tanh_c;
        let mut a = [[T::zero(); H]; G];
        let mut dc_prev = [T::zero(); H];
        for j in 0..H {
            let dh = d_state.h[j];
            let dc = d_state.c[j] + dh * o[j] * (one - tc[j] * tc[j]);
            a[0][j] = dc * g[j] * i[j] * (one - i[j]);
            a[1][j] = dc * cache.c_prev[j] * f[j] * (one - f[j]);
            a[2][j] = dc * i[j] * (one - g[j] * g[j]);
            a[3][j] = dh * tc[j] * o[j] * (one - o[j]);
            dc_prev[j] = dc * f[j];
        }
        let grads = &mut grads.weights;
        for (k, a) in a.iter().enumerate() {
            K::dense_param_grads_row(x, a, &mut grads.w_ih[k], &mut grads.b_ih[k]);
            K::dense_param_grads_row(&cache.h_prev, a, &mut grads.w_hh[k], &mut grads.b_hh[k]);
        }
        if let Some(dx) = dx {
            *dx = [T::zero(); IN];
            let mut part = [T::zero(); IN];
            for (w, a) in self.w_ih.iter().zip(a.iter()) {
                K::dense_input_grads_row(w, a, &mut part);
                add_into(dx, &part);
            }
        }
        let mut dh_prev = [T::zero(); H];
        let mut part = [T::zero(); H];
        for (w, a) in self.w_hh.iter().zip(a.iter()) {
            K::dense_input_grads_row(w, a, &mut part);
            add_into(&mut dh_prev, &part);
        }
        d_state.h = dh_prev;
        d_state.c = dc_prev;
    }
}

impl<const IN: usize, const H: usize, T: Scalar> StreamStep for Lstm<IN, H, T> {
    #[inline(always)]
    fn stream_step<K: Kernels>(&self, state: &mut LstmState<H, T>, x: &[T; IN]) {
        let mut gates = [[T::zero(); H]; G];
        self.gates::<K>(&state.h, x, &mut gates);
        Self::update::<K>(state, &gates);
    }

    #[inline(always)]
    fn train_step<K: Kernels>(
        &self,
        state: &mut LstmState<H, T>,
        x: &[T; IN],
        cache: &mut LstmStepCache<H, T>,
    ) {
        cache.h_prev = state.h;
        cache.c_prev = state.c;
        self.gates::<K>(&state.h, x, &mut cache.gates);
        cache.tanh_c = Self::update::<K>(state, &cache.gates);
    }

    #[inline(always)]
    fn backward_step<K: Kernels>(
        &self,
        cache: &LstmStepCache<H, T>,
        x: &[T; IN],
        d_state: &mut LstmState<H, T>,
        grads: &mut Self,
        dx: Option<&mut [T; IN]>,
    ) {
        self.backward_with::<K>(cache, x, d_state, grads, dx);
    }
}

/// The states of `B` samples of an [`Lstm`], transposed: `h[j][b]` and `c[j][b]` are unit
/// `j` of sample `b` (see [`RecurrentCell::BatchState`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LstmBatchState<const H: usize, const B: usize, T = f32> {
    /// The hidden states, `h[j][b]`.
    pub h: [[T; B]; H],
    /// The cell states, `c[j][b]`.
    pub c: [[T; B]; H],
}

impl<const H: usize, const B: usize, T: Scalar> Zeros for LstmBatchState<H, B, T> {
    fn zeros() -> Self {
        LstmBatchState {
            h: [[T::zero(); B]; H],
            c: [[T::zero(); B]; H],
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            LstmBatchState {
                h: crate::zeros::Zeros::zeros_in_place,
                c: crate::zeros::Zeros::zeros_in_place
            }
        )
    }
}

/// What [`Lstm`]'s batched backward needs from one training step of `B` samples, each
/// vector transposed (`[j][b]`: see [`RecurrentCell::BatchStepCache`]). The batched backward
/// overwrites `gates` with the gradients of the gates' pre-activations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LstmBatchStepCache<const IN: usize, const H: usize, const B: usize, T = f32> {
    /// The step's inputs, `x[i][b]`.
    pub x: [[T; B]; IN],
    /// The hidden states before the step.
    pub h_prev: [[T; B]; H],
    /// The cell states before the step.
    pub c_prev: [[T; B]; H],
    /// The gates `i`, `f`, `g`, `o`.
    pub gates: [[[T; B]; H]; G],
    /// `tanh(c')` of the new cell states.
    pub tanh_c: [[T; B]; H],
}

impl<const IN: usize, const H: usize, const B: usize, T: Scalar> Zeros
    for LstmBatchStepCache<IN, H, B, T>
{
    fn zeros() -> Self {
        LstmBatchStepCache {
            x: [[T::zero(); B]; IN],
            h_prev: [[T::zero(); B]; H],
            c_prev: [[T::zero(); B]; H],
            gates: [[[T::zero(); B]; H]; G],
            tanh_c: [[T::zero(); B]; H],
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            LstmBatchStepCache {
                x: crate::zeros::Zeros::zeros_in_place,
                h_prev: crate::zeros::Zeros::zeros_in_place,
                c_prev: crate::zeros::Zeros::zeros_in_place,
                gates: crate::zeros::Zeros::zeros_in_place,
                tanh_c: crate::zeros::Zeros::zeros_in_place
            }
        )
    }
}

/// The batched steps: the equations of [`Lstm`]'s `gates`, `update` and `backward_with` on
/// transposed vectors (one row of `B` samples per unit).
impl<const IN: usize, const H: usize, T: Scalar> BatchStep for Lstm<IN, H, T> {
    #[inline(always)]
    fn train_lanes<K: Kernels, const B: usize>(
        &self,
        state: &mut LstmBatchState<H, B, T>,
        x: [&[T; IN]; B],
        cache: &mut LstmBatchStepCache<IN, H, B, T>,
    ) {
        transpose_in(x, &mut cache.x);
        cache.h_prev = state.h;
        cache.c_prev = state.c;
        for k in 0..G {
            let gate = &mut cache.gates[k];
            gate_product::<K, T, IN, H, B>(&self.w_ih[k], &self.b_ih[k], &cache.x, gate, false);
            gate_product::<K, T, H, H, B>(&self.w_hh[k], &self.b_hh[k], &state.h, gate, true);
        }
        let [i, f, g, o] = &mut cache.gates;
        for gate in [&mut *i, &mut *f, &mut *o] {
            activate::<K, T>(gate.as_flattened_mut(), GateActivation::Sigmoid);
        }
        activate::<K, T>(g.as_flattened_mut(), GateActivation::Tanh);
        // Elementwise over the flattened rows: written as loops over units and lanes, the
        // compiler vectorizes across the units with gathers and scatters.
        let (i, f, g, o) = (
            i.as_flattened(),
            f.as_flattened(),
            g.as_flattened(),
            o.as_flattened(),
        );
        for (((c, &iv), &fv), &gv) in state.c.as_flattened_mut().iter_mut().zip(i).zip(f).zip(g) {
            *c = flush_tiny(fv * *c + iv * gv);
        }
        cache.tanh_c = state.c;
        activate::<K, T>(cache.tanh_c.as_flattened_mut(), GateActivation::Tanh);
        for ((h, &ov), &tc) in state
            .h
            .as_flattened_mut()
            .iter_mut()
            .zip(o)
            .zip(cache.tanh_c.as_flattened())
        {
            *h = flush_tiny(ov * tc);
        }
    }

    #[inline(always)]
    fn backward_lanes<K: Kernels, const B: usize>(
        &self,
        cache: &mut LstmBatchStepCache<IN, H, B, T>,
        d_state: &mut LstmBatchState<H, B, T>,
        dx: Option<[&mut [T; IN]; B]>,
    ) {
        let one = T::one();
        let LstmBatchStepCache {
            c_prev,
            gates,
            tanh_c,
            ..
        } = cache;
        {
            let [g_i, g_f, g_g, g_o] = gates;
            let (g_i, g_f, g_g, g_o) = (
                g_i.as_flattened_mut(),
                g_f.as_flattened_mut(),
                g_g.as_flattened_mut(),
                g_o.as_flattened_mut(),
            );
            let (c_prev, tanh_c) = (c_prev.as_flattened(), tanh_c.as_flattened());
            let (dh_all, dc_all) = (d_state.h.as_flattened(), d_state.c.as_flattened_mut());
            // One flat loop (see `train_lanes`).
            for e in 0..H * B {
                let (i, f, g, o) = (g_i[e], g_f[e], g_g[e], g_o[e]);
                let (dh, tc) = (dh_all[e], tanh_c[e]);
                let dc = dc_all[e] + dh * o * (one - tc * tc);
                g_i[e] = dc * g * i * (one - i);
                g_f[e] = dc * c_prev[e] * f * (one - f);
                g_g[e] = dc * i * (one - g * g);
                g_o[e] = dh * tc * o * (one - o);
                dc_all[e] = dc * f;
            }
        }
        let [ai, af, ag, ao] = &*gates;
        if let Some(dx) = dx {
            input_grads::<K, T, IN, H, G, B>(&self.w_ih, [ai, af, ag, ao], dx);
        }
        for m in 0..H {
            transposed_row::<K, T, H, H, G, B>(
                &self.w_hh,
                [ai, af, ag, ao],
                m,
                &mut d_state.h[m],
                false,
            );
        }
    }

    #[inline(always)]
    fn param_grads_lanes<K: Kernels, const B: usize>(
        &self,
        steps: &[LstmBatchStepCache<IN, H, B, T>],
        grads: &mut Self,
        wide: bool,
    ) {
        param_grads::<K, _, T, IN, H, G, B>(steps, &mut grads.weights, wide);
    }
}

/// After the batched backward: `gates` holds the input-side gradients (the same on the hidden side).
impl<const IN: usize, const H: usize, const B: usize, T> StepLanes<T, IN, H, B>
    for LstmBatchStepCache<IN, H, B, T>
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
        &self.gates[k]
    }
}

crate::layers::recurrent_cell::recurrent_cell!(
    Lstm,
    LstmState,
    LstmStepCache,
    LstmBatchState,
    LstmBatchStepCache,
    "nn.LSTM"
);

crate::impl_zero_bits!(unsafe impl[const H: usize, T: crate::ZeroBits] for LstmState<H, T> { h, c });
crate::impl_zero_bits!(unsafe impl[const H: usize, T: crate::ZeroBits] for LstmStepCache<H, T> { h_prev, c_prev, gates, tanh_c });
crate::impl_zero_bits!(unsafe impl[const H: usize, const B: usize, T: crate::ZeroBits] for LstmBatchState<H, B, T> { h, c });
crate::impl_zero_bits!(unsafe impl[const IN: usize, const H: usize, const B: usize, T: crate::ZeroBits] for LstmBatchStepCache<IN, H, B, T> { x, h_prev, c_prev, gates, tanh_c });
