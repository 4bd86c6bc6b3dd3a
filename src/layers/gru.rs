//! `Gru`: PyTorch's `nn.GRU` cell (one layer), with a caller-owned state for streaming.
//!
//! # Storage
//! Stable Rust has no `[T; 3 * H]`, so the parameters are stored per gate (`r`, `z`, `n`, in
//! PyTorch's order), each gate's weights input-major like [`Dense`](crate::Dense):
//! `w_ih: [[[T; H]; IN]; 3]`, `w_hh: [[[T; H]; H]; 3]`, biases `[[T; H]; 3]`. Each gate's
//! product is then the Dense one-row kernel (contiguous multiply-adds over `H`). The API
//! speaks PyTorch's layout: constructors and getters take and give the `[3·H][IN]` weights
//! as three gate blocks of `H` rows (`[[[T; IN]; H]; 3]`, block `k` = rows `k·H..k·H+H`),
//! and the named walk reports `weight_ih_l0` `[3H, IN]`, `weight_hh_l0` `[3H, H]`,
//! `bias_ih_l0` `[3H]`, `bias_hh_l0` `[3H]` (layout
//! [`Layout::TransposedBlocks(3)`](crate::Layout::TransposedBlocks)), which is how
//! safetensors files, the own format and checkpoints see it.

use crate::kernel;
use crate::layers::recurrent_cell::{
    RecurrentCell, add_into, flush_tiny, gates_to_storage, recurrent_infos, recurrent_shapes,
    storage_to_gates, stream,
};
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
/// h' = n + z ⊙ (h − n)            (= (1 − z) ⊙ n + z ⊙ h)
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
#[repr(C, align(64))]
pub struct Gru<const IN: usize, const H: usize, T = f32> {
    /// Per gate, input-major: `w_ih[k][i][j]` is PyTorch's `weight_ih_l0[k·H + j][i]`.
    w_ih: [[[T; H]; IN]; G],
    /// Per gate, input-major: `w_hh[k][i][j]` is PyTorch's `weight_hh_l0[k·H + j][i]`.
    w_hh: [[[T; H]; H]; G],
    /// `b_ih[k][j]` is PyTorch's `bias_ih_l0[k·H + j]`.
    b_ih: [[T; H]; G],
    /// `b_hh[k][j]` is PyTorch's `bias_hh_l0[k·H + j]`.
    b_hh: [[T; H]; G],
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
}

impl<const IN: usize, const H: usize, T: Scalar> Gru<IN, H, T> {
    /// A cell from PyTorch's parameters, each `[3·H][...]` matrix given as its three gate
    /// blocks (`r`, `z`, `n`) of `H` rows: `weight_ih[k][j][i]` is `weight_ih_l0[k·H + j][i]`.
    /// A `const fn`, so a cell can be a `static` (what
    /// [`io::rust_source`](crate::io::rust_source) writes).
    pub const fn new(
        weight_ih: [[[T; IN]; H]; G],
        weight_hh: [[[T; H]; H]; G],
        bias_ih: [[T; H]; G],
        bias_hh: [[T; H]; G],
    ) -> Self {
        Gru {
            w_ih: gates_to_storage(&weight_ih, T::ZERO),
            w_hh: gates_to_storage(&weight_hh, T::ZERO),
            b_ih: bias_ih,
            b_hh: bias_hh,
        }
    }

    /// PyTorch's `weight_ih_l0[row][input]` (`row = k·H + j` for gate `k`).
    #[inline]
    pub fn weight_ih(&self, row: usize, input: usize) -> T {
        self.w_ih[row / H][input][row % H]
    }

    /// PyTorch's `weight_hh_l0[row][input]`.
    #[inline]
    pub fn weight_hh(&self, row: usize, input: usize) -> T {
        self.w_hh[row / H][input][row % H]
    }

    /// `weight_ih_l0` as three gate blocks of `H` rows (see [`Gru::new`]).
    pub fn weight_ih_rows(&self) -> [[[T; IN]; H]; G] {
        storage_to_gates(&self.w_ih)
    }

    /// `weight_hh_l0` as three gate blocks of `H` rows.
    pub fn weight_hh_rows(&self) -> [[[T; H]; H]; G] {
        storage_to_gates(&self.w_hh)
    }

    /// Sets `weight_ih_l0` from three gate blocks of `H` rows.
    pub fn set_weight_ih_rows(&mut self, rows: &[[[T; IN]; H]; G]) {
        self.w_ih = gates_to_storage(rows, T::zero());
    }

