//! `RecurrentCell`: what a sequence layer ([`Sequence`](crate::layers::Sequence)) needs of a
//! recurrent cell ([`Gru`](crate::layers::Gru), [`Lstm`](crate::layers::Lstm)): one step
//! forward, in inference and in training, and one step backward.

use crate::kernel::{InTask, Kernels, MulAdd, SimdTask, in_best_simd_wide};
use crate::named::{Layout, Shape, TensorInfo};
use crate::params::{Params, TensorKind, TensorShape};
use crate::scalar::Scalar;
use crate::zeros::Zeros;

/// A recurrent cell: a state (`State`, owned by the caller) and a step that reads one input
/// and updates the state. Implemented by [`Gru`](crate::layers::Gru) and
/// [`Lstm`](crate::layers::Lstm); [`Sequence`](crate::layers::Sequence) runs any of them
/// over a compile-time number of steps.
///
/// # Denormal numbers
///
/// Every step (streaming, sequence inference and training alike: one code path) flushes the
/// state values whose magnitude is below `√(T::MIN_POSITIVE)` (about `1.1e-19` in `f32`,
/// `1.5e-154` in `f64`) to zero. During silence a state that decays towards zero would
/// otherwise pass through the subnormal range, where x86 CPUs take a micro-code assist on
/// every operation (10–100× slower), and not only the state itself: the products of a tiny
/// state with the weights become subnormal long before the state does, which is why the
/// threshold is the square root of the smallest normal number and not that number itself
/// (a product of two values above it is normal). The `f32` activations of the gates never
/// square a tiny input into the subnormal range either (below `2⁻⁴⁰` they skip their
/// polynomials). A value below the threshold is far below anything an `f32` output can
/// show next to a bias, so the flush changes no output in practice; backward treats it as
/// the identity.
pub trait RecurrentCell: Params + Copy {
    /// One input sample, `[T; IN]`.
    type Input: Copy + Zeros;
    /// The hidden state `h`, `[T; H]`: what the cell outputs at each step.
    type Hidden: Copy + Zeros;
    /// The whole state ([`GruState`](crate::layers::GruState): `h`;
    /// [`LstmState`](crate::layers::LstmState): `h` and `c`). Its gradient has the same type.
    type State: Copy + Zeros;
    /// What the backward pass needs from one training step (the previous state and the
    /// gates).
    type StepCache: Copy + Zeros;

    /// One step of inference: reads `x`, updates `state`.
    fn step_state(&self, state: &mut Self::State, x: &Self::Input);

    /// One training step: as [`step_state`](RecurrentCell::step_state), keeping what
    /// backward needs in `cache`.
    fn step_train(&self, state: &mut Self::State, x: &Self::Input, cache: &mut Self::StepCache);

    /// Backward through one step. On entry `d_state` is `dL/d(state after the step)`, on exit
    /// `dL/d(state before the step)`; adds `dL/dθ` into `grads`, and writes `dL/dx` into
    /// `dx` when it is given. `x` is the step's input.
    fn step_backward(
        &self,
        cache: &Self::StepCache,
        x: &Self::Input,
        d_state: &mut Self::State,
        grads: &mut Self,
        dx: Option<&mut Self::Input>,
    );

    /// The hidden state `h` of a state.
    fn hidden(state: &Self::State) -> &Self::Hidden;

    /// Adds `dh` to the `h` part of a state gradient.
    fn add_hidden(d_state: &mut Self::State, dh: &Self::Hidden);

    /// The states of `B` samples, transposed (the sample index innermost, `h[j][b]`): what
    /// [`Sequence`](crate::layers::Sequence)'s batched training carries from step to step
    /// (see the batched methods below). Its gradient has the same type.
    type BatchState<const B: usize>: Copy + Zeros;
    /// What the batched backward needs from one training step of `B` samples (transposed as
    /// [`BatchState`](RecurrentCell::BatchState)). The batched backward overwrites it with
    /// the step's gate gradients, which
    /// [`param_grads_batch`](RecurrentCell::param_grads_batch) then reads.
    type BatchStepCache<const B: usize>: Copy + Zeros;

    /// One training step of `B` samples at once: `x[b]` is sample `b`'s input, `state`
    /// their states (transposed); keeps what backward needs in `cache`. The same equations
    /// as [`step_train`](RecurrentCell::step_train) (the rounding may differ in the last
    /// bits: the products are summed in another order).
    fn step_train_batch<const B: usize>(
        &self,
        state: &mut Self::BatchState<B>,
        x: [&Self::Input; B],
        cache: &mut Self::BatchStepCache<B>,
    );

