//! `Sequence`: a recurrent cell run over a compile-time number of steps, as a [`Layer`] for
//! `seq!` and training by backpropagation through time.
//!
//! The input is `[[T; IN]; STEPS]` (one sample is a whole sequence, PyTorch's
//! `batch_first=True` layout); the output is the last hidden state `[T; H]` ([`LastState`])
//! or every step's `[[T; H]; STEPS]` ([`AllStates`]). Through the [`Layer`] methods the
//! initial state is zero (PyTorch's default); [`Sequence::forward_from`],
//! [`Sequence::forward_train_from`] and [`Sequence::backward_from`] take a given initial
//! state, return the final one and give the gradient of the initial state.
//!
//! The cache of one sample holds the inputs and each step's cell cache (the previous state
//! and the gates). The batched training runs the whole batch one time step at a time
//! ([`RecurrentCell::step_train_batch`]): every vector of the batch transposed, the sample
//! index innermost, so a gate's product is one multiply-add per weight across the batch and
//! the activations run over contiguous rows; the backward pass then sums the weight
//! gradients of every step and sample at once ([`RecurrentCell::param_grads_batch`]). Its
//! [`SequenceBatchCache`] is owned by the caller like every batch cache (put it in a `Box`
//! for long sequences), and the batched methods write into it in place, with no
//! sequence-sized temporary on the stack. On the `07_amp` network (GRU 1→8 over 32 steps,
//! batch 16) a training step is 2–3× faster than running the samples one by one
//! (`perf_report`'s `GRU train_us` against `reference GRU train_us`).

use core::marker::PhantomData;

use crate::ctx::TrainCtx;
use crate::layer::Layer;
use crate::layers::recurrent_cell::RecurrentCell;
use crate::layers::{Gru, Lstm};
use crate::named::{Setting, SettingMut, TensorInfo};
use crate::params::{Params, TensorShape};
use crate::stream::Stream;
use crate::zeros::Zeros;

/// Output choice of a [`Sequence`]: the hidden state after the last step, `[T; H]`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LastState;

/// Output choice of a [`Sequence`]: the hidden state after every step, `[[T; H]; STEPS]`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AllStates;

/// What a [`Sequence`] outputs: implemented by [`LastState`] and [`AllStates`].
pub trait SequenceOutput<Hd: Copy + Zeros, const STEPS: usize>: Copy + Default {
    /// The output of one sample.
    type Output: Copy + Zeros;
    /// Records the hidden state `h` after step `t`.
    fn put(out: &mut Self::Output, t: usize, h: &Hd);
    /// The output gradient that reaches the hidden state after step `t`, if any.
    fn grad(dy: &Self::Output, t: usize) -> Option<&Hd>;
    /// Whether the hidden state after step `t` is part of the output.
    fn records(t: usize) -> bool;
}

impl<Hd: Copy + Zeros, const STEPS: usize> SequenceOutput<Hd, STEPS> for LastState {
    type Output = Hd;
    #[inline(always)]
    fn put(out: &mut Hd, t: usize, h: &Hd) {
        if t + 1 == STEPS {
            *out = *h;
        }
    }
    #[inline(always)]
    fn grad(dy: &Hd, t: usize) -> Option<&Hd> {
        (t + 1 == STEPS).then_some(dy)
    }
    #[inline(always)]
    fn records(t: usize) -> bool {
        t + 1 == STEPS
    }
}

impl<Hd: Copy + Zeros, const STEPS: usize> SequenceOutput<Hd, STEPS> for AllStates {
    type Output = [Hd; STEPS];
    #[inline(always)]
    fn put(out: &mut [Hd; STEPS], t: usize, h: &Hd) {
        out[t] = *h;
    }
    #[inline(always)]
    fn grad(dy: &[Hd; STEPS], t: usize) -> Option<&Hd> {
        Some(&dy[t])
    }
    #[inline(always)]
    fn records(_t: usize) -> bool {
        true
    }
}

/// A recurrent cell `C` over `STEPS` steps: input `[[T; IN]; STEPS]`, output chosen by `O`
/// ([`LastState`] or [`AllStates`]). One module in weight files (`nn.GRU` / `nn.LSTM`
/// keys), with the cell's parameters. Usually named through [`GruSequence`] or
/// [`LstmSequence`].
///
/// A GRU over 32 steps of one feature, then a head on the last hidden state:
/// ```
/// use constnet::init::{self, Init};
/// use constnet::layers::{GruSequence, LastState};
/// use constnet::{Dense, Layer, seq};
/// type Net = seq![GruSequence<1, 8, 32, LastState>, Dense<8, 1>];
/// let net: Net = init::seeded(Init::PyTorchDefault, 0);
/// let x = [[0.25f32]; 32];
/// let y: [f32; 1] = net.forward(&x);
/// assert!(y[0].is_finite());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sequence<C, const STEPS: usize, O = LastState> {
    /// The cell (its parameters; also usable on its own for streaming).
    pub cell: C,
    output: PhantomData<O>,
}

