//! Training steps of a recurrent cell over a whole batch at once: the arithmetic that
//! [`Sequence`](crate::layers::Sequence)'s batched training (backpropagation through time)
//! shares between [`Gru`](crate::layers::Gru) and [`Lstm`](crate::layers::Lstm).
//!
//! # Layout: the sample is the lane
//! One time step of `B` samples keeps every per-sample vector transposed, the sample index
//! innermost: the hidden states are `h[j][b]` (`[[T; B]; H]`), the gates `[[[T; B]; H]; G]`.
//! A gate's product is then, for each output `j`, `B`-wide multiply-adds of one weight with
//! a row of inputs (`z[j][·] += w[i][j] · x[i][·]`), the activations run over contiguous
//! rows, and the elementwise updates are plain vector arithmetic: with `B = 16` `f32`
//! samples each row is one AVX-512 register (two AVX2 ones), where the per-sample path
//! works on vectors of `H` values with a dependency chain per step. The weight gradients are
//! reduced once after the whole backward pass, over every step and sample
//! ([`param_grads`]).
//!
//! Each step's cache keeps its lanes, and the backward pass overwrites the gates with the
//! gates' gradients in place (the batch cache is scratch after backward), so nothing of
//! batch size lives on the stack but one row of `B` values.

use crate::kernel::{InTask, Kernels, MulAdd, SimdTask, in_best_simd_wide, runs_avx512};
use crate::layers::recurrent_cell::RecurrentCell;
use crate::layers::recurrent_weights::RecurrentWeights;
use crate::scalar::Scalar;

/// The batched steps of a cell, generic over the kernels of the task they run in; the
/// public [`RecurrentCell`] methods wrap each in a task ([`train_batch_in_task`],
/// [`backward_batch_in_task`], [`param_grads_in_task`]).
pub(crate) trait BatchStep: RecurrentCell {
    /// [`RecurrentCell::step_train_batch`].
    fn train_lanes<K: Kernels, const B: usize>(
        &self,
        state: &mut Self::BatchState<B>,
        x: [&Self::Input; B],
        cache: &mut Self::BatchStepCache<B>,
    );
    /// [`RecurrentCell::step_backward_batch`].
    fn backward_lanes<K: Kernels, const B: usize>(
        &self,
        cache: &mut Self::BatchStepCache<B>,
        d_state: &mut Self::BatchState<B>,
        dx: Option<[&mut Self::Input; B]>,
    );
    /// [`RecurrentCell::param_grads_batch`]; `wide` when the task has AVX-512's 32 vector
    /// registers.
    fn param_grads_lanes<K: Kernels, const B: usize>(
        &self,
        steps: &[Self::BatchStepCache<B>],
        grads: &mut Self,
        wide: bool,
    );
}

/// Whether `B` lanes of `T` fill an AVX-512 register (the task is compiled with AVX-512F
/// where the CPU has it).
#[inline(always)]
const fn wide<T, const B: usize>() -> bool {
    core::mem::size_of::<[T; B]>() >= 64
}

/// [`BatchStep::train_lanes`] in the best instruction-set task.
#[inline]
pub(crate) fn train_batch_in_task<C: BatchStep, const B: usize>(
    cell: &C,
    state: &mut C::BatchState<B>,
    x: [&C::Input; B],
    cache: &mut C::BatchStepCache<B>,
) {
    struct Task<'a, C: BatchStep, const B: usize> {
        cell: &'a C,
        state: &'a mut C::BatchState<B>,
        x: [&'a C::Input; B],
        cache: &'a mut C::BatchStepCache<B>,
    }
    impl<C: BatchStep, const B: usize> SimdTask for Task<'_, C, B> {
        type Output = ();
        #[inline(always)]
        fn run<M: MulAdd>(self) {
            self.cell
                .train_lanes::<InTask<M>, B>(self.state, self.x, self.cache);
        }
    }
    in_best_simd_wide(
        Task {
            cell,
            state,
            x,
            cache,
        },
        wide::<C::Scalar, B>(),
    );
}

/// [`BatchStep::backward_lanes`] in the best instruction-set task.
#[inline]
pub(crate) fn backward_batch_in_task<C: BatchStep, const B: usize>(
    cell: &C,
    cache: &mut C::BatchStepCache<B>,
    d_state: &mut C::BatchState<B>,
    dx: Option<[&mut C::Input; B]>,
) {
    struct Task<'a, C: BatchStep, const B: usize> {
        cell: &'a C,
        cache: &'a mut C::BatchStepCache<B>,
        d_state: &'a mut C::BatchState<B>,
        dx: Option<[&'a mut C::Input; B]>,
    }
    impl<C: BatchStep, const B: usize> SimdTask for Task<'_, C, B> {
        type Output = ();
        #[inline(always)]
        fn run<M: MulAdd>(self) {
            self.cell
                .backward_lanes::<InTask<M>, B>(self.cache, self.d_state, self.dx);
        }
    }
    in_best_simd_wide(
        Task {
            cell,
            cache,
            d_state,
            dx,
        },
        wide::<C::Scalar, B>(),
    );
}

