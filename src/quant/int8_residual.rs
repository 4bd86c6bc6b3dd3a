//! `Int8Residual`: `act(F(x) + S(x))` in int8, TensorFlow Lite's ADD joining a block's body
//! and its shortcut.

use core::marker::PhantomData;

use super::{
    Int8Layer, Int8Tensor, Quantization, QuantizationMismatch, QuantizedMultiplier, clamp_i8,
};
use crate::zeros::{InPlace, Zeros};

/// TensorFlow Lite's int8 `ADD` of two tensors of one shape, each with its own
/// quantization: both inputs are shifted left by 20 bits and rescaled to twice the larger
/// input scale, summed, requantized to the output and clamped by the fused activation.
///
/// ```
/// use constnet::quant::{FusedActivation, Int8Add, Quantization, activation_range};
/// let a = Quantization::new(0.1, 0);
/// let b = Quantization::new(0.2, 0);
/// let out = Quantization::new(0.1, 0);
/// let add = Int8Add::from_scales(a, b, out, activation_range(FusedActivation::None, out));
/// assert_eq!(add.add(10, 5), 20); // 1.0 + 1.0 = 2.0
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Int8Add {
    /// The first operand's quantization (TensorFlow Lite's `input1`).
    pub first: Quantization,
    /// The second operand's quantization.
    pub second: Quantization,
    /// The sum's quantization.
    pub output: Quantization,
    /// The first operand's rescaling.
    pub first_multiplier: QuantizedMultiplier,
    /// The second operand's rescaling.
    pub second_multiplier: QuantizedMultiplier,
    /// The sum's requantization.
    pub output_multiplier: QuantizedMultiplier,
    /// The output clamp `[min, max]`.
    pub range: [i8; 2],
}

/// TensorFlow Lite's `left_shift` for int8 ADD.
const LEFT_SHIFT: i32 = 20;

impl Int8Add {
    /// The addition with TensorFlow Lite's multipliers: `twice_max = 2 · max(s1, s2)`,
    /// `s1 / twice_max`, `s2 / twice_max` and `twice_max / (2^20 · s_out)`.
    pub fn from_scales(
        first: Quantization,
        second: Quantization,
        output: Quantization,
        range: [i8; 2],
    ) -> Self {
        let twice_max = (2.0 * first.scale.max(second.scale)) as f64;
        let output_step = ((1i32 << LEFT_SHIFT) as f32 * output.scale) as f64;
        Int8Add {
            first,
            second,
            output,
            first_multiplier: QuantizedMultiplier::from_real(first.scale as f64 / twice_max),
            second_multiplier: QuantizedMultiplier::from_real(second.scale as f64 / twice_max),
            output_multiplier: QuantizedMultiplier::from_real(twice_max / output_step),
            range,
        }
    }

    /// The sum of one pair of values.
    #[inline(always)]
    pub fn add(&self, a: i8, b: i8) -> i8 {
        let a = ((a as i32) - self.first.zero_point).wrapping_mul(1 << LEFT_SHIFT);
        let b = ((b as i32) - self.second.zero_point).wrapping_mul(1 << LEFT_SHIFT);
        let sum = self
            .first_multiplier
            .apply(a)
            .wrapping_add(self.second_multiplier.apply(b));
        let v = clamp_i8(
            self.output_multiplier
                .apply(sum)
                .wrapping_add(self.output.zero_point),
        );
        v.clamp(self.range[0], self.range[1])
    }
}

impl Zeros for Int8Add {
    fn zeros() -> Self {
        Int8Add {
            range: [-128, 127],
            ..Int8Add::default()
        }
    }
}

/// The identity shortcut of an [`Int8Residual`]: its input, unchanged, with the block's input
/// quantization.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Int8Skip<X> {
    quantization: Quantization,
    shape: PhantomData<X>,
}

impl<X> Int8Skip<X> {
    /// The shortcut of a block whose input is quantized as `quantization`.
    pub const fn new(quantization: Quantization) -> Self {
        Int8Skip {
            quantization,
            shape: PhantomData,
        }
    }

    #[cfg_attr(not(feature = "tflite"), allow(dead_code))]
    #[cfg_attr(not(feature = "tflite"), allow(dead_code))]
    pub(crate) fn set(&mut self, quantization: Quantization) {
        self.quantization = quantization;
    }
}

impl<X> Zeros for Int8Skip<X> {
    fn zeros() -> Self {
        Self::new(Quantization::default())
    }
}

impl<X: Copy + Zeros> Int8Layer for Int8Skip<X> {
    type Input = X;
    type Output = X;
    type Scratch = ();