    /// Backward through one step of `B` samples: as
    /// [`step_backward`](RecurrentCell::step_backward) for each, except that the parameter
    /// gradients are left in `cache` (overwriting it) for
    /// [`param_grads_batch`](RecurrentCell::param_grads_batch), which sums them over every
    /// step at once. Writes `dL/dx` of sample `b` into `dx[b]` when given.
    fn step_backward_batch<const B: usize>(
        &self,
        cache: &mut Self::BatchStepCache<B>,
        d_state: &mut Self::BatchState<B>,
        dx: Option<[&mut Self::Input; B]>,
    );

    /// Adds `dL/dθ` of every step in `steps` (each left by
    /// [`step_backward_batch`](RecurrentCell::step_backward_batch)) into `grads`.
    fn param_grads_batch<const B: usize>(
        &self,
        steps: &[Self::BatchStepCache<B>],
        grads: &mut Self,
    );

    /// The hidden state `h` of sample `b` in a batch of states.
    fn batch_hidden<const B: usize>(state: &Self::BatchState<B>, b: usize) -> Self::Hidden;

    /// Adds `dh` to the `h` part of sample `b` in a batch of state gradients.
    fn add_batch_hidden<const B: usize>(
        d_state: &mut Self::BatchState<B>,
        b: usize,
        dh: &Self::Hidden,
    );
}

/// A cell's steps inside a [`SimdTask`] of flavour `M`, with its kernels inlined into the
/// task. The crate's cells run every step this way (streaming, sequence inference and
/// training): one arithmetic, the same bits on every path of one instruction set.
pub(crate) trait StreamStep: RecurrentCell {
    /// One step, as [`RecurrentCell::step_state`].
    fn stream_step<K: Kernels>(&self, state: &mut Self::State, x: &Self::Input);
    /// One training step, as [`RecurrentCell::step_train`].
    fn train_step<K: Kernels>(
        &self,
        state: &mut Self::State,
        x: &Self::Input,
        cache: &mut Self::StepCache,
    );
    /// Backward through one step, as [`RecurrentCell::step_backward`].
    fn backward_step<K: Kernels>(
        &self,
        cache: &Self::StepCache,
        x: &Self::Input,
        d_state: &mut Self::State,
        grads: &mut Self,
        dx: Option<&mut Self::Input>,
    );
}

/// Whether a cell's streaming task gains from AVX-512: its hidden state fills a 64-byte
/// vector (16 `f32`).
#[inline(always)]
pub(crate) const fn wide<C: RecurrentCell>() -> bool {
    core::mem::size_of::<C::Hidden>() >= 64
}

/// One inference step of `cell` as its own task.
#[inline]
pub(crate) fn step_one<C: StreamStep>(cell: &C, state: &mut C::State, x: &C::Input) {
    in_best_simd_wide(OneStep { cell, state, x }, wide::<C>());
}

/// One training step of `cell` as its own task.
#[inline]
pub(crate) fn train_one<C: StreamStep>(
    cell: &C,
    state: &mut C::State,
    x: &C::Input,
    cache: &mut C::StepCache,
) {
    in_best_simd_wide(
        TrainStep {
            cell,
            state,
            x,
            cache,
        },
        wide::<C>(),
    );
}

/// Backward through one step of `cell` as its own task (its small products inline instead of
/// a dispatching call each).
#[inline]
pub(crate) fn backward_one<C: StreamStep>(
    cell: &C,
    cache: &C::StepCache,
    x: &C::Input,
    d_state: &mut C::State,
    grads: &mut C,
    dx: Option<&mut C::Input>,
) {
    in_best_simd_wide(
        BackwardStep {
            cell,
            cache,
            x,
            d_state,
            grads,
            dx,
        },
        wide::<C>(),
    );
}

/// [`backward_one`]'s work.
struct BackwardStep<'a, C: StreamStep> {
    cell: &'a C,
    cache: &'a C::StepCache,
    x: &'a C::Input,
    d_state: &'a mut C::State,
    grads: &'a mut C,
    dx: Option<&'a mut C::Input>,
}

impl<C: StreamStep> SimdTask for BackwardStep<'_, C> {
    type Output = ();
    #[inline(always)]
    fn run<M: MulAdd>(self) {
        self.cell
            .backward_step::<InTask<M>>(self.cache, self.x, self.d_state, self.grads, self.dx);
    }
}

