//! Streaming inference with a [`Conv1d`]: one frame in, one frame out, the history in a ring
//! buffer.
//!
//! [`Conv1d::step`] runs the layer **causally**: output frame `n` sees input frames
//! `n − DILATION·(K − 1)`, ..., `n − DILATION`, `n` (frames before the first are zeros). That
//! is the windowed layer on the same signal with `DILATION·(K − 1)` zeros of left padding and
//! none on the right: streaming `x[0..N]` gives the first `N` outputs of a `Conv1d` with
//! `PADDING = 0` over `DILATION·(K − 1)` zero frames followed by `x`. The layer's own `L`,
//! `L_OUT` and `PADDING` do not matter here (the same weights serve both forms), but
//! streaming needs `STRIDE = 1` (a strided stream would give an output only every `STRIDE`
//! frames): both are compile-time checks, like the history's length.
//!
//! A step allocates nothing, works without `std`, and costs the `K` taps of one output frame
//! plus one frame copy into the ring.

use crate::kernel::{InTask, Kernels, MulAdd, SimdTask, in_best_simd};
use crate::layers::conv1d::{Conv1d, conv1d_impl};
use crate::scalar::Scalar;
use crate::stream::Stream;
use crate::zeros::Zeros;

/// The history of a streaming [`Conv1d`]: the last `HISTORY` input frames, in a ring buffer.
///
/// `HISTORY` must be `DILATION·(K − 1)` of the layer it is used with (checked at compile
/// time when [`Conv1d::step`] is instantiated). A new or [`reset`](Conv1dStream::reset)
/// stream holds zeros: the signal starts after silence.
///
/// ```
/// use constnet::{Conv1d, Conv1dStream, Identity, Layer};
/// // A causal moving sum over 3 frames (K = 3, DILATION = 1: a history of 2 frames).
/// let conv = Conv1d::<1, 1, 3, 3, 1, Identity, f64>::from_pytorch([[[1.0, 1.0, 1.0]]], [0.0]);
/// let mut stream = Conv1dStream::<1, 2, f64>::new();
/// let out: Vec<f64> = [1.0, 2.0, 3.0, 4.0].iter().map(|&x| conv.step(&mut stream, &[x])[0]).collect();
/// assert_eq!(out, [1.0, 3.0, 6.0, 9.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv1dStream<const C_IN: usize, const HISTORY: usize, T = f32> {
    /// The last `HISTORY` frames; `frames[next]` is the oldest (the next to be replaced).
    frames: [[T; C_IN]; HISTORY],
    next: usize,
}

impl<const C_IN: usize, const HISTORY: usize, T: Scalar> Conv1dStream<C_IN, HISTORY, T> {
    /// A stream whose history is all zeros.
    pub fn new() -> Self {
        Conv1dStream {
            frames: [[T::zero(); C_IN]; HISTORY],
            next: 0,
        }
    }

    /// Forgets the history (all zeros again), as at the start of a new signal.
    pub fn reset(&mut self) {
        *self = Self::new();
    }
}

impl<const C_IN: usize, const HISTORY: usize, T: Scalar> FrameHistory<C_IN, T>
    for Conv1dStream<C_IN, HISTORY, T>
{
    #[inline(always)]
    fn back(&self, age: usize) -> &[T; C_IN] {
        let index = if self.next >= age {
            self.next - age
        } else {
            self.next + HISTORY - age
        };
        &self.frames[index]
    }

    #[inline(always)]
    fn push(&mut self, frame: &[T; C_IN]) {
        if HISTORY > 0 {
            self.frames[self.next] = *frame;
            self.next = if self.next + 1 == HISTORY {
                0
            } else {
                self.next + 1
            };
        }
    }
}

impl<const C_IN: usize, const HISTORY: usize, T: Scalar> Default
    for Conv1dStream<C_IN, HISTORY, T>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const C_IN: usize, const HISTORY: usize, T: Scalar> Zeros for Conv1dStream<C_IN, HISTORY, T> {
    fn zeros() -> Self {
        Self::new()
    }
}

crate::impl_zero_bits!(unsafe impl[const C_IN: usize, const HISTORY: usize, T: crate::ZeroBits] for Conv1dStream<C_IN, HISTORY, T> { frames, next });

/// A streaming convolution's history: the last input frames.
pub(crate) trait FrameHistory<const C_IN: usize, T> {
    /// The frame `age` steps back (`1` is the latest pushed), for `1 ≤ age ≤` the history's
    /// length.
    fn back(&self, age: usize) -> &[T; C_IN];
    /// Appends `frame`, dropping the oldest.
    fn push(&mut self, frame: &[T; C_IN]);
}