/// [`Gru`] over `STEPS` steps (see [`Sequence`]).
pub type GruSequence<const IN: usize, const H: usize, const STEPS: usize, O = LastState, T = f32> =
    Sequence<Gru<IN, H, T>, STEPS, O>;

/// [`Lstm`] over `STEPS` steps (see [`Sequence`]).
pub type LstmSequence<const IN: usize, const H: usize, const STEPS: usize, O = LastState, T = f32> =
    Sequence<Lstm<IN, H, T>, STEPS, O>;

/// What a [`Sequence`]'s backward needs from one sample: the inputs and each step's cell
/// cache.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SequenceCache<C: RecurrentCell, const STEPS: usize> {
    /// The inputs of every step.
    pub x: [C::Input; STEPS],
    /// Each step's cell cache.
    pub steps: [C::StepCache; STEPS],
}

impl<C: RecurrentCell, const STEPS: usize> Zeros for SequenceCache<C, STEPS> {
    fn zeros() -> Self {
        SequenceCache {
            x: Zeros::zeros(),
            steps: Zeros::zeros(),
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            SequenceCache {
                x: crate::zeros::Zeros::zeros_in_place,
                steps: crate::zeros::Zeros::zeros_in_place
            }
        )
    }
}

/// A [`Sequence`]'s batch cache: the batch's states (transposed, sample index innermost)
/// and each step's [`RecurrentCell::BatchStepCache`]. The batched training runs one step of
/// every sample at a time ([`RecurrentCell::step_train_batch`]) and sums the parameter
/// gradients over all steps and samples once, after the backward pass. About
/// `STEPS × B × (IN + 5H)` values for a GRU (`IN + 7H` for an LSTM): put it in a `Box`
/// ([`zeroed_box`](crate::zeroed_box)) for long sequences or large batches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SequenceBatchCache<C: RecurrentCell, const STEPS: usize, const B: usize> {
    /// The states during the forward pass, their gradients during the backward pass.
    pub state: C::BatchState<B>,
    /// Each step's cache (the gate gradients after the backward pass).
    pub steps: [C::BatchStepCache<B>; STEPS],
}

impl<C: RecurrentCell, const STEPS: usize, const B: usize> Zeros
    for SequenceBatchCache<C, STEPS, B>
{
    fn zeros() -> Self {
        SequenceBatchCache {
            state: Zeros::zeros(),
            steps: Zeros::zeros(),
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            SequenceBatchCache {
                state: crate::zeros::Zeros::zeros_in_place,
                steps: crate::zeros::Zeros::zeros_in_place
            }
        )
    }
}

/// Not one cache per sample: [`Sequence`] implements every batched method itself.
impl<C: RecurrentCell, const STEPS: usize, const B: usize, S> crate::layer::SampleCaches<S, B>
    for SequenceBatchCache<C, STEPS, B>
{
}

impl<C, const STEPS: usize, O> Sequence<C, STEPS, O> {
    /// The layer around `cell` (a `const fn`).
    pub const fn new(cell: C) -> Self {
        Sequence {
            cell,
            output: PhantomData,
        }
    }
}