/// [`BatchStep::param_grads_lanes`] in the best instruction-set task.
#[inline]
pub(crate) fn param_grads_in_task<C: BatchStep, const B: usize>(
    cell: &C,
    steps: &[C::BatchStepCache<B>],
    grads: &mut C,
) {
    struct Task<'a, C: BatchStep, const B: usize> {
        cell: &'a C,
        steps: &'a [C::BatchStepCache<B>],
        grads: &'a mut C,
        wide: bool,
    }
    impl<C: BatchStep, const B: usize> SimdTask for Task<'_, C, B> {
        type Output = ();
        #[inline(always)]
        fn run<M: MulAdd>(self) {
            self.cell
                .param_grads_lanes::<InTask<M>, B>(self.steps, self.grads, self.wide);
        }
    }
    let wide = wide::<C::Scalar, B>();
    in_best_simd_wide(
        Task {
            cell,
            steps,
            grads,
            wide: runs_avx512(wide),
        },
        wide,
    );
}

/// `lanes[i][b] = x[b][i]`: a step's inputs of `B` samples, transposed.
#[inline(always)]
pub(crate) fn transpose_in<T: Copy, const N: usize, const B: usize>(
    x: [&[T; N]; B],
    lanes: &mut [[T; B]; N],
) {
    for (b, xb) in x.iter().enumerate() {
        for (i, &v) in xb.iter().enumerate() {
            lanes[i][b] = v;
        }
    }
}

/// `out[b] = lanes[·][b]`: sample `b` of a transposed vector.
#[inline(always)]
pub(crate) fn lane<T: Copy, const N: usize, const B: usize>(
    lanes: &[[T; B]; N],
    b: usize,
) -> [T; N] {
    core::array::from_fn(|i| lanes[i][b])
}

/// One gate's product over the lanes: `out[j][·] = (accumulate ? out[j][·] : 0) + bias[j]
/// + Σᵢ w[i][j] · x[i][·]` (`w` input-major, as the cells store it).
#[inline(always)]
pub(crate) fn gate_product<
    K: Kernels,
    T: Scalar,
    const N: usize,
    const H: usize,
    const B: usize,
>(
    w: &[[T; H]; N],
    bias: &[T; H],
    x: &[[T; B]; N],
    out: &mut [[T; B]; H],
    accumulate: bool,
) {
    for (j, row) in out.iter_mut().enumerate() {
        let mut acc = [bias[j]; B];
        if accumulate {
            for b in 0..B {
                acc[b] += row[b];
            }
        }
        for (wi, xi) in w.iter().zip(x.iter()) {
            let wij = wi[j];
            for b in 0..B {
                acc[b] = K::mul_add(wij, xi[b], acc[b]);
            }
        }
        *row = acc;
    }
}

/// The gradient reaching one input row through `G` gates: `out[·] = (accumulate ? out[·] :
/// 0) + Σₖ Σⱼ w[k][n][j] · a[k][j][·]` (`w` input-major; `a[k]` the gradients of gate
/// `k`'s pre-activations).
#[inline(always)]
pub(crate) fn transposed_row<
    K: Kernels,
    T: Scalar,
    const N: usize,
    const H: usize,
    const G: usize,
    const B: usize,
>(
    w: &[[[T; H]; N]; G],
    a: [&[[T; B]; H]; G],
    n: usize,
    out: &mut [T; B],
    accumulate: bool,
) {
    let mut acc = if accumulate { *out } else { [T::zero(); B] };
    for (wk, ak) in w.iter().zip(a.iter()) {
        for (&wkj, akj) in wk[n].iter().zip(ak.iter()) {
            for b in 0..B {
                acc[b] = K::mul_add(wkj, akj[b], acc[b]);
            }
        }
    }
    *out = acc;
}

/// `dx[b] = Σₖ Σⱼ w[k][·][j] · a[k][j][b]` for every sample: the input gradients of a step,
/// one transposed row at a time (a row of `B` values on the stack).
#[inline(always)]
pub(crate) fn input_grads<
    K: Kernels,
    T: Scalar,
    const N: usize,
    const H: usize,
    const G: usize,
    const B: usize,
>(
    w: &[[[T; H]; N]; G],
    a: [&[[T; B]; H]; G],
    dx: [&mut [T; N]; B],
) {
    let mut dx = dx;
    for i in 0..N {
        let mut row = [T::zero(); B];
        transposed_row::<K, T, N, H, G, B>(w, a, i, &mut row, false);
        for (dxb, &v) in dx.iter_mut().zip(row.iter()) {
            dxb[i] = v;
        }
    }
}

