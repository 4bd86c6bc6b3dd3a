//! `RecurrentWeights`: the parameters of a one-layer recurrent cell with `G` gates — what a
//! [`Gru`](crate::layers::Gru) (3 gates) and an [`Lstm`](crate::layers::Lstm) (4 gates) are
//! made of, in PyTorch's terms and with one storage.
//!
//! # Storage
//! Stable Rust has no `[T; G * H]`, so the parameters are stored per gate (in PyTorch's gate
//! order), each gate's weights input-major like [`Dense`](crate::Dense):
//! `w_ih: [[[T; H]; IN]; G]`, `w_hh: [[[T; H]; H]; G]`, biases `[[T; H]; G]`. Each gate's
//! product is then the Dense one-row kernel (contiguous multiply-adds over `H`). The API
//! speaks PyTorch's layout: constructors and getters take and give the `[G·H][IN]` weights as
//! `G` gate blocks of `H` rows (`[[[T; IN]; H]; G]`, block `k` = rows `k·H..k·H+H`), and the
//! named walk reports `weight_ih_l0` `[G·H, IN]`, `weight_hh_l0` `[G·H, H]`, `bias_ih_l0`
//! `[G·H]`, `bias_hh_l0` `[G·H]` (layout
//! [`Layout::TransposedBlocks(G)`](crate::Layout::TransposedBlocks)), which is how
//! safetensors files, the own format and checkpoints see them.

use crate::layers::recurrent_cell::{
    gates_to_storage, recurrent_infos, recurrent_shapes, storage_to_gates,
};
use crate::named::TensorInfo;
use crate::params::TensorShape;
use crate::scalar::Scalar;

/// The weights and the two biases of a recurrent cell with `G` gates of `H` units over inputs
/// of `IN` values, in PyTorch's `nn.GRU`/`nn.LSTM` terms (`weight_ih_l0`, `weight_hh_l0`,
/// `bias_ih_l0`, `bias_hh_l0`). [`Gru`](crate::layers::Gru) and
/// [`Lstm`](crate::layers::Lstm) dereference to it, so its getters and setters are theirs.
///
/// ```
/// use constnet::layers::Gru;
/// let gru = Gru::<1, 2, f64>::new(
///     [[[1.0], [2.0]], [[3.0], [4.0]], [[5.0], [6.0]]], // weight_ih_l0, rows 0..6
///     [[[0.0; 2]; 2]; 3],
///     [[0.5, 0.0], [0.0, 0.0], [0.0, 0.0]],
///     [[0.0; 2]; 3],
/// );
/// assert_eq!(gru.weight_ih(3, 0), 4.0); // row 3 = gate z, unit 1
/// assert_eq!(gru.bias_ih()[0][0], 0.5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(64))]
pub struct RecurrentWeights<const IN: usize, const H: usize, const G: usize, T = f32> {
    /// Per gate, input-major: `w_ih[k][i][j]` is PyTorch's `weight_ih_l0[k·H + j][i]`.
    pub(crate) w_ih: [[[T; H]; IN]; G],
    /// Per gate, input-major: `w_hh[k][i][j]` is PyTorch's `weight_hh_l0[k·H + j][i]`.
    pub(crate) w_hh: [[[T; H]; H]; G],
    /// `b_ih[k][j]` is PyTorch's `bias_ih_l0[k·H + j]`.
    pub(crate) b_ih: [[T; H]; G],
    /// `b_hh[k][j]` is PyTorch's `bias_hh_l0[k·H + j]`.
    pub(crate) b_hh: [[T; H]; G],
}

impl<const IN: usize, const H: usize, const G: usize, T: Scalar> RecurrentWeights<IN, H, G, T> {
    /// Weights from PyTorch's parameters, each `[G·H][...]` matrix given as its `G` gate
    /// blocks of `H` rows: `weight_ih[k][j][i]` is `weight_ih_l0[k·H + j][i]`. A `const fn`,
    /// so a cell can be a `static` (what [`io::rust_source`](crate::io::rust_source) writes).
    pub const fn new(
        weight_ih: [[[T; IN]; H]; G],
        weight_hh: [[[T; H]; H]; G],
        bias_ih: [[T; H]; G],
        bias_hh: [[T; H]; G],
    ) -> Self {
        RecurrentWeights {
            w_ih: gates_to_storage(&weight_ih, T::ZERO),
            w_hh: gates_to_storage(&weight_hh, T::ZERO),
            b_ih: bias_ih,
            b_hh: bias_hh,
        }
    }

