//! `ToTflite` and [`to_bytes`]: an int8 network written as a `.tflite` file that TensorFlow
//! Lite (and TensorFlow Lite Micro) runs, and that [`load_into`](super::load_into) reads back
//! into an equal network.
//!
//! A `.tflite` file keeps scales, not multipliers: each layer's weight scales are recovered
//! from its requantization (the `f32` whose `input_scale · weight_scale / output_scale`
//! TensorFlow Lite turns into exactly the layer's multiplier or exact scale), so that a
//! runtime computing its multipliers from the file gets the layer's integers back. A network
//! whose integers no scales give (a multiplier set by hand, a clamp that is no fused
//! activation, a `MeanKernel` LiteRT's reference MEAN does not run) is refused with an error
//! naming the layer.

use super::Error;
use super::flatbuffer_builder::{Table, Value, finish};
use super::graph::{INT8, INT32, Padding, op};
use super::load::same_windows;
use crate::layers::Conv2dOptions;
use crate::quant::{
    FusedActivation, Int8Add, Int8Chain, Int8Conv2d, Int8Dense, Int8GlobalAvgPool2d, Int8Layer,
    Int8Pool2d, Int8PoolKind, Int8Reshape, Int8Residual, Int8Skip, Int8Tensor, MeanKernel,
    Quantization, QuantizedMultiplier, Requantize, activation_range,
};

/// An int8 layer that can be written as TensorFlow Lite operators. Implemented by every
/// layer of [`crate::quant`] and their chains and residual blocks.
pub trait ToTflite: Int8Layer {
    /// Adds the layer's operators reading tensor `input`; returns the tensor it writes.
    #[doc(hidden)]
    fn write_graph(&self, model: &mut ModelWriter, input: i32) -> Result<i32, Error>;
}

/// A `.tflite` model being built: tensors, constant buffers, operator codes and operators.
#[doc(hidden)]
pub struct ModelWriter {
    tensors: Vec<Table>,
    shapes: Vec<Vec<i32>>,
    buffers: Vec<Vec<u8>>,
    codes: Vec<(i32, i32)>,
    operators: Vec<Table>,
}

/// The per-channel (or per-tensor) quantization of a constant.
struct Scales {
    scales: Vec<f32>,
    dimension: i32,
}

impl ModelWriter {
    fn new() -> Self {
        ModelWriter {
            tensors: Vec::new(),
            shapes: Vec::new(),
            // Buffer 0 is TensorFlow Lite's empty sentinel, which activations name.
            buffers: vec![Vec::new()],
            codes: Vec::new(),
            operators: Vec::new(),
        }
    }

    /// The number of the next operator (tensor names carry it).
    fn next_operator(&self) -> usize {
        self.operators.len()
    }

    fn tensor(
        &mut self,
        name: String,
        shape: Vec<i32>,
        dtype: u8,
        data: Option<Vec<u8>>,
        quantization: Option<Table>,
    ) -> i32 {
        let buffer = match data {
            Some(bytes) => {
                self.buffers.push(bytes);
                self.buffers.len() - 1
            }
            None => 0,
        };
        let mut t = Table::new()
            .with(0, Value::I32s(shape.clone()))
            .with(1, Value::U8(dtype))
            .with(2, Value::U32(buffer as u32))
            .with(3, Value::String(name));
        if let Some(q) = quantization {
            t = t.with(4, Value::Table(q));
        }
        self.tensors.push(t);
        self.shapes.push(shape);
        (self.tensors.len() - 1) as i32
    }

    /// An int8 activation tensor of `dims` (the batch of one added in front).
    fn activation(&mut self, name: String, dims: &[usize], q: Quantization) -> i32 {
        let shape = core::iter::once(1)
            .chain(dims.iter().map(|&d| d as i32))
            .collect();
        let quantization = Table::new()
            .with(2, Value::F32s(vec![q.scale]))
            .with(3, Value::I64s(vec![q.zero_point as i64]))
            .with(6, Value::I32(0));
        self.tensor(name, shape, INT8, None, Some(quantization))
    }

