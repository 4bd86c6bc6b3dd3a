//! `Int8Dense`: TensorFlow Lite's int8 FULLY_CONNECTED.

use super::{Int8Layer, Quantization, Requantize, clamp_i8};
use crate::zeros::{InPlace, Zeros};

/// TensorFlow Lite's int8 `FULLY_CONNECTED`: `y = clamp(M_o · (Σ_i w[o][i] · (x[i] − z_x) +
/// bias[o]) + z_y)` with int8 weights (zero point 0; one scale per output, which also holds a
/// per-tensor scale), int32 bias, int32 accumulation and a [`Requantize`] per output.
///
/// Which requantization: LiteRT's reference kernel (the contract its converter's outputs are
/// checked against) rounds `f64(acc) · M` ([`Requantize::Exact`], which
/// [`from_scales`](Int8Dense::from_scales) and the `.tflite` importer choose), while TensorFlow
/// Lite Micro uses the fixed-point multiplier of its convolutions
/// ([`Requantize::FixedPoint`]; [`to_fixed_point`](Int8Dense::to_fixed_point) converts a layer,
/// [`Int8Layer::use_fixed_point`] a whole network). Both are integer-only here, and each equals
/// its runtime on every output of the project's test models.
///
/// ```
/// use constnet::quant::{FusedActivation, Int8Dense, Int8Layer, Quantization, activation_range};
/// let input = Quantization::new(0.5, -1);
/// let output = Quantization::new(0.25, 3);
/// // One output, weights (2, -1) with scale 0.5: y = 0.5·0.5·(2·(x0+1) − (x1+1)) / 0.25.
/// let layer = Int8Dense::<2, 1>::from_scales(
///     [[2, -1]], [0], input, &[0.5], output, activation_range(FusedActivation::None, output));
/// assert_eq!(layer.forward(&[3, 1]), [3 + 6]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
// The weights start on a cache line, as `Dense`'s do: the VNNI kernels read them 64 bytes at
// a time from there, and loads straddling two lines made M int8 half as slow again (1.40
// against 0.92 µs on the Xeon, a probe moving the heap address).
#[repr(C, align(64))]
pub struct Int8Dense<const IN: usize, const OUT: usize> {
    weights: [[i8; IN]; OUT],
    bias: [i32; OUT],
    requantize: [Requantize; OUT],
    input: Quantization,
    output: Quantization,
    range: [i8; 2],
    /// `bias[o] − z_x · Σ_i w[o][i]` (wrapping), so the product needs no offset.
    folded_bias: [i32; OUT],
    /// `Σ_i w[o][i]`, which the VNNI kernel needs.
    weight_sums: [i32; OUT],
    /// Each output's exact scale as an `f64` when every output is [`Requantize::Exact`]
    /// (then requantized in one vectorized pass; unused otherwise).
    scales: [f64; OUT],
    /// Whether every output is [`Requantize::Exact`].
    exact: bool,
}

/// Each exact scale as its `f64`, and whether all requantizations are exact.
const fn exact_scales<const OUT: usize>(requantize: &[Requantize; OUT]) -> ([f64; OUT], bool) {
    let mut scales = [0.0f64; OUT];
    let mut exact = true;
    let mut o = 0;
    while o < OUT {
        match requantize[o] {
            Requantize::Exact(s) => scales[o] = s.to_real(),
            Requantize::FixedPoint(_) => exact = false,
        }
        o += 1;
    }
    (scales, exact)
}

impl<const IN: usize, const OUT: usize> Int8Dense<IN, OUT> {
    /// Whether the weights are kept in the packed order of the VNNI kernel (16 outputs × 4
    /// inputs per 64-byte block): with 8 or more outputs.
    const PACKED: bool = crate::kernel::packable(OUT, IN);

    /// Where weight `(o, i)` is kept.
    const fn at(o: usize, i: usize) -> usize {
        if Self::PACKED {
            crate::kernel::packed_index(o, i, IN, OUT)
        } else {
            o * IN + i
        }
    }