/// The state of a [`Conv1d`] (or [`CausalConv1d`](crate::CausalConv1d)) streamed through
/// [`Stream`]: the last `K·DILATION` input frames in a ring buffer (the step reads
/// `DILATION·(K − 1)` of them; a type cannot compute that length, so the ring holds
/// `DILATION` frames more). Starts as zeros: the signal begins after silence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv1dHistory<const C_IN: usize, const K: usize, const DILATION: usize, T = f32> {
    /// `K·DILATION` frames; frame `next` (flattened) is the oldest.
    frames: [[[T; C_IN]; DILATION]; K],
    next: usize,
}

impl<const C_IN: usize, const K: usize, const DILATION: usize, T: Scalar> Zeros
    for Conv1dHistory<C_IN, K, DILATION, T>
{
    fn zeros() -> Self {
        Conv1dHistory {
            frames: [[[T::zero(); C_IN]; DILATION]; K],
            next: 0,
        }
    }

    /// In place, field by field.
    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> crate::zeros::InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Conv1dHistory {
                frames: crate::zeros::Zeros::zeros_in_place,
                next: |s| crate::zeros::InPlace::write(s, 0)
            }
        )
    }
}

crate::impl_zero_bits!(unsafe impl[const C_IN: usize, const K: usize, const DILATION: usize, T: crate::ZeroBits] for Conv1dHistory<C_IN, K, DILATION, T> { frames, next });

impl<const C_IN: usize, const K: usize, const DILATION: usize, T: Scalar> FrameHistory<C_IN, T>
    for Conv1dHistory<C_IN, K, DILATION, T>
{
    #[inline(always)]
    fn back(&self, age: usize) -> &[T; C_IN] {
        let len = K * DILATION;
        let index = if self.next >= age {
            self.next - age
        } else {
            self.next + len - age
        };
        &self.frames.as_flattened()[index]
    }

    #[inline(always)]
    fn push(&mut self, frame: &[T; C_IN]) {
        let len = K * DILATION;
        self.frames.as_flattened_mut()[self.next] = *frame;
        self.next = if self.next + 1 == len {
            0
        } else {
            self.next + 1
        };
    }
}

conv1d_impl!(impl[] Conv1d {
    /// One causal streaming step: the output frame for the input `frame`, given the history
    /// in `stream`, which then takes `frame` in. Allocation-free, also without `std`.
    ///
    /// Output frame `n` sees input frames `n − DILATION·(K − 1)`, ..., `n − DILATION`, `n`
    /// (zeros before the first frame): streaming `x[0..N]` gives the windowed layer's output
    /// on `DILATION·(K − 1)` zero frames followed by `x`, with `PADDING = 0` (causal padding,
    /// on the left only). The layer's own `L`, `L_OUT` and `PADDING` play no part (the same
    /// weights serve both forms); `STRIDE` must be 1 (a strided stream would give an output
    /// only every `STRIDE` frames). [`Stream::step`] is the same step with a
    /// [`Conv1dHistory`] state, which needs no `HISTORY` parameter.
    ///
    /// Compile-time checks: the layer's parameters (as for the windowed layer), `STRIDE = 1`
    /// and `HISTORY = DILATION·(K − 1)`:
    /// ```compile_fail
    /// use constnet::{Conv1d, Conv1dStream, Zeros};
    /// let conv = Conv1d::<1, 1, 3, 8, 6>::zeros();
    /// let _ = conv.step(&mut Conv1dStream::<1, 3>::new(), &[1.0]); // K = 3 needs HISTORY 2
    /// ```
    #[inline]
    pub fn step<const HISTORY: usize>(
        &self,
        stream: &mut Conv1dStream<C_IN, HISTORY, T>,
        frame: &[T; C_IN],
    ) -> [T; C_OUT] {
        let mut y = [[T::zero(); C_OUT]];
        self.step_block(stream, core::slice::from_ref(frame), &mut y);
        y[0]
    }

    /// One step with the kernels of `Kn` (the activation inlined in a streaming task).
    #[inline(always)]
    pub(crate) fn step_with_history<Kn: Kernels, S: FrameHistory<C_IN, T>>(
        &self,
        stream: &mut S,
        frame: &[T; C_IN],
    ) -> [T; C_OUT] {
        let mut z = *self.bias();
        for (k, wk) in self.weight_taps().iter().enumerate() {
            let age = (K - 1 - k) * DILATION;
            let x = if age == 0 { frame } else { stream.back(age) };
            Self::tap(wk, x, &mut z);
        }
        stream.push(frame);
        let mut y = [T::zero(); C_OUT];
        self.activation.forward_with::<Kn, C_OUT>(&z, &mut y);
        y
    }

    /// [`step`](Conv1d::step) over a block of frames (an audio buffer): `out[i]` is the output
    /// for `frames[i]`.
    ///
    /// # Panics
    /// When `frames` and `out` differ in length.
    ///
    /// ```
    /// use constnet::{Conv1d, Conv1dStream, Identity};
    /// // Causal first difference, dilation 2: y[n] = x[n] − x[n − 2].
    /// let conv = Conv1d::<1, 1, 2, 4, 2, Identity, f64, 1, 0, 2>::from_pytorch([[[-1.0, 1.0]]], [0.0]);
    /// let mut stream = Conv1dStream::<1, 2, f64>::new();
    /// let mut out = [[0.0]; 5];
    /// conv.step_block(&mut stream, &[[1.0], [2.0], [4.0], [8.0], [16.0]], &mut out);
    /// assert_eq!(out, [[1.0], [2.0], [3.0], [6.0], [12.0]]);
    /// ```
    pub fn step_block<const HISTORY: usize>(
        &self,
        stream: &mut Conv1dStream<C_IN, HISTORY, T>,
        frames: &[[T; C_IN]],
        out: &mut [[T; C_OUT]],
    ) {
        const {
            Self::SHAPE.check();
            Self::SHAPE.check_stream(HISTORY);
        }
        assert_eq!(
            frames.len(),
            out.len(),
            "Conv1d::step_block: {} input frames but room for {} outputs",
            frames.len(),
            out.len()
        );
        in_best_simd(StreamBlock {
            conv: self,
            stream,
            frames,
            out,
        });
    }
});