    /// A constant tensor (weights or a bias), quantized symmetrically along `scales`.
    fn constant(
        &mut self,
        name: String,
        shape: &[usize],
        dtype: u8,
        data: Vec<u8>,
        scales: Option<Scales>,
    ) -> i32 {
        let quantization = scales.map(|s| {
            Table::new()
                .with(3, Value::I64s(vec![0; s.scales.len()]))
                .with(2, Value::F32s(s.scales))
                .with(6, Value::I32(s.dimension))
        });
        let shape = shape.iter().map(|&d| d as i32).collect();
        self.tensor(name, shape, dtype, Some(data), quantization)
    }

    /// An int32 constant of `values` (a shape or axes), without quantization.
    fn int32s(&mut self, name: String, values: &[i32]) -> i32 {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.constant(name, &[values.len()], INT32, data, None)
    }

    fn operator(
        &mut self,
        code: i32,
        version: i32,
        inputs: Vec<i32>,
        output: i32,
        options: Option<(u8, Table)>,
    ) {
        let index = match self.codes.iter().position(|&(c, _)| c == code) {
            Some(i) => {
                self.codes[i].1 = self.codes[i].1.max(version);
                i
            }
            None => {
                self.codes.push((code, version));
                self.codes.len() - 1
            }
        };
        let mut o = Table::new()
            .with(0, Value::U32(index as u32))
            .with(1, Value::I32s(inputs))
            .with(2, Value::I32s(vec![output]));
        if let Some((kind, table)) = options {
            o = o.with(3, Value::U8(kind)).with(4, Value::Table(table));
        }
        self.operators.push(o);
    }

    fn shape(&self, tensor: i32) -> Vec<usize> {
        self.shapes[tensor as usize][1..]
            .iter()
            .map(|&d| d as usize)
            .collect()
    }

    fn finish(self, input: i32, output: i32) -> Vec<u8> {
        let codes = self
            .codes
            .iter()
            .map(|&(code, version)| {
                Table::new()
                    .with(0, Value::I8(code as i8))
                    .with(2, Value::I32(version))
                    .with(3, Value::I32(code))
            })
            .collect();
        let subgraph = Table::new()
            .with(0, Value::Tables(self.tensors))
            .with(1, Value::I32s(vec![input]))
            .with(2, Value::I32s(vec![output]))
            .with(3, Value::Tables(self.operators))
            .with(4, Value::String("main".into()));
        let buffers = self
            .buffers
            .into_iter()
            .map(|data| {
                if data.is_empty() {
                    Table::new()
                } else {
                    Table::new().with(0, Value::Bytes(data))
                }
            })
            .collect();
        // One signature, `serving_default` (what LiteRT's signature runners and TensorFlow's
        // converter name it), with the tensors named `input` and `output`.
        let tensor_map = |name: &str, tensor: i32| {
            Table::new()
                .with(0, Value::String(name.into()))
                .with(1, Value::U32(tensor as u32))
        };
        let signature = Table::new()
            .with(0, Value::Tables(vec![tensor_map("input", input)]))
            .with(1, Value::Tables(vec![tensor_map("output", output)]))
            .with(2, Value::String("serving_default".into()))
            .with(4, Value::U32(0));
        let model = Table::new()
            .with(0, Value::U32(3))
            .with(1, Value::Tables(codes))
            .with(2, Value::Tables(vec![subgraph]))
            .with(3, Value::String("constnet".into()))
            .with(4, Value::Tables(buffers))
            .with(7, Value::Tables(vec![signature]));
        finish(&model, b"TFL3")
    }
}

