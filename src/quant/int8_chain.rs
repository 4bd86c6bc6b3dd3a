//! `Int8Chain`: two int8 layers, the second reading the first's output.

use super::{Int8Layer, Quantization, QuantizationMismatch};
use crate::zeros::{InPlace, Zeros};

/// Two int8 layers run in order; written as a type with [`int8_seq!`](crate::int8_seq). The
/// tensor between them lives in the chain's [`Scratch`](Int8Layer::Scratch).
///
/// A chain whose shapes do not meet does not compile:
/// ```compile_fail
/// use constnet::int8_seq;
/// use constnet::quant::{Int8Dense, Int8Layer};
/// type Net = int8_seq![Int8Dense<4, 8>, Int8Dense<9, 2>];
/// let net = <Net as constnet::Zeros>::zeros();
/// let _ = net.forward(&[0; 4]);
/// ```
/// and with matching sizes it does:
/// ```
/// use constnet::int8_seq;
/// use constnet::quant::{Int8Dense, Int8Layer};
/// type Net = int8_seq![Int8Dense<4, 8>, Int8Dense<8, 2>];
/// let net = <Net as constnet::Zeros>::zeros();
/// assert_eq!(net.forward(&[0; 4]).len(), 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Int8Chain<A, B> {
    /// The first layer.
    pub first: A,
    /// The layer applied to the first one's output.
    pub second: B,
}

impl<A, B> Int8Chain<A, B> {
    /// Composes two layers.
    pub const fn new(first: A, second: B) -> Self {
        Int8Chain { first, second }
    }
}

/// Names a chain of int8 layers as a type: `int8_seq![L1, L2, L3]` is
/// `Int8Chain<L1, Int8Chain<L2, L3>>`.
#[macro_export]
macro_rules! int8_seq {
    ($only:ty $(,)?) => { $only };
    ($first:ty, $($rest:ty),+ $(,)?) => { $crate::quant::Int8Chain<$first, $crate::int8_seq![$($rest),+]> };
}

/// The scratch of a chain: the tensor between its layers and each layer's own scratch.
#[derive(Clone, Copy, Debug)]
pub struct Int8ChainScratch<H, SA, SB> {
    hidden: H,
    first: SA,
    second: SB,
}

impl<H: Zeros, SA: Zeros, SB: Zeros> Zeros for Int8ChainScratch<H, SA, SB> {
    fn zeros() -> Self {
        Int8ChainScratch {
            hidden: H::zeros(),
            first: SA::zeros(),
            second: SB::zeros(),
        }
    }

    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Int8ChainScratch {
                hidden: H::zeros_in_place,
                first: SA::zeros_in_place,
                second: SB::zeros_in_place
            }
        )
    }
}

impl<A: Zeros, B: Zeros> Zeros for Int8Chain<A, B> {
    fn zeros() -> Self {
        Int8Chain::new(A::zeros(), B::zeros())
    }

    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Int8Chain {
                first: A::zeros_in_place,
                second: B::zeros_in_place
            }
        )
    }
}

impl<A: Int8Layer, B: Int8Layer<Input = A::Output>> Int8Layer for Int8Chain<A, B> {
    type Input = A::Input;
    type Output = B::Output;
    type Scratch = Int8ChainScratch<A::Output, A::Scratch, B::Scratch>;
    const LAYERS: usize = A::LAYERS + B::LAYERS;

    fn input_quantization(&self) -> Quantization {
        self.first.input_quantization()
    }

    fn output_quantization(&self) -> Quantization {
        self.second.output_quantization()
    }

    #[inline]
    fn forward_into(&self, x: &Self::Input, y: &mut Self::Output, scratch: &mut Self::Scratch) {
        self.first
            .forward_into(x, &mut scratch.hidden, &mut scratch.first);
        self.second
            .forward_into(&scratch.hidden, y, &mut scratch.second);
    }

    fn use_fixed_point(&mut self) {
        self.first.use_fixed_point();
        self.second.use_fixed_point();
    }

    fn check(&self, first: usize) -> Result<(), QuantizationMismatch> {
        self.first.check(first)?;
        let produced = self.first.output_quantization();
        let expected = self.second.input_quantization();
        if !produced.same_as(expected) {
            return Err(QuantizationMismatch {
                layer: first + A::LAYERS,
                produced,
                expected,
            });
        }
        self.second.check(first + A::LAYERS)
    }
}