    /// The layer from its integers: `weights[o][i]` (TensorFlow Lite's `[OUT, IN]` order), the
    /// int32 bias, one requantization per output, the input and output quantization and the
    /// output clamp `[min, max]` (see [`activation_range`](super::activation_range)).
    pub const fn new(
        weights: [[i8; IN]; OUT],
        bias: [i32; OUT],
        requantize: [Requantize; OUT],
        input: Quantization,
        output: Quantization,
        range: [i8; 2],
    ) -> Self {
        let weight_sums = row_sums(weights.as_flattened());
        let folded_bias = fold_bias(&weight_sums, &bias, input.zero_point);
        let (scales, exact) = exact_scales(&requantize);
        let weights = if Self::PACKED {
            let mut stored = [[0i8; IN]; OUT];
            let mut o = 0;
            while o < OUT {
                let mut i = 0;
                while i < IN {
                    let k = Self::at(o, i);
                    stored[k / IN][k % IN] = weights[o][i];
                    i += 1;
                }
                o += 1;
            }
            stored
        } else {
            weights
        };
        Int8Dense {
            weights,
            bias,
            requantize,
            input,
            output,
            range,
            folded_bias,
            weight_sums,
            scales,
            exact,
        }
    }

    /// The layer with LiteRT's reference requantization from the weight scales (one per
    /// output, or one for all): `input_scale · weight_scale / output_scale` in `f64`.
    pub fn from_scales(
        weights: [[i8; IN]; OUT],
        bias: [i32; OUT],
        input: Quantization,
        weight_scales: &[f32],
        output: Quantization,
        range: [i8; 2],
    ) -> Self {
        let requantize = core::array::from_fn(|o| {
            let scale = weight_scales[if weight_scales.len() == 1 { 0 } else { o }];
            Requantize::Exact(crate::quant::dense_scale(input, scale, output))
        });
        Self::new(weights, bias, requantize, input, output, range)
    }

    /// The same layer with TensorFlow Lite Micro's fixed-point requantization.
    pub fn to_fixed_point(mut self) -> Self {
        self.use_fixed_point();
        self
    }

    /// Weight `(o, i)` (output `o`, input `i`).
    pub fn weight(&self, o: usize, i: usize) -> i8 {
        assert!(
            o < OUT && i < IN,
            "Int8Dense::weight: ({o}, {i}) outside {OUT}×{IN}"
        );
        self.weights.as_flattened()[Self::at(o, i)]
    }

    /// All weights, `weights[o][i]` (TensorFlow Lite's `[OUT, IN]` order), copied out of the
    /// kernel's order.
    pub fn weights(&self) -> [[i8; IN]; OUT] {
        core::array::from_fn(|o| core::array::from_fn(|i| self.weight(o, i)))
    }

    /// The int32 bias.
    pub fn bias(&self) -> &[i32; OUT] {
        &self.bias
    }

    /// The requantization of each output.
    pub fn requantize(&self) -> &[Requantize; OUT] {
        &self.requantize
    }

    /// The output clamp `[min, max]`.
    pub fn range(&self) -> [i8; 2] {
        self.range
    }

    /// Replaces every value (the importers' write, after every check passed).
    #[cfg_attr(not(feature = "tflite"), allow(dead_code))]
    pub(crate) fn set(
        &mut self,
        weights: impl Fn(usize, usize) -> i8,
        bias: impl Fn(usize) -> i32,
        requantize: impl Fn(usize) -> Requantize,
        input: Quantization,
        output: Quantization,
        range: [i8; 2],
    ) {
        let flat = self.weights.as_flattened_mut();
        for o in 0..OUT {
            let mut sum = 0i32;
            for i in 0..IN {
                let w = weights(o, i);
                flat[Self::at(o, i)] = w;
                sum = sum.wrapping_add(w as i32);
            }
            self.weight_sums[o] = sum;
            self.bias[o] = bias(o);
            self.requantize[o] = requantize(o);
        }
        self.input = input;
        self.output = output;
        self.range = range;
        self.folded_bias = fold_bias(&self.weight_sums, &self.bias, input.zero_point);
        (self.scales, self.exact) = exact_scales(&self.requantize);
    }
}