    /// Sets `weight_hh_l0` from three gate blocks of `H` rows.
    pub fn set_weight_hh_rows(&mut self, rows: &[[[T; H]; H]; G]) {
        self.w_hh = gates_to_storage(rows, T::zero());
    }

    /// `bias_ih_l0` as three gate blocks.
    #[inline]
    pub fn bias_ih(&self) -> &[[T; H]; G] {
        &self.b_ih
    }

    /// `bias_ih_l0`, writable.
    #[inline]
    pub fn bias_ih_mut(&mut self) -> &mut [[T; H]; G] {
        &mut self.b_ih
    }

    /// `bias_hh_l0` as three gate blocks.
    #[inline]
    pub fn bias_hh(&self) -> &[[T; H]; G] {
        &self.b_hh
    }

    /// `bias_hh_l0`, writable.
    #[inline]
    pub fn bias_hh_mut(&mut self) -> &mut [[T; H]; G] {
        &mut self.b_hh
    }

    /// One streaming step: reads `x`, updates `state` and returns the new `h`.
    #[inline]
    pub fn step(&self, state: &mut GruState<H, T>, x: &[T; IN]) -> [T; H] {
        let mut h = [[T::zero(); H]];
        stream(self, state, core::slice::from_ref(x), &mut h);
        h[0]
    }

    /// Streams a buffer: one step per input frame, `hs[t]` the hidden state after frame
    /// `t`. Allocates nothing.
    ///
    /// # Panics
    /// When `xs` and `hs` differ in length.
    pub fn process(&self, state: &mut GruState<H, T>, xs: &[[T; IN]], hs: &mut [[T; H]]) {
        assert_eq!(
            xs.len(),
            hs.len(),
            "Gru::process: one output per input frame"
        );
        stream(self, state, xs, hs);
    }

    /// The gates `r`, `z`, `n` and `W_hn h + b_hn` for input `x` and state `h`.
    #[inline(always)]
    fn gates(&self, h: &[T; H], x: &[T; IN], gates: &mut [[T; H]; G], hn: &mut [T; H]) {
        let mut gi = [[T::zero(); H]; G];
        let mut gh = [[T::zero(); H]; G];
        for k in 0..G {
            kernel::dense_forward_row(&self.w_ih[k], &self.b_ih[k], x, &mut gi[k]);
            kernel::dense_forward_row(&self.w_hh[k], &self.b_hh[k], h, &mut gh[k]);
        }
        let mut pre = [[T::zero(); H]; 2];
        for k in 0..2 {
            for j in 0..H {
                pre[k][j] = gi[k][j] + gh[k][j];
            }
        }
        T::sigmoid_slice(pre.as_flattened(), gates[..2].as_flattened_mut());
        let mut pre_n = [T::zero(); H];
        for j in 0..H {
            // Flushed too: the tanh kernel squares its input.
            pre_n[j] = flush_tiny(gi[2][j] + gates[0][j] * gh[2][j]);
        }
        T::tanh_slice(&pre_n, &mut gates[2]);
        *hn = gh[2];
    }

    /// `h' = n + z ⊙ (h − n)`, flushed.
    #[inline(always)]
    fn update(h: &mut [T; H], gates: &[[T; H]; G]) {
        let (z, n) = (&gates[1], &gates[2]);
        for j in 0..H {
            h[j] = flush_tiny(n[j] + z[j] * (h[j] - n[j]));
        }
    }
}

impl<const IN: usize, const H: usize, T: Scalar> RecurrentCell for Gru<IN, H, T> {
    type Input = [T; IN];
    type Hidden = [T; H];
    type State = GruState<H, T>;
    type StepCache = GruStepCache<H, T>;

    #[inline(always)]
    fn step_state(&self, state: &mut GruState<H, T>, x: &[T; IN]) {
        let mut gates = [[T::zero(); H]; G];
        let mut hn = [T::zero(); H];
        self.gates(&state.h, x, &mut gates, &mut hn);
        Self::update(&mut state.h, &gates);
    }

    #[inline]
    fn step_train(&self, state: &mut GruState<H, T>, x: &[T; IN], cache: &mut GruStepCache<H, T>) {
        cache.h_prev = state.h;
        self.gates(&state.h, x, &mut cache.gates, &mut cache.hn);
        Self::update(&mut state.h, &cache.gates);
    }