/// The activation of a block of gates, applied in place by [`activate`].
#[derive(Clone, Copy)]
pub(crate) enum GateActivation {
    /// [`Kernels::gate_sigmoid`].
    Sigmoid,
    /// [`Kernels::tanh`].
    Tanh,
}

/// `y = f(y)` in place.
#[inline(always)]
pub(crate) fn activate<K: Kernels, T: Scalar>(y: &mut [T], f: GateActivation) {
    match f {
        GateActivation::Sigmoid => K::gate_sigmoid_in_place(y),
        GateActivation::Tanh => K::tanh_in_place(y),
    }
}

/// What the weight-gradient reduction reads from one step's cache (lanes by sample): the
/// inputs, the previous hidden states and, per gate, the gradients of its pre-activation
/// on the input side (`a_i`, which multiplies `x` and `b_ih`) and on the hidden side
/// (`a_h`, which multiplies `h_prev` and `b_hh`; the same as `a_i` but for a GRU's `n`).
pub(crate) trait StepLanes<T, const IN: usize, const H: usize, const B: usize> {
    /// The inputs `x[i][b]`.
    fn x(&self) -> &[[T; B]; IN];
    /// The hidden states before the step, `h[m][b]`.
    fn h_prev(&self) -> &[[T; B]; H];
    /// Gate `k`'s input-side gradient.
    fn a_i(&self, k: usize) -> &[[T; B]; H];
    /// Gate `k`'s hidden-side gradient.
    fn a_h(&self, k: usize) -> &[[T; B]; H];
}

/// Adds every step's and sample's share of the weight and bias gradients into `g`:
/// `g_w_ih[k][i][j] += Σₛ Σ_b a_i(s, k)[j][b] · x(s)[i][b]`, `g_b_ih[k][j] += Σₛ Σ_b
/// a_i(s, k)[j][b]`, and the same for `h_prev`, `a_h` and the hidden side.
///
/// For each gate unit `(k, j)`, one pass over the steps per block of rows ([`Kernels::
/// lane_dots`]): eight hidden or input rows at a time in an AVX-512 task (`wide`: 32
/// vector registers), four otherwise; the first block of each side also sums the gradient
/// itself (the bias).
#[inline(always)]
pub(crate) fn param_grads<
    K: Kernels,
    S: StepLanes<T, IN, H, B>,
    T: Scalar,
    const IN: usize,
    const H: usize,
    const G: usize,
    const B: usize,
>(
    steps: &[S],
    g: &mut RecurrentWeights<IN, H, G, T>,
    wide: bool,
) {
    let block = if wide { 8 } else { 4 };
    for k in 0..G {
        for j in 0..H {
            g.b_hh[k][j] += rows::<K, S, T, H, B>(
                steps,
                |s| (&s.a_h(k)[j], s.h_prev()),
                block,
                |m, v| g.w_hh[k][m][j] += v,
            );
            g.b_ih[k][j] += rows::<K, S, T, IN, B>(
                steps,
                |s| (&s.a_i(k)[j], s.x()),
                block,
                |i, v| g.w_ih[k][i][j] += v,
            );
        }
    }
}

/// `put(n, Σₛ a(s) · rows(s)[n])` for every row `n`, `block` rows per pass; returns
/// `Σₛ a(s)`.
#[inline(always)]
fn rows<'a, K: Kernels, S: 'a, T: Scalar + 'a, const N: usize, const B: usize>(
    steps: &'a [S],
    step: impl Fn(&'a S) -> (&'a [T; B], &'a [[T; B]; N]) + Copy,
    block: usize,
    mut put: impl FnMut(usize, T),
) -> T {
    macro_rules! pass {
        ($r:literal, $first:expr) => {{
            let first = $first;
            let (dots, sum) = K::lane_dots::<T, S, B, $r>(steps, |s| {
                let (a, v) = step(s);
                (a, core::array::from_fn(|r| &v[first + r]))
            });
            for (r, d) in dots.into_iter().enumerate() {
                put(first + r, d);
            }
            sum
        }};
    }
    let mut bias = None;
    let mut first = 0;
    while first < N {
        let sum = match (N - first).min(block) {
            1 => pass!(1, first),
            2 => pass!(2, first),
            3 => pass!(3, first),
            4 => pass!(4, first),
            5 => pass!(5, first),
            6 => pass!(6, first),
            7 => pass!(7, first),
            _ => pass!(8, first),
        };
        bias.get_or_insert(sum);
        first += block.min(N - first);
    }
    match bias {
        Some(sum) => sum,
        None => pass!(0, 0),
    }
}