/// `Σ_k w[o][k]` of each of the `OUT` rows of equal length in `weights`, wrapping.
pub(crate) const fn row_sums<const OUT: usize>(weights: &[i8]) -> [i32; OUT] {
    let mut sums = [0i32; OUT];
    let row = match weights.len().checked_div(OUT) {
        Some(row) => row,
        None => 0,
    };
    let mut o = 0;
    while o < OUT {
        let mut sum = 0i32;
        let mut k = 0;
        while k < row {
            sum = sum.wrapping_add(weights[o * row + k] as i32);
            k += 1;
        }
        sums[o] = sum;
        o += 1;
    }
    sums
}

/// `bias[o] − zero_point · sums[o]`, wrapping as the int32 accumulator does.
pub(crate) const fn fold_bias<const OUT: usize>(
    sums: &[i32; OUT],
    bias: &[i32; OUT],
    zero_point: i32,
) -> [i32; OUT] {
    let mut folded = [0i32; OUT];
    let mut o = 0;
    while o < OUT {
        folded[o] = bias[o].wrapping_sub(zero_point.wrapping_mul(sums[o]));
        o += 1;
    }
    folded
}

/// `v + zero_point`, saturated to int8, then clamped to `range`.
#[inline(always)]
pub(crate) fn clamp_output(v: i32, zero_point: i32, range: [i8; 2]) -> i8 {
    let v = v.wrapping_add(zero_point);
    let v = clamp_i8(v);
    if v < range[0] {
        range[0]
    } else if v > range[1] {
        range[1]
    } else {
        v
    }
}

impl<const IN: usize, const OUT: usize> Zeros for Int8Dense<IN, OUT> {
    fn zeros() -> Self {
        Int8Dense {
            weights: Zeros::zeros(),
            bias: Zeros::zeros(),
            requantize: Zeros::zeros(),
            input: Quantization::default(),
            output: Quantization::default(),
            range: [-128, 127],
            folded_bias: Zeros::zeros(),
            weight_sums: Zeros::zeros(),
            scales: Zeros::zeros(),
            exact: false,
        }
    }

    fn zeros_in_place(slot: &mut core::mem::MaybeUninit<Self>) -> InPlace<'_, Self> {
        crate::kernel::init_fields!(
            slot,
            Int8Dense {
                weights: Zeros::zeros_in_place,
                bias: Zeros::zeros_in_place,
                requantize: Zeros::zeros_in_place,
                input: Zeros::zeros_in_place,
                output: Zeros::zeros_in_place,
                range: super::quantization::full_range,
                folded_bias: Zeros::zeros_in_place,
                weight_sums: Zeros::zeros_in_place,
                scales: Zeros::zeros_in_place,
                exact: Zeros::zeros_in_place,
            }
        )
    }
}

impl<const IN: usize, const OUT: usize> Int8Layer for Int8Dense<IN, OUT> {
    type Input = [i8; IN];
    type Output = [i8; OUT];
    type Scratch = ();

    fn use_fixed_point(&mut self) {
        for r in &mut self.requantize {
            *r = r.to_fixed_point();
        }
        (self.scales, self.exact) = exact_scales(&self.requantize);
    }

    fn input_quantization(&self) -> Quantization {
        self.input
    }

    fn output_quantization(&self) -> Quantization {
        self.output
    }