/// `net` as a `.tflite` file: one subgraph with an int8 input and an int8 output (the
/// network's own quantizations; a float model's QUANTIZE and DEQUANTIZE are left to the
/// caller, as [`load_into`](super::load_into) leaves them), per-channel int8 weights, int32
/// biases and the operators [`load_into`](super::load_into) reads, with the operator versions
/// TensorFlow Lite's converter writes for int8. Checks the network first
/// ([`Int8Layer::check`]); `Err` names the layer whose integers no TensorFlow Lite scales give.
///
/// ```
/// use constnet::quant::{FusedActivation, Int8Dense, Int8Layer, Quantization, activation_range};
/// use constnet::{Zeros, tflite};
/// let (input, output) = (Quantization::new(0.5, -1), Quantization::new(0.25, 3));
/// let net = Int8Dense::<2, 1>::from_scales(
///     [[2, -1]], [5], input, &[0.5], output, activation_range(FusedActivation::Relu, output));
/// let bytes = tflite::to_bytes(&net).unwrap();
/// let mut back = Int8Dense::<2, 1>::zeros();
/// tflite::load_into(&mut back, &bytes).unwrap();
/// assert_eq!(back, net);
/// ```
pub fn to_bytes<L>(net: &L) -> Result<Vec<u8>, Error>
where
    L: ToTflite,
    L::Input: Int8Tensor,
{
    net.check(0).map_err(|e| {
        Error::new(format!(
            "the network is inconsistent and cannot be written: {e}"
        ))
    })?;
    let mut model = ModelWriter::new();
    let input = model.activation(
        "input".into(),
        <L::Input as Int8Tensor>::DIMS,
        net.input_quantization(),
    );
    let output = net.write_graph(&mut model, input)?;
    Ok(model.finish(input, output))
}

/// TensorFlow Lite's `ActivationFunctionType` whose clamp is `range` for `output`.
fn fused_code(range: [i8; 2], output: Quantization, what: &str) -> Result<i8, Error> {
    [
        (FusedActivation::None, 0),
        (FusedActivation::Relu, 1),
        (FusedActivation::Relu6, 3),
    ]
    .into_iter()
    .find(|&(a, _)| activation_range(a, output) == range)
    .map(|(_, code)| code)
    .ok_or_else(|| {
        Error::new(format!(
            "{what}: the output clamp {range:?} is no fused activation of TensorFlow Lite (NONE, RELU or RELU6) for output zero point {} and scale {:e}",
            output.zero_point, output.scale
        ))
    })
}

/// The `f32` at `estimate` or one step either side for which `gives` holds. A layer's
/// requantization keeps the scale to within 2^-30 of its value (an `f64` exact scale, a
/// 31-bit multiplier), far inside half a step of `f32` (2^-24), so the `f32` nearest the
/// estimate is the scale it was computed from; the neighbours only guard the rounding.
fn scale_near(estimate: f64, gives: impl Fn(f32) -> bool) -> Option<f32> {
    let start = estimate as f32;
    if !start.is_finite() {
        return None;
    }
    [start, start.next_up(), start.next_down()]
        .into_iter()
        .find(|&w| w >= 0.0 && gives(w))
}

/// The weight scale from which TensorFlow Lite computes `requantize` for a layer reading
/// `input` and writing `output`.
fn weight_scale(requantize: Requantize, input: Quantization, output: Quantization) -> Option<f32> {
    let ratio = output.scale as f64 / input.scale as f64;
    match requantize {
        Requantize::Exact(s) => scale_near(s.to_real() * ratio, |w| {
            crate::quant::dense_scale(input, w, output) == s
        }),
        Requantize::FixedPoint(m) => {
            let real = m.multiplier as f64 * libm_crate::exp2((m.shift - 31) as f64);
            scale_near(real * ratio, |w| {
                crate::quant::convolution_multiplier(input, w, output) == m
            })
        }
    }
}

