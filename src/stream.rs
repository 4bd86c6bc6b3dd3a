//! `Stream`: a layer or a whole network run one frame at a time, with a state the caller owns.

use crate::chain::Chain;
use crate::kernel::{InTask, Kernels, MulAdd, SimdTask, in_best_simd_wide};
use crate::zeros::Zeros;

/// Inference one frame at a time: a frame in, a frame out, and a [`State`](Stream::State)
/// the caller owns (one value per voice or channel, so one model serves many).
///
/// Implemented by every layer with a streaming form: the recurrent cells
/// ([`Gru`](crate::Gru), [`Lstm`](crate::Lstm)) and their sequence layers (a
/// [`GruSequence`](crate::GruSequence) trained on windows streams step by step), the
/// convolutions ([`Conv1d`](crate::Conv1d) causally, [`CausalConv1d`](crate::CausalConv1d)),
/// and the stateless layers ([`Dense`](crate::Dense), [`ActivationLayer`](crate::ActivationLayer),
/// [`LayerNorm`](crate::LayerNorm), [`BatchNorm`](crate::BatchNorm) with its running
/// statistics, [`Dropout`](crate::Dropout) as the identity, [`LastFrame`](crate::LastFrame)
/// passing frames through); and by [`Chain`], whose state is
/// the pair of its parts' states, so a whole `seq!` streams with one call.
///
/// A chain's [`step`](Stream::step) runs all its layers in one function compiled for the
/// best instruction set the CPU has (one dispatch per frame, not one per layer), with the
/// same bits as stepping the layers one by one; [`process`](Stream::process) runs a whole
/// buffer in one such function. Neither allocates, with or without `std`.
///
/// ```
/// use constnet::init::{self, Init};
/// use constnet::{Dense, GruSequence, Stream, Zeros, seq};
///
/// // Trained as windows of 32 samples -> one output, streamed one sample at a time.
/// type Net = seq![GruSequence<1, 8, 32>, Dense<8, 1>];
/// let net: Net = init::seeded(Init::PyTorchDefault, 0);
/// let mut voice = <Net as Stream>::State::zeros();
/// let y: [f32; 1] = net.step(&mut voice, &[0.25]);
/// assert!(y[0].is_finite());
///
/// // An audio callback's buffer, in one call.
/// let input = [[0.1f32], [0.2], [-0.3], [0.0]];
/// let mut output = [[0.0f32; 1]; 4];
/// net.process(&mut voice, &input, &mut output);
/// ```
///
/// A chain streams only when each part's output frame is the next one's input frame:
/// ```compile_fail
/// use constnet::{Chain, Dense, Gru, Stream, Zeros};
/// let net = Chain::new(Gru::<1, 8>::zeros(), Dense::<6, 1>::zeros());
/// let mut state = Zeros::zeros();
/// let _ = net.step(&mut state, &[0.25]);
/// ```
/// ```
/// use constnet::{Chain, Dense, Gru, Stream, Zeros};
/// let net = Chain::new(Gru::<1, 8>::zeros(), Dense::<8, 1>::zeros());
/// let mut state = Zeros::zeros();
/// let _ = net.step(&mut state, &[0.25]);
/// ```
///
/// A custom layer implements [`step`](Stream::step) (and the associated types); `process`
/// has a default.
pub trait Stream {
    /// One input frame, `[T; IN]`.
    type InFrame: Copy;
    /// One output frame, `[T; OUT]`.
    type OutFrame: Copy;
    /// What the layer remembers between frames (`()` for a stateless layer). Start from
    /// [`Zeros::zeros`], PyTorch's default initial state.
    type State: Zeros;

    /// One frame: reads `x`, updates `state`, returns the output frame.
    fn step(&self, state: &mut Self::State, x: &Self::InFrame) -> Self::OutFrame;

    /// A buffer of frames: `ys[t]` is the output for `xs[t]`, the state carried across.
    /// One instruction-set dispatch for the whole buffer; allocates nothing.
    ///
    /// # Panics
    /// When `xs` and `ys` differ in length.
    fn process(&self, state: &mut Self::State, xs: &[Self::InFrame], ys: &mut [Self::OutFrame]) {
        assert_eq!(
            xs.len(),
            ys.len(),
            "Stream::process: {} input frames but room for {} outputs",
            xs.len(),
            ys.len()
        );
        in_best_simd_wide(
            Process {
                layer: self,
                state,
                xs,
                ys,
            },
            Self::WIDE_TASK,
        );
    }