    #[inline]
    fn forward_into(&self, x: &[i8; IN], y: &mut [i8; OUT], _: &mut ()) {
        let mut acc = [0i32; OUT];
        if Self::PACKED {
            crate::kernel::int8_packed_product(
                [x],
                self.weights.as_flattened(),
                &self.weight_sums,
                &mut acc,
            );
        } else {
            crate::kernel::int8_matvec(x, self.weights.as_flattened(), &self.weight_sums, &mut acc);
        }
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        if self.exact {
            // LiteRT's f64 rounding, vectorized (the FPU's IEEE operations: the same bits).
            crate::kernel::in_best_simd_wide(
                ExactPass {
                    acc: &acc,
                    bias: &self.folded_bias,
                    scales: &self.scales,
                    zero_point: self.output.zero_point,
                    range: self.range,
                    out: y,
                },
                true,
            );
            return;
        }
        for o in 0..OUT {
            let total = acc[o].wrapping_add(self.folded_bias[o]);
            y[o] = clamp_output(
                self.requantize[o].apply(total),
                self.output.zero_point,
                self.range,
            );
        }
    }
}

/// `out[o] = clamp(round(f64(acc[o] + bias[o]) · scale[o]) + zero_point)`, rounding half away
/// from zero as C's `round` (and [`ExactScale::apply`]), written so it vectorizes.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
struct ExactPass<'a, const OUT: usize> {
    acc: &'a [i32; OUT],
    bias: &'a [i32; OUT],
    scales: &'a [f64; OUT],
    zero_point: i32,
    range: [i8; 2],
    out: &'a mut [i8; OUT],
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
impl<const OUT: usize> crate::kernel::SimdTask for ExactPass<'_, OUT> {
    type Output = ();

    #[inline(always)]
    fn run<M: crate::kernel::MulAdd>(self) {
        let (low, high) = (self.range[0] as i32, self.range[1] as i32);
        // 1.5 · 2^52: an integer-valued f64 v with |v| < 2^51 added to it lands on the
        // integer grid of [2^52, 2^53), so its bits minus this constant's bits are v (as i64):
        // a conversion that vectorizes (a saturating `as i32` does not).
        const GRID: f64 = 6_755_399_441_055_744.0;
        let (min, max) = (i32::MIN as f64, i32::MAX as f64);
        for o in 0..OUT {
            let x = self.acc[o].wrapping_add(self.bias[o]) as f64 * self.scales[o];
            // Out of the i32 range the result saturates, as the integer form does; the zero
            // point's addition wraps as there.
            let rounded = round_half_away(x).clamp(min, max);
            let rounded = ((rounded + GRID).to_bits() as i64 - GRID.to_bits() as i64) as i32;
            self.out[o] = rounded.wrapping_add(self.zero_point).clamp(low, high) as i8;
        }
    }
}