/// Each output channel's weight scale; one for all when they are equal.
fn weight_scales(
    requantize: impl Iterator<Item = Requantize>,
    input: Quantization,
    output: Quantization,
    what: &str,
) -> Result<Vec<f32>, Error> {
    let mut scales = Vec::new();
    for (o, r) in requantize.enumerate() {
        let s = weight_scale(r, input, output).ok_or_else(|| {
            Error::new(format!(
                "{what}: no weight scale gives output channel {o}'s requantization {r:?} (input scale {:e}, output scale {:e}): it was not computed from scales as TensorFlow Lite computes it",
                input.scale, output.scale
            ))
        })?;
        scales.push(s);
    }
    if scales.windows(2).all(|w| w[0].to_bits() == w[1].to_bits()) {
        scales.truncate(1);
    }
    Ok(scales)
}

/// The constant tensors of a weighted operator: the int8 weights (`shape`, quantized along
/// `dimension`) and the int32 bias with scales `input_scale · weight_scale`.
#[allow(clippy::too_many_arguments)]
fn weights_and_bias(
    model: &mut ModelWriter,
    name: &str,
    weights: Vec<i8>,
    shape: &[usize],
    dimension: i32,
    bias: &[i32],
    scales: Vec<f32>,
    input: Quantization,
) -> (i32, i32) {
    let bias_scales: Vec<f32> = (0..bias.len())
        .map(|o| input.scale * scales[if scales.len() == 1 { 0 } else { o }])
        .collect();
    let w = model.constant(
        format!("{name}/weights"),
        shape,
        INT8,
        weights.iter().map(|&v| v as u8).collect(),
        Some(Scales { scales, dimension }),
    );
    let b = model.constant(
        format!("{name}/bias"),
        &[bias.len()],
        INT32,
        bias.iter().flat_map(|v| v.to_le_bytes()).collect(),
        Some(Scales {
            scales: bias_scales,
            dimension: 0,
        }),
    );
    (w, b)
}

/// TensorFlow Lite's padding code (SAME 0, VALID 1), stride and dilation for `O` on an `n`
/// input with a `k` kernel: `O`'s own SAME or VALID, or the one that places the windows where
/// its PyTorch-style symmetric padding does; `Err` when neither does.
fn geometry<O: Conv2dOptions>(
    n: [usize; 2],
    k: [usize; 2],
    what: &str,
) -> Result<(i8, [i32; 2], [i32; 2]), Error> {
    let padding = if O::SAME {
        0
    } else if O::PADDING == [0, 0] {
        1
    } else if same_windows::<O>(Padding::Same, n, k) {
        0
    } else {
        return Err(Error::new(format!(
            "{what}: padding {:?} on each side (PyTorch style) places the windows as neither SAME nor VALID does",
            O::PADDING
        )));
    };
    Ok((
        padding,
        [O::STRIDE[0] as i32, O::STRIDE[1] as i32],
        [O::DILATION[0] as i32, O::DILATION[1] as i32],
    ))
}

impl<const IN: usize, const OUT: usize> ToTflite for Int8Dense<IN, OUT> {
    fn write_graph(&self, model: &mut ModelWriter, input: i32) -> Result<i32, Error> {
        let n = model.next_operator();
        let what = format!("layer {n} (Int8Dense<{IN}, {OUT}>)");
        let (q_in, q_out) = (self.input_quantization(), self.output_quantization());
        let scales = weight_scales(self.requantize().iter().copied(), q_in, q_out, &what)?;
        let activation = fused_code(self.range(), q_out, &what)?;
        let name = format!("{n}_fully_connected");
        let weights = self.weights().as_flattened().to_vec();
        let (w, b) = weights_and_bias(
            model,
            &name,
            weights,
            &[OUT, IN],
            0,
            self.bias(),
            scales,
            q_in,
        );
        let y = model.activation(name, &[OUT], q_out);
        let options = Table::new()
            .with(0, Value::I8(activation))
            .with(1, Value::I8(0))
            .with(2, Value::Bool(false))
            .with(3, Value::Bool(false));
        model.operator(
            op::FULLY_CONNECTED,
            4,
            vec![input, w, b],
            y,
            Some((8, options)),
        );
        Ok(y)
    }
}