    /// PyTorch's BPTT step: with `δh = dL/dh'`, `dn = δh ⊙ (1 − z)`,
    /// `dz = δh ⊙ (h − n)`, `a_n = dn ⊙ (1 − n²)`, `a_r = a_n ⊙ (W_hn h + b_hn) ⊙ r(1 − r)`,
    /// `a_z = dz ⊙ z(1 − z)`; the input side sees `[a_r | a_z | a_n]`, the recurrent side
    /// `[a_r | a_z | a_n ⊙ r]`; `dL/dh = δh ⊙ z + W_hhᵀ·[a_r | a_z | a_n ⊙ r]`.
    fn step_backward(
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
        for k in 0..G {
            kernel::dense_param_grads(
                core::slice::from_ref(x),
                core::slice::from_ref(&a_i[k]),
                &mut grads.w_ih[k],
                &mut grads.b_ih[k],
            );
            kernel::dense_param_grads(
                core::slice::from_ref(&cache.h_prev),
                core::slice::from_ref(&a_h[k]),
                &mut grads.w_hh[k],
                &mut grads.b_hh[k],
            );
        }
        if let Some(dx) = dx {
            *dx = [T::zero(); IN];
            let mut part = [T::zero(); IN];
            for (w, a) in self.w_ih.iter().zip(a_i.iter()) {
                kernel::dense_input_grads_row(w, a, &mut part);
                add_into(dx, &part);
            }
        }
        let mut dh_prev = [T::zero(); H];
        for j in 0..H {
            dh_prev[j] = dh[j] * z[j];
        }
        let mut part = [T::zero(); H];
        for (w, a) in self.w_hh.iter().zip(a_h.iter()) {
            kernel::dense_input_grads_row(w, a, &mut part);
            add_into(&mut dh_prev, &part);
        }
        d_state.h = dh_prev;
    }

    #[inline(always)]
    fn hidden(state: &GruState<H, T>) -> &[T; H] {
        &state.h
    }

    #[inline(always)]
    fn add_hidden(d_state: &mut GruState<H, T>, dh: &[T; H]) {
        add_into(&mut d_state.h, dh);
    }
}

impl<const IN: usize, const H: usize, T: Scalar> Zeros for Gru<IN, H, T> {
    fn zeros() -> Self {
        Gru {
            w_ih: [[[T::zero(); H]; IN]; G],
            w_hh: [[[T::zero(); H]; H]; G],
            b_ih: [[T::zero(); H]; G],
            b_hh: [[T::zero(); H]; G],
        }
    }
}

impl<const IN: usize, const H: usize, T: Scalar> Params for Gru<IN, H, T> {
    type Scalar = T;
    const PARAM_COUNT: usize = G * H * IN + G * H * H + 2 * G * H;

    /// `weight_ih`, `weight_hh` (storage order: per gate, input-major), `bias_ih`, `bias_hh`.
    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        [
            self.w_ih.as_flattened().as_flattened(),
            self.w_hh.as_flattened().as_flattened(),
            self.b_ih.as_flattened(),
            self.b_hh.as_flattened(),
        ]
        .into_iter()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [
            self.w_ih.as_flattened_mut().as_flattened_mut(),
            self.w_hh.as_flattened_mut().as_flattened_mut(),
            self.b_ih.as_flattened_mut(),
            self.b_hh.as_flattened_mut(),
        ]
        .into_iter()
    }
    fn shapes() -> impl Iterator<Item = TensorShape> {
        recurrent_shapes(G, IN, H)
    }
    /// One module, `nn.GRU`.
    const MODULES: usize = 1;
    /// `K.weight_ih_l0` `[3H, IN]`, `K.weight_hh_l0` `[3H, H]`, `K.bias_ih_l0` `[3H]`,
    /// `K.bias_hh_l0` `[3H]`.
    fn visit_tensors(&self, module: usize, f: &mut dyn FnMut(TensorInfo, &[T])) {
        let infos = recurrent_infos(module, G, IN, H);
        for (info, tensor) in infos.into_iter().zip(self.tensors()) {
            f(info, tensor);
        }
    }
    fn visit_tensors_mut(&mut self, module: usize, f: &mut dyn FnMut(TensorInfo, &mut [T])) {
        let infos = recurrent_infos(module, G, IN, H);
        for (info, tensor) in infos.into_iter().zip(self.tensors_mut()) {
            f(info, tensor);
        }
    }
}

crate::impl_zero_bits!(impl[const IN: usize, const H: usize, T: crate::ZeroBits] for Gru<IN, H, T> { w_ih, w_hh, b_ih, b_hh });
crate::impl_zero_bits!(impl[const H: usize, T: crate::ZeroBits] for GruState<H, T> { h });
crate::impl_zero_bits!(impl[const H: usize, T: crate::ZeroBits] for GruStepCache<H, T> { h_prev, gates, hn });