    fn input_quantization(&self) -> Quantization {
        self.quantization
    }

    fn output_quantization(&self) -> Quantization {
        self.quantization
    }

    fn forward_into(&self, x: &X, y: &mut X, _: &mut ()) {
        *y = *x;
    }
}

/// A residual block `out = F(x) + S(x)` in int8, the addition TensorFlow Lite's `ADD`
/// ([`Int8Add`], with the fused activation's clamp); `S` is [`Int8Skip`] for an identity
/// shortcut or a layer (a 1×1 strided convolution) for a projection. The body's operators
/// come first, then the shortcut's, then the addition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Int8Residual<F, S> {
    /// The body `F`.
    pub body: F,
    /// The shortcut `S`.
    pub shortcut: S,
    /// The addition: `first` is the shortcut's output, `second` the body's.
    pub add: Int8Add,
}

/// What an [`Int8Residual`]'s forward needs: both branches' outputs and their scratch.
#[derive(Clone, Copy, Debug)]
pub struct Int8ResidualScratch<Y, SF, SS> {
    body: Y,
    shortcut: Y,
    body_scratch: SF,
    shortcut_scratch: SS,
}

impl<Y: Zeros, SF: Zeros, SS: Zeros> Zeros for Int8ResidualScratch<Y, SF, SS> {
    fn zeros() -> Self {
        Int8ResidualScratch {
            body: Y::zeros(),
            shortcut: Y::zeros(),
            body_scratch: SF::zeros(),
            shortcut_scratch: SS::zeros(),
        }
    }

    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Int8ResidualScratch {
                body: Y::zeros_in_place,
                shortcut: Y::zeros_in_place,
                body_scratch: SF::zeros_in_place,
                shortcut_scratch: SS::zeros_in_place
            }
        )
    }
}

impl<F: Zeros, S: Zeros> Zeros for Int8Residual<F, S> {
    fn zeros() -> Self {
        Int8Residual {
            body: F::zeros(),
            shortcut: S::zeros(),
            add: Int8Add::zeros(),
        }
    }

    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Int8Residual {
                body: F::zeros_in_place,
                shortcut: S::zeros_in_place,
                add: Int8Add::zeros_in_place
            }
        )
    }
}

impl<F, S> Int8Layer for Int8Residual<F, S>
where
    F: Int8Layer,
    F::Output: Int8Tensor,
    S: Int8Layer<Input = F::Input, Output = F::Output>,
{
    type Input = F::Input;
    type Output = F::Output;
    type Scratch = Int8ResidualScratch<F::Output, F::Scratch, S::Scratch>;
    const LAYERS: usize = F::LAYERS + S::LAYERS + 1;

    fn input_quantization(&self) -> Quantization {
        self.body.input_quantization()
    }

    fn output_quantization(&self) -> Quantization {
        self.add.output
    }

    fn forward_into(&self, x: &Self::Input, y: &mut Self::Output, scratch: &mut Self::Scratch) {
        self.body
            .forward_into(x, &mut scratch.body, &mut scratch.body_scratch);
        self.shortcut
            .forward_into(x, &mut scratch.shortcut, &mut scratch.shortcut_scratch);
        let params = crate::kernel::AddParams {
            first_zero: self.add.first.zero_point,
            first: self.add.first_multiplier,
            second_zero: self.add.second.zero_point,
            second: self.add.second_multiplier,
            output: self.add.output_multiplier,
            output_zero: self.add.output.zero_point,
            range: self.add.range,
        };
        crate::kernel::int8_add(
            scratch.shortcut.values(),
            scratch.body.values(),
            &params,
            y.values_mut(),
        );
    }

    fn use_fixed_point(&mut self) {
        self.body.use_fixed_point();
        self.shortcut.use_fixed_point();
    }

    fn check(&self, first: usize) -> Result<(), QuantizationMismatch> {
        self.body.check(first)?;
        let shortcut_at = first + F::LAYERS;
        let (block_input, shortcut_input) = (
            self.body.input_quantization(),
            self.shortcut.input_quantization(),
        );
        if !block_input.same_as(shortcut_input) {
            return Err(QuantizationMismatch {
                layer: shortcut_at,
                produced: block_input,
                expected: shortcut_input,
            });
        }
        self.shortcut.check(shortcut_at)?;
        let add_at = shortcut_at + S::LAYERS;
        for (produced, expected) in [
            (self.shortcut.output_quantization(), self.add.first),
            (self.body.output_quantization(), self.add.second),
        ] {
            if !produced.same_as(expected) {
                return Err(QuantizationMismatch {
                    layer: add_at,
                    produced,
                    expected,
                });
            }
        }
        Ok(())
    }
}