/// [`Conv1d::step_block`]'s work as one [`SimdTask`]: the taps and the activation compiled
/// for the best instruction set the CPU has, one dispatch per block (per frame for
/// [`Conv1d::step`]). The taps are the windowed layer's own code (multiplies and adds, no
/// fused operations), so the streamed frames keep its bits.
struct StreamBlock<'a, C: StreamingConv<S>, S> {
    conv: &'a C,
    stream: &'a mut S,
    frames: &'a [C::Frame],
    out: &'a mut [C::Output],
}

impl<C: StreamingConv<S>, S> SimdTask for StreamBlock<'_, C, S> {
    type Output = ();
    #[inline(always)]
    fn run<M: MulAdd>(self) {
        for (y, x) in self.out.iter_mut().zip(self.frames) {
            *y = self.conv.step_in::<InTask<M>>(self.stream, x);
        }
    }
}

/// A [`Conv1d`] seen by [`StreamBlock`]: its frame types and its step over the history `S`
/// (spares the task the layer's twelve parameters).
trait StreamingConv<S> {
    type Frame;
    type Output;
    fn step_in<Kn: Kernels>(&self, stream: &mut S, frame: &Self::Frame) -> Self::Output;
}

conv1d_impl!(impl[S: FrameHistory<C_IN, T>] StreamingConv<S> for Conv1d {
    type Frame = [T; C_IN];
    type Output = [T; C_OUT];
    #[inline(always)]
    fn step_in<Kn: Kernels>(&self, stream: &mut S, frame: &[T; C_IN]) -> [T; C_OUT] {
        self.step_with_history::<Kn, S>(stream, frame)
    }
});

conv1d_impl!(impl[] Stream for Conv1d {
    type InFrame = [T; C_IN];
    type OutFrame = [T; C_OUT];
    type State = Conv1dHistory<C_IN, K, DILATION, T>;

    /// The causal step of [`Conv1d::step`], its history in a [`Conv1dHistory`].
    #[inline]
    fn step(&self, state: &mut Self::State, x: &[T; C_IN]) -> [T; C_OUT] {
        crate::stream::step_in_task(self, state, x)
    }

    #[inline(always)]
    fn step_with<Kn: Kernels>(&self, state: &mut Self::State, x: &[T; C_IN]) -> [T; C_OUT] {
        const {
            Self::SHAPE.check();
            Self::SHAPE.check_stream(DILATION * (K - 1));
        }
        self.step_with_history::<Kn, _>(state, x)
    }
});