crate::quant::int8_window_impl!(impl[] ToTflite for Int8Conv2d {
    fn write_graph(&self, model: &mut ModelWriter, input: i32) -> Result<i32, Error> {
        let n = model.next_operator();
        let depthwise = CG == 1 && C_IN > 1;
        let what = format!(
            "layer {n} (Int8Conv2d<{C_IN}, {C_OUT}, {KH}, {KW}, {H}, {W}, {H_OUT}, {W_OUT}, _, {CG}>)"
        );
        let (q_in, q_out) = (self.input_quantization(), self.output_quantization());
        let (padding, stride, dilation) = geometry::<O>([H, W], [KH, KW], &what)?;
        let scales = weight_scales(
            self.multipliers().iter().map(|&m| Requantize::FixedPoint(m)),
            q_in,
            q_out,
            &what,
        )?;
        let activation = fused_code(self.range(), q_out, &what)?;
        let filters = self.weights();
        let (name, weights, shape, dimension) = if depthwise {
            // TensorFlow Lite's `[1, KH, KW, C_OUT]`.
            let mut w = Vec::with_capacity(KH * KW * C_OUT);
            for u in 0..KH {
                for v in 0..KW {
                    w.extend(filters.iter().map(|f| f[u][v][0]));
                }
            }
            (format!("{n}_depthwise_conv_2d"), w, [1, KH, KW, C_OUT], 3)
        } else {
            let w = filters
                .iter()
                .flat_map(|f| f.iter().flatten().flatten().copied())
                .collect();
            // Grouped convolutions too: TensorFlow Lite's CONV_2D with CG-channel filters.
            (format!("{n}_conv_2d"), w, [C_OUT, KH, KW, CG], 0)
        };
        let (w, b) =
            weights_and_bias(model, &name, weights, &shape, dimension, &self.bias(), scales, q_in);
        let y = model.activation(name, &[H_OUT, W_OUT, C_OUT], q_out);
        let (code, kind, options) = if depthwise {
            (
                op::DEPTHWISE_CONV_2D,
                2,
                Table::new()
                    .with(0, Value::I8(padding))
                    .with(1, Value::I32(stride[1]))
                    .with(2, Value::I32(stride[0]))
                    .with(3, Value::I32((C_OUT / C_IN) as i32))
                    .with(4, Value::I8(activation))
                    .with(5, Value::I32(dilation[1]))
                    .with(6, Value::I32(dilation[0])),
            )
        } else {
            (
                op::CONV_2D,
                1,
                Table::new()
                    .with(0, Value::I8(padding))
                    .with(1, Value::I32(stride[1]))
                    .with(2, Value::I32(stride[0]))
                    .with(3, Value::I8(activation))
                    .with(4, Value::I32(dilation[1]))
                    .with(5, Value::I32(dilation[0])),
            )
        };
        model.operator(code, 3, vec![input, w, b], y, Some((kind, options)));
        Ok(y)
    }
});

impl<
    P: Int8PoolKind,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O: Conv2dOptions,
> ToTflite for Int8Pool2d<P, C, KH, KW, H, W, H_OUT, W_OUT, O>
{
    fn write_graph(&self, model: &mut ModelWriter, input: i32) -> Result<i32, Error> {
        let n = model.next_operator();
        let (code, kind) = if P::AVERAGE {
            (op::AVERAGE_POOL_2D, "average_pool_2d")
        } else {
            (op::MAX_POOL_2D, "max_pool_2d")
        };
        let what = format!("layer {n} ({kind} {KH}×{KW})");
        let (padding, stride, _) = geometry::<O>([H, W], [KH, KW], &what)?;
        let q = self.output_quantization();
        let activation = fused_code(self.range(), q, &what)?;
        let y = model.activation(format!("{n}_{kind}"), &[H_OUT, W_OUT, C], q);
        let options = Table::new()
            .with(0, Value::I8(padding))
            .with(1, Value::I32(stride[1]))
            .with(2, Value::I32(stride[0]))
            .with(3, Value::I32(KW as i32))
            .with(4, Value::I32(KH as i32))
            .with(5, Value::I8(activation));
        model.operator(code, 2, vec![input], y, Some((5, options)));
        Ok(y)
    }
}