/// [`step_one`]'s work.
struct OneStep<'a, C: StreamStep> {
    cell: &'a C,
    state: &'a mut C::State,
    x: &'a C::Input,
}

impl<C: StreamStep> SimdTask for OneStep<'_, C> {
    type Output = ();
    #[inline(always)]
    fn run<M: MulAdd>(self) {
        self.cell.stream_step::<InTask<M>>(self.state, self.x);
    }
}

/// [`train_one`]'s work.
struct TrainStep<'a, C: StreamStep> {
    cell: &'a C,
    state: &'a mut C::State,
    x: &'a C::Input,
    cache: &'a mut C::StepCache,
}

impl<C: StreamStep> SimdTask for TrainStep<'_, C> {
    type Output = ();
    #[inline(always)]
    fn run<M: MulAdd>(self) {
        self.cell
            .train_step::<InTask<M>>(self.state, self.x, self.cache);
    }
}

/// `√(T::MIN_POSITIVE)`: `2⁻⁶³` for `f32`, `2⁻⁵¹¹` for `f64` (exact powers of two).
#[inline(always)]
fn flush_threshold<T: Scalar>() -> T {
    T::from_f64(if T::BYTES == 4 {
        1.0842021724855044e-19
    } else {
        1.4916681462400413e-154
    })
}

/// `v`, or zero when `|v| < √(T::MIN_POSITIVE)` (see the module docs).
#[inline(always)]
pub(crate) fn flush_tiny<T: Scalar>(v: T) -> T {
    v.flush_below(flush_threshold())
}

/// `a[k] += b[k]`.
#[inline(always)]
pub(crate) fn add_into<T: Scalar, const N: usize>(a: &mut [T; N], b: &[T; N]) {
    for (x, &y) in a.iter_mut().zip(b.iter()) {
        *x += y;
    }
}

/// PyTorch-ordered gate blocks (`rows[k][r][c]` = row `k·R + r`, column `c` of a `[G·R][C]`
/// parameter) into the per-gate input-major storage (`[k][c][r]`), in a `const fn` (`fill`
/// is any value: every element is overwritten).
pub(crate) const fn gates_to_storage<T: Copy, const G: usize, const R: usize, const C: usize>(
    rows: &[[[T; C]; R]; G],
    fill: T,
) -> [[[T; R]; C]; G] {
    let mut out = [[[fill; R]; C]; G];
    let mut k = 0;
    while k < G {
        let mut r = 0;
        while r < R {
            let mut c = 0;
            while c < C {
                out[k][c][r] = rows[k][r][c];
                c += 1;
            }
            r += 1;
        }
        k += 1;
    }
    out
}

/// The inverse of [`gates_to_storage`]: PyTorch-ordered gate blocks from the storage.
pub(crate) fn storage_to_gates<T: Scalar, const G: usize, const R: usize, const C: usize>(
    storage: &[[[T; R]; C]; G],
) -> [[[T; C]; R]; G] {
    let mut out = [[[T::zero(); C]; R]; G];
    for (k, block) in storage.iter().enumerate() {
        for (c, column) in block.iter().enumerate() {
            for (r, &v) in column.iter().enumerate() {
                out[k][r][c] = v;
            }
        }
    }
    out
}

/// The initializer's view of a recurrent layer's four tensors: every fan-in is `H`, so
/// [`Init::PyTorchDefault`](crate::init::Init::PyTorchDefault) draws every parameter from
/// `U(−1/√H, 1/√H)`, PyTorch's initialization of `nn.GRU` and `nn.LSTM`.
pub(crate) fn recurrent_shapes(
    gates: usize,
    input: usize,
    hidden: usize,
) -> impl Iterator<Item = TensorShape> {
    let weight_ih = TensorShape {
        kind: TensorKind::Weight,
        rows: gates * hidden,
        cols: input,
        fan_in: hidden,
        fan_out: gates * hidden,
    };
    let weight_hh = TensorShape {
        cols: hidden,
        ..weight_ih
    };
    let bias = TensorShape {
        kind: TensorKind::Bias,
        cols: 1,
        ..weight_ih
    };
    [weight_ih, weight_hh, bias, bias].into_iter()
}