    /// All zeros, written in place.
    pub(crate) fn zeros_in_place(
        slot: &mut core::mem::MaybeUninit<Self>,
    ) -> crate::zeros::InPlace<'_, Self> {
        use crate::zeros::Zeros;
        crate::kernel::init_fields!(
            slot,
            RecurrentWeights {
                w_ih: Zeros::zeros_in_place,
                w_hh: Zeros::zeros_in_place,
                b_ih: Zeros::zeros_in_place,
                b_hh: Zeros::zeros_in_place,
            }
        )
    }

    /// All zeros.
    pub(crate) fn zeros() -> Self {
        RecurrentWeights {
            w_ih: [[[T::zero(); H]; IN]; G],
            w_hh: [[[T::zero(); H]; H]; G],
            b_ih: [[T::zero(); H]; G],
            b_hh: [[T::zero(); H]; G],
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

    /// `weight_ih_l0` as `G` gate blocks of `H` rows (see [`RecurrentWeights::new`]).
    pub fn weight_ih_rows(&self) -> [[[T; IN]; H]; G] {
        storage_to_gates(&self.w_ih)
    }

    /// `weight_hh_l0` as `G` gate blocks of `H` rows.
    pub fn weight_hh_rows(&self) -> [[[T; H]; H]; G] {
        storage_to_gates(&self.w_hh)
    }

    /// Sets `weight_ih_l0` from `G` gate blocks of `H` rows.
    pub fn set_weight_ih_rows(&mut self, rows: &[[[T; IN]; H]; G]) {
        self.w_ih = gates_to_storage(rows, T::zero());
    }

    /// Sets `weight_hh_l0` from `G` gate blocks of `H` rows.
    pub fn set_weight_hh_rows(&mut self, rows: &[[[T; H]; H]; G]) {
        self.w_hh = gates_to_storage(rows, T::zero());
    }

    /// `bias_ih_l0` as `G` gate blocks.
    #[inline]
    pub fn bias_ih(&self) -> &[[T; H]; G] {
        &self.b_ih
    }

    /// `bias_ih_l0`, writable.
    #[inline]
    pub fn bias_ih_mut(&mut self) -> &mut [[T; H]; G] {
        &mut self.b_ih
    }

    /// `bias_hh_l0` as `G` gate blocks.
    #[inline]
    pub fn bias_hh(&self) -> &[[T; H]; G] {
        &self.b_hh
    }

    /// `bias_hh_l0`, writable.
    #[inline]
    pub fn bias_hh_mut(&mut self) -> &mut [[T; H]; G] {
        &mut self.b_hh
    }

    /// Parameters: `G·H·IN + G·H·H + 2·G·H`.
    pub(crate) const PARAM_COUNT: usize = G * H * IN + G * H * H + 2 * G * H;

    /// `weight_ih`, `weight_hh` (storage order: per gate, input-major), `bias_ih`, `bias_hh`.
    pub(crate) fn tensors(&self) -> impl Iterator<Item = &[T]> {
        [
            self.w_ih.as_flattened().as_flattened(),
            self.w_hh.as_flattened().as_flattened(),
            self.b_ih.as_flattened(),
            self.b_hh.as_flattened(),
        ]
        .into_iter()
    }

    /// [`tensors`](Self::tensors), writable.
    pub(crate) fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [
            self.w_ih.as_flattened_mut().as_flattened_mut(),
            self.w_hh.as_flattened_mut().as_flattened_mut(),
            self.b_ih.as_flattened_mut(),
            self.b_hh.as_flattened_mut(),
        ]
        .into_iter()
    }

    /// The tensors' shapes, in [`tensors`](Self::tensors) order.
    pub(crate) fn shapes() -> impl Iterator<Item = TensorShape> {
        recurrent_shapes(G, IN, H)
    }

    /// `K.weight_ih_l0` `[G·H, IN]`, `K.weight_hh_l0` `[G·H, H]`, `K.bias_ih_l0` `[G·H]`,
    /// `K.bias_hh_l0` `[G·H]`.
    pub(crate) fn visit_tensors(&self, module: usize, f: &mut dyn FnMut(TensorInfo, &[T])) {
        let infos = recurrent_infos(module, G, IN, H);
        for (info, tensor) in infos.into_iter().zip(self.tensors()) {
            f(info, tensor);
        }
    }

    /// [`visit_tensors`](Self::visit_tensors), writable.
    pub(crate) fn visit_tensors_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(TensorInfo, &mut [T]),
    ) {
        let infos = recurrent_infos(module, G, IN, H);
        for (info, tensor) in infos.into_iter().zip(self.tensors_mut()) {
            f(info, tensor);
        }
    }
}

crate::impl_zero_bits!(unsafe impl[const IN: usize, const H: usize, const G: usize, T: crate::ZeroBits] for RecurrentWeights<IN, H, G, T> { w_ih, w_hh, b_ih, b_hh });