    /// [`step`](Stream::step) with its kernels taken from `K`: what a chain's step calls
    /// inside the one function it compiles for the CPU's instruction set. The same bits as
    /// `step`. The default calls `step`.
    #[doc(hidden)]
    #[inline(always)]
    fn step_with<K: Kernels>(&self, state: &mut Self::State, x: &Self::InFrame) -> Self::OutFrame {
        self.step(state, x)
    }

    /// Whether the layer's step gains from AVX-512 (a recurrent state of 16 `f32` or more):
    /// the task it runs in is then compiled for it too (the same bits either way).
    #[doc(hidden)]
    const WIDE_TASK: bool = false;
}

/// `layer.step(state, x)` in one function compiled for the best instruction set the CPU has,
/// the layer's kernels inlined through [`Stream::step_with`]: how the crate's layers
/// implement `step`.
#[inline(always)]
pub(crate) fn step_in_task<S: Stream + ?Sized>(
    layer: &S,
    state: &mut S::State,
    x: &S::InFrame,
) -> S::OutFrame {
    in_best_simd_wide(Step { layer, state, x }, S::WIDE_TASK)
}

/// [`step_in_task`]'s work.
struct Step<'a, S: Stream + ?Sized> {
    layer: &'a S,
    state: &'a mut S::State,
    x: &'a S::InFrame,
}

impl<S: Stream + ?Sized> SimdTask for Step<'_, S> {
    type Output = S::OutFrame;
    #[inline(always)]
    fn run<M: MulAdd>(self) -> S::OutFrame {
        self.layer.step_with::<InTask<M>>(self.state, self.x)
    }
}

/// [`Stream::process`]'s work.
struct Process<'a, S: Stream + ?Sized> {
    layer: &'a S,
    state: &'a mut S::State,
    xs: &'a [S::InFrame],
    ys: &'a mut [S::OutFrame],
}

impl<S: Stream + ?Sized> SimdTask for Process<'_, S> {
    type Output = ();
    #[inline(always)]
    fn run<M: MulAdd>(self) {
        for (y, x) in self.ys.iter_mut().zip(self.xs) {
            *y = self.layer.step_with::<InTask<M>>(self.state, x);
        }
    }
}

/// `first` then `second`, frame by frame; the state is the pair of the parts' states.
impl<A: Stream, B: Stream<InFrame = A::OutFrame>> Stream for Chain<A, B> {
    type InFrame = A::InFrame;
    type OutFrame = B::OutFrame;
    type State = (A::State, B::State);

    /// The whole chain in one function compiled for the CPU's instruction set.
    #[inline]
    fn step(&self, state: &mut Self::State, x: &A::InFrame) -> B::OutFrame {
        step_in_task(self, state, x)
    }

    #[inline(always)]
    fn step_with<K: Kernels>(&self, state: &mut Self::State, x: &A::InFrame) -> B::OutFrame {
        let h = self.first.step_with::<K>(&mut state.0, x);
        self.second.step_with::<K>(&mut state.1, &h)
    }

    const WIDE_TASK: bool = A::WIDE_TASK || B::WIDE_TASK;
}

/// Implements [`Stream`] for a stateless layer whose `forward_with` is its streaming step.
macro_rules! stateless_stream {
    (impl[$($generics:tt)*] for $ty:ty, $frame:ty => $out:ty) => {
        impl<$($generics)*> $crate::stream::Stream for $ty {
            type InFrame = $frame;
            type OutFrame = $out;
            type State = ();
            /// The layer's (inference) [`forward`](crate::Layer::forward).
            #[inline]
            fn step(&self, _state: &mut (), x: &$frame) -> $out {
                $crate::layer::Layer::forward(self, x)
            }
            #[inline(always)]
            fn step_with<K: $crate::kernel::Kernels>(&self, _state: &mut (), x: &$frame) -> $out {
                $crate::layer::Layer::forward_with::<K>(self, x)
            }
        }
    };
}
pub(crate) use stateless_stream;