/// `x` rounded half away from zero, as C's `round`, written so it vectorizes: `x` plus the
/// largest `f64` below one half with `x`'s sign, truncated. The sum reaches the next integer
/// exactly when `x`'s fraction is at least one half (a fraction of one half less an ulp or
/// more stays below it or rounds, as an exact tie, to the even integer above; integral `x`
/// stay integral).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[inline(always)]
fn round_half_away(x: f64) -> f64 {
    const BELOW_HALF: f64 = 0.499_999_999_999_999_94;
    num_traits::float::FloatCore::trunc(x + BELOW_HALF.copysign(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::ExactScale;

    /// The weights of an `Int8Dense` and an `Int8Conv2d` start on a 64-byte line wherever the
    /// layer is (here inside a struct that would put it 1 byte in, on the stack and boxed).
    #[test]
    fn the_weights_start_on_a_cache_line() {
        use crate::quant::Int8Conv2d;
        struct Off<L> {
            _byte: u8,
            layer: L,
        }
        let dense = Off {
            _byte: 1,
            layer: Int8Dense::<5, 3>::zeros(),
        };
        let conv = Off {
            _byte: 1,
            layer: Int8Conv2d::<3, 2, 1, 1, 2, 2, 2, 2>::zeros(),
        };
        let boxed: Box<Int8Dense<7, 9>> = crate::kernel::boxed_zeros();
        for address in [
            dense.layer.weights.as_ptr() as usize,
            conv.layer.weights.as_ptr() as usize,
            boxed.weights.as_ptr() as usize,
        ] {
            assert_eq!(address % 64, 0);
        }
    }

    /// `to_fixed_point` changes what the layer computes: gemmlowp's rounding of a tie toward
    /// +∞ where the exact scale rounds it away from zero (one output and sixteen, the packed
    /// layout).
    #[test]
    fn a_layer_switched_to_fixed_point_requantizes_with_its_multipliers() {
        let q = Quantization::new(1.0, 0);
        let half = Requantize::Exact(ExactScale::from_real(0.5));
        let one = Int8Dense::<1, 1>::new([[1]], [0], [half], q, q, [-128, 127]);
        assert_eq!(one.forward(&[-3]), [-2]);
        assert_eq!(one.to_fixed_point().forward(&[-3]), [-1]);
        let mut many = Int8Dense::<1, 16>::new([[1]; 16], [0; 16], [half; 16], q, q, [-128, 127]);
        assert_eq!(many.forward(&[-3]), [-2; 16]);
        many.use_fixed_point();
        assert_eq!(many.forward(&[-3]), [-1; 16]);
        assert_eq!(many.forward(&[3]), [2; 16]);
    }

    /// `round_half_away` is C's `round` on ties, their neighbours an ulp away, integers, the
    /// ranges where the ulp is 1/2 and 1, and random values of every magnitude.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[test]
    fn rounding_half_away_is_c_round() {
        let mut state = 0x2468_ace0_1357_9bdfu64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let round = num_traits::float::FloatCore::round;
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -2.5,
            4503599627370495.5,
            2f64.powi(52),
        ];
        for k in -2000..2000 {
            let tie = k as f64 + 0.5;
            values.extend([tie, tie.next_up(), tie.next_down(), k as f64]);
        }
        for _ in 0..100_000 {
            let x = f64::from_bits(next());
            if x.is_finite() {
                values.push(x);
            }
            let scaled = (next() as i32) as f64 * ((next() % 1_000_000) as f64 / 7e5);
            values.extend([scaled, scaled.next_up(), scaled.next_down()]);
        }
        for x in values {
            assert_eq!(round_half_away(x), round(x), "{x:e}");
        }
    }

    /// The vectorized exact pass rounds as the integer emulation does, ties included (scale
    /// 0.5 on odd sums, both signs), over the whole output range.
    #[test]
    fn the_exact_pass_equals_the_integer_emulation() {
        let mut state = 0x1357_9bdf_2468_ace0u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..200 {
            let weights: [[i8; 8]; 32] =
                core::array::from_fn(|_| core::array::from_fn(|_| next() as i8));
            let bias: [i32; 32] = core::array::from_fn(|_| (next() as i32) >> 14);
            let requantize: [Requantize; 32] = core::array::from_fn(|o| {
                let real = if round % 2 == 0 && o % 3 == 0 {
                    0.5
                } else if round % 5 == 1 && o % 4 == 1 {
                    // Products far beyond the i32 range: the saturating edge.
                    3e5
                } else {
                    (next() % 10_000) as f64 / 5e5 + 1e-6
                };
                Requantize::Exact(ExactScale::from_real(real))
            });
            let input = Quantization::new(0.1, (next() % 256) as i32 - 128);
            let output = Quantization::new(0.1, (next() % 256) as i32 - 128);
            let layer =
                Int8Dense::<8, 32>::new(weights, bias, requantize, input, output, [-128, 127]);
            assert!(layer.exact);
            let x: [i8; 8] = core::array::from_fn(|_| next() as i8);
            let y = layer.forward(&x);
            for o in 0..32 {
                let acc = (0..8).fold(bias[o], |s, i| {
                    s.wrapping_add(weights[o][i] as i32 * (x[i] as i32 - input.zero_point))
                });
                let Requantize::Exact(scale) = requantize[o] else {
                    unreachable!()
                };
                let expected = clamp_output(scale.apply(acc), output.zero_point, [-128, 127]);
                assert_eq!(y[o], expected, "round {round} output {o}");
            }
        }
    }
}