/// The file view of a recurrent layer's four tensors (PyTorch's state_dict names and
/// shapes; the weights stored per gate, input-major).
pub(crate) fn recurrent_infos(
    module: usize,
    gates: usize,
    input: usize,
    hidden: usize,
) -> [TensorInfo; 4] {
    let weight_ih = TensorInfo {
        module,
        name: "weight_ih_l0",
        shape: Shape::matrix(gates * hidden, input),
        layout: Layout::TransposedBlocks(gates),
        trained: true,
    };
    let weight_hh = TensorInfo {
        name: "weight_hh_l0",
        shape: Shape::matrix(gates * hidden, hidden),
        ..weight_ih
    };
    let bias_ih = TensorInfo {
        name: "bias_ih_l0",
        shape: Shape::vector(gates * hidden),
        layout: Layout::RowMajor,
        ..weight_ih
    };
    let bias_hh = TensorInfo {
        name: "bias_hh_l0",
        ..bias_ih
    };
    [weight_ih, weight_hh, bias_ih, bias_hh]
}

/// What [`Gru`](crate::layers::Gru) and [`Lstm`](crate::layers::Lstm) share around their own
/// gates and backward step (`StreamStep`): access to the weights, streaming (inherent
/// `step`/`process` and [`Stream`](crate::Stream)), the [`RecurrentCell`] steps as
/// instruction-set tasks, the parameter walk and the zero value.
macro_rules! recurrent_cell {
    ($cell:ident, $state:ident, $step_cache:ident, $batch_state:ident, $batch_step_cache:ident, $module:literal) => {
        impl<const IN: usize, const H: usize, T> core::ops::Deref for $cell<IN, H, T> {
            type Target = RecurrentWeights<IN, H, G, T>;
            #[inline(always)]
            fn deref(&self) -> &Self::Target {
                &self.weights
            }
        }

        impl<const IN: usize, const H: usize, T> core::ops::DerefMut for $cell<IN, H, T> {
            #[inline(always)]
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.weights
            }
        }

        impl<const IN: usize, const H: usize, T: Scalar> $cell<IN, H, T> {
            #[doc = concat!("A cell from PyTorch's parameters, each `[G·H][...]` matrix given as its gate blocks of `H` rows (see [`RecurrentWeights::new`]). A `const fn`, so a cell can be a `static` (what [`io::rust_source`](crate::io::rust_source) writes).")]
            pub const fn new(
                weight_ih: [[[T; IN]; H]; G],
                weight_hh: [[[T; H]; H]; G],
                bias_ih: [[T; H]; G],
                bias_hh: [[T; H]; G],
            ) -> Self {
                $cell {
                    weights: RecurrentWeights::new(weight_ih, weight_hh, bias_ih, bias_hh),
                }
            }

            /// One streaming step: reads `x`, updates `state` and returns the new `h` (the
            /// same as [`Stream::step`](crate::Stream::step)).
            #[inline]
            pub fn step(&self, state: &mut $state<H, T>, x: &[T; IN]) -> [T; H] {
                crate::stream::step_in_task(self, state, x)
            }

            /// Streams a buffer: one step per input frame, `hs[t]` the hidden state after
            /// frame `t`. Allocates nothing.
            ///
            /// # Panics
            /// When `xs` and `hs` differ in length.
            pub fn process(&self, state: &mut $state<H, T>, xs: &[[T; IN]], hs: &mut [[T; H]]) {
                crate::stream::Stream::process(self, state, xs, hs);
            }
        }

        impl<const IN: usize, const H: usize, T: Scalar> crate::stream::Stream for $cell<IN, H, T> {
            type InFrame = [T; IN];
            type OutFrame = [T; H];
            type State = $state<H, T>;
            #[inline]
            fn step(&self, state: &mut $state<H, T>, x: &[T; IN]) -> [T; H] {
                crate::stream::step_in_task(self, state, x)
            }
            #[inline(always)]
            fn step_with<K: crate::kernel::Kernels>(&self, state: &mut $state<H, T>, x: &[T; IN]) -> [T; H] {
                self.stream_step::<K>(state, x);
                state.h
            }
            const WIDE_TASK: bool = crate::layers::recurrent_cell::wide::<Self>();
        }

        impl<const IN: usize, const H: usize, T: Scalar> RecurrentCell for $cell<IN, H, T> {
            type Input = [T; IN];
            type Hidden = [T; H];
            type State = $state<H, T>;
            type StepCache = $step_cache<H, T>;

            #[inline]
            fn step_state(&self, state: &mut $state<H, T>, x: &[T; IN]) {
                step_one(self, state, x);
            }

            #[inline]
            fn step_train(&self, state: &mut $state<H, T>, x: &[T; IN], cache: &mut $step_cache<H, T>) {
                train_one(self, state, x, cache);
            }

            /// PyTorch's BPTT step (the equations are on the cell's `backward_with`).
            fn step_backward(
                &self,
                cache: &$step_cache<H, T>,
                x: &[T; IN],
                d_state: &mut $state<H, T>,
                grads: &mut Self,
                dx: Option<&mut [T; IN]>,
            ) {
                backward_one(self, cache, x, d_state, grads, dx);
            }

            #[inline(always)]
            fn hidden(state: &$state<H, T>) -> &[T; H] {
                &state.h
            }

            #[inline(always)]
            fn add_hidden(d_state: &mut $state<H, T>, dh: &[T; H]) {
                add_into(&mut d_state.h, dh);
            }

            type BatchState<const B: usize> = $batch_state<H, B, T>;
            type BatchStepCache<const B: usize> = $batch_step_cache<IN, H, B, T>;

            #[inline]
            fn step_train_batch<const B: usize>(
                &self,
                state: &mut $batch_state<H, B, T>,
                x: [&[T; IN]; B],
                cache: &mut $batch_step_cache<IN, H, B, T>,
            ) {
                crate::layers::recurrent_batch::train_batch_in_task(self, state, x, cache);
            }

            #[inline]
            fn step_backward_batch<const B: usize>(
                &self,
                cache: &mut $batch_step_cache<IN, H, B, T>,
                d_state: &mut $batch_state<H, B, T>,
                dx: Option<[&mut [T; IN]; B]>,
            ) {
                crate::layers::recurrent_batch::backward_batch_in_task(self, cache, d_state, dx);
            }

            #[inline]
            fn param_grads_batch<const B: usize>(
                &self,
                steps: &[$batch_step_cache<IN, H, B, T>],
                grads: &mut Self,
            ) {
                crate::layers::recurrent_batch::param_grads_in_task(self, steps, grads);
            }

            #[inline(always)]
            fn batch_hidden<const B: usize>(state: &$batch_state<H, B, T>, b: usize) -> [T; H] {
                crate::layers::recurrent_batch::lane(&state.h, b)
            }

            #[inline(always)]
            fn add_batch_hidden<const B: usize>(
                d_state: &mut $batch_state<H, B, T>,
                b: usize,
                dh: &[T; H],
            ) {
                for (row, &v) in d_state.h.iter_mut().zip(dh.iter()) {
                    row[b] += v;
                }
            }
        }

        impl<const IN: usize, const H: usize, T: Scalar> Zeros for $cell<IN, H, T> {
            fn zeros() -> Self {
                $cell {
                    weights: RecurrentWeights::zeros(),
                }
            }

            /// In place (the weights, gate block by gate block).
            fn zeros_in_place(
                slot: &mut core::mem::MaybeUninit<Self>,
            ) -> crate::zeros::InPlace<'_, Self> {
                crate::kernel::init_fields!(slot, $cell { weights: RecurrentWeights::zeros_in_place })
            }
        }

        impl<const IN: usize, const H: usize, T: Scalar> Params for $cell<IN, H, T> {
            type Scalar = T;
            const PARAM_COUNT: usize = RecurrentWeights::<IN, H, G, T>::PARAM_COUNT;

            /// `weight_ih`, `weight_hh` (storage order: per gate, input-major), `bias_ih`,
            /// `bias_hh`.
            fn tensors(&self) -> impl Iterator<Item = &[T]> {
                self.weights.tensors()
            }
            fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
                self.weights.tensors_mut()
            }
            fn shapes() -> impl Iterator<Item = TensorShape> {
                RecurrentWeights::<IN, H, G, T>::shapes()
            }
        }

        #[doc = concat!("One module, `", $module, "`: `K.weight_ih_l0`, `K.weight_hh_l0`, `K.bias_ih_l0`, `K.bias_hh_l0`.")]
        impl<const IN: usize, const H: usize, T: Scalar> crate::named::Named for $cell<IN, H, T> {
            fn visit_tensors(&self, module: usize, f: &mut dyn FnMut(TensorInfo, &[T])) {
                self.weights.visit_tensors(module, f);
            }
            fn visit_tensors_mut(&mut self, module: usize, f: &mut dyn FnMut(TensorInfo, &mut [T])) {
                self.weights.visit_tensors_mut(module, f);
            }
        }

        crate::impl_zero_bits!(unsafe impl[const IN: usize, const H: usize, T: crate::ZeroBits] for $cell<IN, H, T> { weights });
    };
}
pub(crate) use recurrent_cell;