impl<C: RecurrentCell, const STEPS: usize, O: SequenceOutput<C::Hidden, STEPS>>
    Sequence<C, STEPS, O>
{
    /// Inference from the initial state `state`: the output and the final state.
    ///
    /// ```
    /// use constnet::init::{self, Init};
    /// use constnet::layers::{AllStates, GruSequence, GruState};
    /// use constnet::Layer;
    /// let layer: GruSequence<2, 3, 4, AllStates, f64> = init::seeded(Init::PyTorchDefault, 1);
    /// let xs = [[0.5, -1.0]; 4];
    /// let h0 = GruState { h: [0.1, 0.2, 0.3] };
    /// let (ys, last) = layer.forward_from(&h0, &xs);
    /// assert_eq!(ys[3], last.h);
    /// // From the zero state it is the Layer's forward.
    /// assert_eq!(layer.forward_from(&GruState::zeros(), &xs).0, layer.forward(&xs));
    /// ```
    pub fn forward_from(&self, state: &C::State, x: &[C::Input; STEPS]) -> (O::Output, C::State) {
        const { assert!(STEPS > 0, "a Sequence needs at least one step") };
        let mut state = *state;
        let mut y = O::Output::zeros();
        for (t, xt) in x.iter().enumerate() {
            self.cell.step_state(&mut state, xt);
            O::put(&mut y, t, C::hidden(&state));
        }
        (y, state)
    }

    /// Training forward from the initial state `state`: writes the output into `y` and what
    /// [`backward_from`](Sequence::backward_from) needs into `cache`, returns the final
    /// state.
    pub fn forward_train_from(
        &self,
        state: &C::State,
        x: &[C::Input; STEPS],
        y: &mut O::Output,
        cache: &mut SequenceCache<C, STEPS>,
    ) -> C::State {
        const { assert!(STEPS > 0, "a Sequence needs at least one step") };
        let mut state = *state;
        cache.x = *x;
        for (t, (xt, step)) in x.iter().zip(cache.steps.iter_mut()).enumerate() {
            self.cell.step_train(&mut state, xt, step);
            O::put(y, t, C::hidden(&state));
        }
        state
    }

    /// Backpropagation through time: `dy` is the gradient of the output, `d_final` that of
    /// the final state (PyTorch's `h_n`, and `c_n` for an LSTM; zero when only the output is
    /// used). Adds the parameter gradients into `grads`, writes the input gradient into `dx`
    /// when given, and returns the gradient of the initial state.
    pub fn backward_from(
        &self,
        cache: &SequenceCache<C, STEPS>,
        dy: &O::Output,
        d_final: &C::State,
        grads: &mut Self,
        mut dx: Option<&mut [C::Input; STEPS]>,
    ) -> C::State {
        let mut d_state = *d_final;
        for t in (0..STEPS).rev() {
            if let Some(g) = O::grad(dy, t) {
                C::add_hidden(&mut d_state, g);
            }
            let dxt = dx.as_deref_mut().map(|dx| &mut dx[t]);
            self.cell.step_backward(
                &cache.steps[t],
                &cache.x[t],
                &mut d_state,
                &mut grads.cell,
                dxt,
            );
        }
        d_state
    }
}

impl<C: RecurrentCell, const STEPS: usize, O: SequenceOutput<C::Hidden, STEPS>> Zeros
    for Sequence<C, STEPS, O>
{
    fn zeros() -> Self {
        Sequence::new(C::zeros())
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Sequence {
                cell: C::zeros_in_place,
                output: |s| crate::zeros::InPlace::write(s, PhantomData)
            }
        )
    }
}

impl<C: RecurrentCell, const STEPS: usize, O: SequenceOutput<C::Hidden, STEPS>> Params
    for Sequence<C, STEPS, O>
{
    type Scalar = C::Scalar;
    const PARAM_COUNT: usize = C::PARAM_COUNT;
    fn tensors(&self) -> impl Iterator<Item = &[Self::Scalar]> {
        self.cell.tensors()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [Self::Scalar]> {
        self.cell.tensors_mut()
    }
    fn shapes() -> impl Iterator<Item = TensorShape> {
        C::shapes()
    }
    fn restore_defaults(&mut self) {
        self.cell.restore_defaults();
    }
}

impl<
    C: RecurrentCell + crate::named::Named,
    const STEPS: usize,
    O: SequenceOutput<C::Hidden, STEPS>,
> crate::named::Named for Sequence<C, STEPS, O>
{
    const MODULES: usize = C::MODULES;
    fn visit_tensors(&self, module: usize, f: &mut dyn FnMut(TensorInfo, &[Self::Scalar])) {
        self.cell.visit_tensors(module, f);
    }
    fn visit_tensors_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(TensorInfo, &mut [Self::Scalar]),
    ) {
        self.cell.visit_tensors_mut(module, f);
    }
    fn visit_settings(&self, module: usize, f: &mut dyn FnMut(usize, &'static str, Setting)) {
        self.cell.visit_settings(module, f);
    }
    fn visit_settings_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(usize, &'static str, SettingMut<'_>),
    ) {
        self.cell.visit_settings_mut(module, f);
    }
}