impl<const C: usize, const H: usize, const W: usize> ToTflite for Int8GlobalAvgPool2d<C, H, W> {
    fn write_graph(&self, model: &mut ModelWriter, input: i32) -> Result<i32, Error> {
        let n = model.next_operator();
        let (q_in, q_out) = (self.input_quantization(), self.output_quantization());
        if *self != Self::new(q_in, q_out, MeanKernel::Rescaled) {
            return Err(Error::new(format!(
                "layer {n} (Int8GlobalAvgPool2d<{C}, {H}, {W}>): MeanKernel::{:?} with multiplier {:?}; LiteRT's reference MEAN runs MeanKernel::Rescaled with the multiplier of the two scales",
                self.kernel(),
                self.multiplier()
            )));
        }
        let axes = model.int32s(format!("{n}_mean/axes"), &[1, 2]);
        let y = model.activation(format!("{n}_mean"), &[C], q_out);
        let options = Table::new().with(0, Value::Bool(false));
        model.operator(op::MEAN, 2, vec![input, axes], y, Some((27, options)));
        Ok(y)
    }
}

impl<X: Int8Tensor, const N: usize> ToTflite for Int8Reshape<X, N> {
    fn write_graph(&self, model: &mut ModelWriter, input: i32) -> Result<i32, Error> {
        let n = model.next_operator();
        let shape = model.int32s(format!("{n}_reshape/shape"), &[1, N as i32]);
        let y = model.activation(format!("{n}_reshape"), &[N], self.output_quantization());
        let options = Table::new().with(0, Value::I32s(vec![1, N as i32]));
        model.operator(op::RESHAPE, 1, vec![input, shape], y, Some((17, options)));
        Ok(y)
    }
}

impl<X: Copy + crate::Zeros> ToTflite for Int8Skip<X> {
    /// The identity: no operator, the shortcut is the block's input tensor.
    fn write_graph(&self, _model: &mut ModelWriter, input: i32) -> Result<i32, Error> {
        Ok(input)
    }
}

impl<F, S> ToTflite for Int8Residual<F, S>
where
    F: ToTflite,
    F::Output: Int8Tensor,
    S: ToTflite + Int8Layer<Input = F::Input, Output = F::Output>,
{
    fn write_graph(&self, model: &mut ModelWriter, input: i32) -> Result<i32, Error> {
        let body = self.body.write_graph(model, input)?;
        let shortcut = self.shortcut.write_graph(model, input)?;
        let n = model.next_operator();
        let what = format!("layer {n} (the ADD of a residual block)");
        let add = &self.add;
        let expected = Int8Add::from_scales(add.first, add.second, add.output, add.range);
        let same = |a: QuantizedMultiplier, b: QuantizedMultiplier| a == b;
        if !(same(add.first_multiplier, expected.first_multiplier)
            && same(add.second_multiplier, expected.second_multiplier)
            && same(add.output_multiplier, expected.output_multiplier))
        {
            return Err(Error::new(format!(
                "{what}: its multipliers are not those TensorFlow Lite computes from its scales"
            )));
        }
        let activation = fused_code(add.range, add.output, &what)?;
        let dims = model.shape(body);
        let y = model.activation(format!("{n}_add"), &dims, add.output);
        let options = Table::new().with(0, Value::I8(activation));
        // `Int8Add` rescales the shortcut as its first operand.
        model.operator(op::ADD, 2, vec![shortcut, body], y, Some((11, options)));
        Ok(y)
    }
}

impl<A: ToTflite, B: ToTflite + Int8Layer<Input = A::Output>> ToTflite for Int8Chain<A, B> {
    fn write_graph(&self, model: &mut ModelWriter, input: i32) -> Result<i32, Error> {
        let middle = self.first.write_graph(model, input)?;
        self.second.write_graph(model, middle)
    }
}