impl<C: RecurrentCell, const STEPS: usize, O: SequenceOutput<C::Hidden, STEPS>> Layer
    for Sequence<C, STEPS, O>
{
    type Input = [C::Input; STEPS];
    type Output = O::Output;
    type Cache = SequenceCache<C, STEPS>;
    type BatchCache<const B: usize> = SequenceBatchCache<C, STEPS, B>;

    /// From the zero state.
    #[inline]
    fn forward(&self, x: &Self::Input) -> O::Output {
        self.forward_from(&C::State::zeros(), x).0
    }

    /// From the zero state.
    fn forward_train(&self, x: &Self::Input, _ctx: &mut TrainCtx) -> (O::Output, Self::Cache) {
        let mut y = O::Output::zeros();
        let mut cache = SequenceCache::zeros();
        self.forward_train_from(&C::State::zeros(), x, &mut y, &mut cache);
        (y, cache)
    }

    /// The final state's gradient is zero (only the output is used).
    fn backward(&self, cache: &Self::Cache, dy: &O::Output, grads: &mut Self) -> Self::Input {
        let mut dx = Self::Input::zeros();
        self.backward_from(cache, dy, &C::State::zeros(), grads, Some(&mut dx));
        dx
    }

    fn backward_params(&self, cache: &Self::Cache, dy: &O::Output, grads: &mut Self) {
        self.backward_from(cache, dy, &C::State::zeros(), grads, None);
    }

    /// Every sample at once, step by step ([`RecurrentCell::step_train_batch`]), from the
    /// zero state.
    fn forward_train_batch_shared<const B: usize>(
        &self,
        x: &[Self::Input; B],
        y: &mut [O::Output; B],
        cache: &mut Self::BatchCache<B>,
        _ctx: &mut TrainCtx,
    ) {
        const { assert!(STEPS > 0, "a Sequence needs at least one step") };
        let SequenceBatchCache { state, steps } = cache;
        *state = Zeros::zeros();
        for (t, step) in steps.iter_mut().enumerate() {
            self.cell
                .step_train_batch(state, x.each_ref().map(|xb| &xb[t]), step);
            if O::records(t) {
                for (b, yb) in y.iter_mut().enumerate() {
                    O::put(yb, t, &C::batch_hidden(state, b));
                }
            }
        }
    }

    fn backward_batch<const B: usize>(
        &self,
        _x: &[Self::Input; B],
        _y: &[O::Output; B],
        cache: &mut Self::BatchCache<B>,
        dy: &[O::Output; B],
        dx: &mut [Self::Input; B],
        grads: &mut Self,
    ) {
        self.backward_batch_with(cache, dy, Some(dx), grads);
    }

    fn backward_batch_params<const B: usize>(
        &self,
        _x: &[Self::Input; B],
        _y: &[O::Output; B],
        cache: &mut Self::BatchCache<B>,
        dy: &[O::Output; B],
        grads: &mut Self,
    ) {
        self.backward_batch_with(cache, dy, None, grads);
    }
}

impl<C: RecurrentCell, const STEPS: usize, O: SequenceOutput<C::Hidden, STEPS>>
    Sequence<C, STEPS, O>
{
    /// Backpropagation through time for a batch from its [`SequenceBatchCache`]: step by
    /// step for every sample at once, then the parameter gradients of all steps.
    fn backward_batch_with<const B: usize>(
        &self,
        cache: &mut SequenceBatchCache<C, STEPS, B>,
        dy: &[O::Output; B],
        mut dx: Option<&mut [[C::Input; STEPS]; B]>,
        grads: &mut Self,
    ) {
        let SequenceBatchCache { state, steps } = cache;
        let d_state = state;
        *d_state = Zeros::zeros();
        for t in (0..STEPS).rev() {
            for (b, dyb) in dy.iter().enumerate() {
                if let Some(g) = O::grad(dyb, t) {
                    C::add_batch_hidden(d_state, b, g);
                }
            }
            let dxt = dx
                .as_deref_mut()
                .map(|dx| dx.each_mut().map(|dxb| &mut dxb[t]));
            self.cell.step_backward_batch(&mut steps[t], d_state, dxt);
        }
        self.cell.param_grads_batch(&steps[..], &mut grads.cell);
    }
}

crate::impl_zero_bits!(unsafe impl[C: crate::ZeroBits, const STEPS: usize, O] for Sequence<C, STEPS, O> { cell, output });
crate::impl_zero_bits!(
    unsafe impl[C: RecurrentCell, const STEPS: usize, const B: usize] for SequenceBatchCache<C, STEPS, B>
    where [C::BatchState<B>: crate::ZeroBits, C::BatchStepCache<B>: crate::ZeroBits] { state, steps }
);
crate::impl_zero_bits!(
    unsafe impl[C: RecurrentCell, const STEPS: usize] for SequenceCache<C, STEPS>
    where [C::Input: crate::ZeroBits, C::StepCache: crate::ZeroBits] { x, steps }
);

/// A sequence layer streams its cell: trained on windows, run one frame at a time with the
/// cell's state (the same bits as the cell's own [`step`](Stream::step), and as the
/// layer's forward over a window from the zero state).
impl<C: Stream, const STEPS: usize, O> Stream for Sequence<C, STEPS, O> {
    type InFrame = C::InFrame;
    type OutFrame = C::OutFrame;
    type State = C::State;
    #[inline]
    fn step(&self, state: &mut C::State, x: &C::InFrame) -> C::OutFrame {
        self.cell.step(state, x)
    }
    #[inline(always)]
    fn step_with<K: crate::kernel::Kernels>(
        &self,
        state: &mut C::State,
        x: &C::InFrame,
    ) -> C::OutFrame {
        self.cell.step_with::<K>(state, x)
    }
    const WIDE_TASK: bool = C::WIDE_TASK;
}
