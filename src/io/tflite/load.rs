//! `FromTflite`: how each int8 layer finds its operator in a `.tflite` graph, checks it
//! against its own type, and (on the second pass) takes its values.

use super::Error;
use super::graph::{
    FLOAT32, Graph, INT8, INT32, Operator, Padding, Tensor, op, op_name, type_name,
};
use crate::layers::Conv2dOptions;
use crate::layers::conv2d_options::axis;
use crate::quant::{
    FusedActivation, Int8Add, Int8Chain, Int8Conv2d, Int8Dense, Int8GlobalAvgPool2d, Int8Layer,
    Int8Pool2d, Int8PoolKind, Int8Reshape, Int8Residual, Int8Skip, Int8Tensor, MeanKernel,
    Quantization, QuantizedMultiplier, Requantize, activation_range,
};

/// Where a load stands: the tensor flowing into the next layer, and which operators are
/// taken.
pub struct Cursor {
    pub(crate) tensor: i32,
    pub(crate) used: Vec<bool>,
}

/// An int8 layer that can be loaded from a `.tflite` graph. Implemented by every layer of
/// [`crate::quant`] and their chains and residual blocks; the importer calls it twice, once
/// to check everything and once to write.
pub trait FromTflite: Int8Layer {
    #[doc(hidden)]
    fn load_graph(
        &mut self,
        graph: &Graph<'_>,
        cursor: &mut Cursor,
        write: bool,
    ) -> Result<(), Error>;
}

pub(super) fn tensor<'g, 'a>(
    graph: &'g Graph<'a>,
    o: &Operator,
    input: usize,
    what: &str,
) -> Result<&'g Tensor<'a>, Error> {
    match o.inputs.get(input) {
        Some(&t) if t >= 0 => Ok(&graph.tensors[t as usize]),
        _ => Err(Error::new(format!("{} has no {what}", o.describe()))),
    }
}

/// The number of values of a tensor of `shape`, saturating (a file may declare any dims).
pub(super) fn element_count(shape: &[i32]) -> i64 {
    shape
        .iter()
        .fold(1i64, |n, &d| n.saturating_mul(d.max(0) as i64))
}

pub(super) fn dims(shape: &[i32]) -> String {
    format!("{shape:?}")
}

/// An int8 activation tensor of `values` values laid out as `expected` (leading ones may be
/// dropped or added), with one scale and zero point.
pub(super) fn activation(
    t: &Tensor<'_>,
    expected: &[usize],
    what: &str,
) -> Result<Quantization, Error> {
    if t.dtype != INT8 {
        return Err(Error::new(format!(
            "{what} is {}, not int8",
            type_name(t.dtype)
        )));
    }
    let strip = |s: &[usize]| -> Vec<usize> { s.iter().copied().skip_while(|&d| d == 1).collect() };
    let shape: Vec<usize> = t.shape.iter().map(|&d| d as usize).collect();
    if strip(&shape) != strip(expected) {
        return Err(Error::new(format!(
            "{what} has shape {}, the network expects {expected:?}",
            dims(&t.shape)
        )));
    }
    if t.scales.len() != 1 || t.zero_points.len() != 1 {
        return Err(Error::new(format!(
            "{what} has {} scales and {} zero points; int8 activations have one of each",
            t.scales.len(),
            t.zero_points.len()
        )));
    }
    let (scale, zero_point) = (t.scales[0], t.zero_points[0]);
    if !(scale.is_finite() && scale > 0.0) {
        return Err(Error::new(format!("{what} has scale {scale}")));
    }
    if !(-128..=127).contains(&zero_point) {
        return Err(Error::new(format!(
            "{what} has zero point {zero_point}, outside int8"
        )));
    }
    Ok(Quantization::new(scale, zero_point as i32))
}

/// Constant int8 weights of shape `expected`, zero points 0, one scale per `channels` (or
/// one for all) along `dimension`.
pub(super) fn weights<'a>(
    t: &Tensor<'a>,
    expected: &[usize],
    channels: usize,
    dimension: i32,
    what: &str,
) -> Result<(&'a [u8], Vec<f32>), Error> {
    if t.dtype != INT8 {
        return Err(Error::new(format!(
            "{what} are {}, not int8",
            type_name(t.dtype)
        )));
    }
    let shape: Vec<usize> = t.shape.iter().map(|&d| d as usize).collect();
    if shape != expected {
        return Err(Error::new(format!(
            "{what} have shape {}, the network expects {expected:?}",
            dims(&t.shape)
        )));
    }
    let data = t
        .data
        .ok_or_else(|| Error::new(format!("{what} are not constant")))?;
    let count = expected.iter().fold(1usize, |n, &d| n.saturating_mul(d));
    if data.len() != count {
        return Err(Error::new(format!(
            "{what} hold {} bytes for {count} values",
            data.len()
        )));
    }
    if t.scales.len() != 1 && t.scales.len() != channels {
        return Err(Error::new(format!(
            "{what} have {} scales; expected 1 or {channels}",
            t.scales.len()
        )));
    }
    if t.scales.len() > 1 && t.quantized_dimension != dimension {
        return Err(Error::new(format!(
            "{what} are quantized along dimension {}, expected {dimension}",
            t.quantized_dimension
        )));
    }
    if let Some(s) = t.scales.iter().find(|s| !(s.is_finite() && **s >= 0.0)) {
        return Err(Error::new(format!("{what} have scale {s}")));
    }
    if let Some(z) = t.zero_points.iter().find(|&&z| z != 0) {
        return Err(Error::new(format!(
            "{what} have zero point {z}; int8 weights are symmetric (0)"
        )));
    }
    Ok((data, t.scales.clone()))
}

/// The int32 bias of `channels` values (all zero when the operator has none).
pub(super) fn bias(graph: &Graph<'_>, o: &Operator, channels: usize) -> Result<Vec<i32>, Error> {
    match o.inputs.get(2) {
        Some(&t) if t >= 0 => {
            let t = &graph.tensors[t as usize];
            if t.dtype != INT32 {
                return Err(Error::new(format!(
                    "{}: the bias is {}, not int32",
                    o.describe(),
                    type_name(t.dtype)
                )));
            }
            let count: i64 = element_count(&t.shape);
            if count != channels as i64 {
                return Err(Error::new(format!(
                    "{}: the bias has shape {}, the network expects [{channels}]",
                    o.describe(),
                    dims(&t.shape)
                )));
            }
            let data = t
                .data
                .ok_or_else(|| Error::new(format!("{}: the bias is not constant", o.describe())))?;
            if data.len() != 4 * channels {
                return Err(Error::new(format!(
                    "{}: the bias holds {} bytes",
                    o.describe(),
                    data.len()
                )));
            }
            Ok(data
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect())
        }
        _ => Ok(vec![0; channels]),
    }
}

pub(super) fn fused(o: &Operator) -> Result<FusedActivation, Error> {
    match o.options.activation {
        0 => Ok(FusedActivation::None),
        1 => Ok(FusedActivation::Relu),
        3 => Ok(FusedActivation::Relu6),
        other => Err(Error::new(format!(
            "{}: fused activation {} is not supported (NONE, RELU and RELU6 are)",
            o.describe(),
            match other {
                2 => "RELU_N1_TO_1".to_string(),
                4 => "TANH".to_string(),
                5 => "SIGN_BIT".to_string(),
                n => format!("code {n}"),
            }
        ))),
    }
}

/// The multipliers of a convolution's channels (one weight scale, or one per channel).
pub(super) fn multipliers(
    input: Quantization,
    scales: &[f32],
    output: Quantization,
    channels: usize,
) -> Vec<QuantizedMultiplier> {
    (0..channels)
        .map(|o| {
            let scale = scales[if scales.len() == 1 { 0 } else { o }];
            crate::quant::convolution_multiplier(input, scale, output)
        })
        .collect()
}

/// Whether TensorFlow Lite's `padding` places the windows where `O` does, on an input of
/// `n` rows and columns with a `k` kernel: the same padding before the first row and column
/// and the same output size. PyTorch-style symmetric padding is SAME whenever it places them
/// alike (a 3×3 kernel with padding 1 at stride 1), VALID when it is zero.
pub(super) fn same_windows<O: Conv2dOptions>(
    padding: Padding,
    n: [usize; 2],
    k: [usize; 2],
) -> bool {
    (0..2).all(|i| {
        let ours = axis::<O>(i, n[i], k[i]);
        let (s, d) = (O::STRIDE[i], O::DILATION[i]);
        let span = d * (k[i] - 1) + 1;
        let (before, out) = match padding {
            Padding::Same => {
                let out = n[i].div_ceil(s);
                let total = (out.saturating_sub(1) * s + span).saturating_sub(n[i]);
                (total / 2, out)
            }
            Padding::Valid => (
                0,
                if n[i] < span {
                    0
                } else {
                    (n[i] - span) / s + 1
                },
            ),
        };
        ours.before == before && ours.out == out
    })
}

/// The geometry `O` gives on an `n` input with a `k` kernel, against the operator's options.
fn check_geometry<O: Conv2dOptions>(
    o: &Operator,
    n: [usize; 2],
    k: [usize; 2],
    pool: bool,
) -> Result<(), Error> {
    let opts = &o.options;
    let stride = [O::STRIDE[0] as i32, O::STRIDE[1] as i32];
    let dilation = [O::DILATION[0] as i32, O::DILATION[1] as i32];
    if !same_windows::<O>(opts.padding, n, k)
        || opts.stride != stride
        || (!pool && opts.dilation != dilation)
    {
        let padding = if O::SAME {
            "SAME".to_string()
        } else {
            format!("{:?} on each side", O::PADDING)
        };
        return Err(Error::new(format!(
            "{}: padding {:?}, stride {:?}, dilation {:?} in the file; the network has padding {padding}, stride {:?}, dilation {:?}",
            o.describe(),
            opts.padding,
            opts.stride,
            if pool { [1, 1] } else { opts.dilation },
            stride,
            dilation
        )));
    }
    Ok(())
}

impl Cursor {
    /// The first unused operator of kind `code` reading the current tensor as input 0 for
    /// which `check` passes; `check`'s error for the first such operator if none passes.
    fn take<T>(
        &mut self,
        graph: &Graph<'_>,
        code: i32,
        check: impl FnMut(&Operator) -> Result<T, Error>,
    ) -> Result<(usize, T), Error> {
        self.take_any(graph, &[code], check)
    }

    /// [`take`](Self::take) for a layer that one of several operators (`codes`) can be.
    fn take_any<T>(
        &mut self,
        graph: &Graph<'_>,
        codes: &[i32],
        mut check: impl FnMut(&Operator) -> Result<T, Error>,
    ) -> Result<(usize, T), Error> {
        let mut first_error = None;
        for (i, o) in graph.operators.iter().enumerate() {
            if self.used[i] || !codes.contains(&o.code) || o.inputs.first() != Some(&self.tensor) {
                continue;
            }
            match check(o) {
                Ok(v) => {
                    self.used[i] = true;
                    self.tensor = o.outputs[0];
                    return Ok((i, v));
                }
                Err(e) => {
                    if first_error.is_none() {
                        first_error = Some(e);
                    }
                }
            }
        }
        Err(first_error.unwrap_or_else(|| {
            let readers: Vec<String> = graph
                .operators
                .iter()
                .enumerate()
                .filter(|(i, o)| !self.used[*i] && o.inputs.first() == Some(&self.tensor))
                .map(|(_, o)| o.describe())
                .collect();
            let t = &graph.tensors[self.tensor as usize];
            Error::new(format!(
                "the network expects {} to read tensor {} ({}), but {}",
                codes
                    .iter()
                    .map(|&c| op_name(c))
                    .collect::<Vec<_>>()
                    .join(" or "),
                self.tensor,
                t.name,
                if readers.is_empty() {
                    "no operator left reads it".to_string()
                } else {
                    format!("it is read by {}", readers.join(", "))
                }
            ))
        }))
    }
}

pub(super) fn output_of<'g, 'a>(graph: &'g Graph<'a>, o: &Operator) -> &'g Tensor<'a> {
    &graph.tensors[o.outputs[0] as usize]
}

impl<const IN: usize, const OUT: usize> FromTflite for Int8Dense<IN, OUT> {
    fn load_graph(
        &mut self,
        graph: &Graph<'_>,
        cursor: &mut Cursor,
        write: bool,
    ) -> Result<(), Error> {
        let (_, plan) = cursor.take(graph, op::FULLY_CONNECTED, |o| {
            let at = |e: Error| e.at(&o.describe());
            if o.options.weights_format != 0 {
                return Err(at(Error::new("shuffled weights are not supported".into())));
            }
            if o.options.asymmetric_quantize_inputs {
                return Err(at(Error::new(
                    "dynamic-range quantization is not supported".into(),
                )));
            }
            // FULLY_CONNECTED flattens its input: only the count must match.
            let t = tensor(graph, o, 0, "input")?;
            let count: i64 = element_count(&t.shape);
            if count != IN as i64 {
                return Err(at(Error::new(format!(
                    "the input has shape {}, the network expects {IN} values",
                    dims(&t.shape)
                ))));
            }
            let input = activation(
                t,
                &t.shape.iter().map(|&d| d as usize).collect::<Vec<_>>(),
                "the input",
            )
            .map_err(at)?;
            let (w, scales) = weights(
                tensor(graph, o, 1, "weights")?,
                &[OUT, IN],
                OUT,
                0,
                "the weights",
            )
            .map_err(at)?;
            let b = bias(graph, o, OUT)?;
            let output = activation(output_of(graph, o), &[OUT], "the output").map_err(at)?;
            let range = activation_range(fused(o)?, output);
            // LiteRT's reference FULLY_CONNECTED rounds f64(acc) · (s_x · s_w / s_y).
            let requantize: Vec<Requantize> = (0..OUT)
                .map(|c| {
                    let s = scales[if scales.len() == 1 { 0 } else { c }];
                    Requantize::Exact(crate::quant::dense_scale(input, s, output))
                })
                .collect();
            Ok((input, w, b, requantize, output, range))
        })?;
        if write {
            let (input, w, b, r, output, range) = plan;
            self.set(
                |o, i| w[o * IN + i] as i8,
                |o| b[o],
                |o| r[o],
                input,
                output,
                range,
            );
        }
        Ok(())
    }
}

// `CONV_2D` (`CG = C_IN`) or `DEPTHWISE_CONV_2D` (`CG = 1`; with one input channel the two
// are the same layer and either operator loads into it).
crate::quant::int8_window_impl!(impl[] FromTflite for Int8Conv2d {
    fn load_graph(
        &mut self,
        graph: &Graph<'_>,
        cursor: &mut Cursor,
        write: bool,
    ) -> Result<(), Error> {
        let codes: &[i32] = if CG == 1 && C_IN > 1 {
            &[op::DEPTHWISE_CONV_2D]
        } else if C_IN == 1 {
            &[op::CONV_2D, op::DEPTHWISE_CONV_2D]
        } else {
            &[op::CONV_2D]
        };
        let (_, plan) = cursor.take_any(graph, codes, |o| {
            let at = |e: Error| e.at(&o.describe());
            check_geometry::<O>(o, [H, W], [KH, KW], false)?;
            let depthwise = o.code == op::DEPTHWISE_CONV_2D;
            if depthwise && o.options.depth_multiplier as i64 * C_IN as i64 != C_OUT as i64 {
                return Err(at(Error::new(format!(
                    "depth multiplier {} with {C_IN} input channels, the network has {C_OUT} outputs",
                    o.options.depth_multiplier
                ))));
            }
            let input = activation(tensor(graph, o, 0, "input")?, &[H, W, C_IN], "the input")
                .map_err(at)?;
            // A grouped network (`1 < CG < C_IN`) reads a CONV_2D whose filters have CG channels.
            let (shape, dimension) = if depthwise {
                ([1, KH, KW, C_OUT], 3)
            } else {
                ([C_OUT, KH, KW, CG], 0)
            };
            let (w, scales) = weights(tensor(graph, o, 1, "filter")?, &shape, C_OUT, dimension, "the filter")
                .map_err(at)?;
            let b = bias(graph, o, C_OUT)?;
            let output = activation(output_of(graph, o), &[H_OUT, W_OUT, C_OUT], "the output")
                .map_err(at)?;
            let range = activation_range(fused(o)?, output);
            Ok((
                depthwise,
                input,
                w,
                b,
                multipliers(input, &scales, output, C_OUT),
                output,
                range,
            ))
        })?;
        if write {
            let (depthwise, input, w, b, m, output, range) = plan;
            // `set` reads OHWI order; a depthwise filter is `[1, KH, KW, C_OUT]` in the file.
            let filter = KH * KW;
            let weight = |k: usize| {
                if depthwise {
                    w[(k % filter) * C_OUT + k / filter] as i8
                } else {
                    w[k] as i8
                }
            };
            self.set(weight, |o| b[o], |o| m[o], input, output, range);
        }
        Ok(())
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
> FromTflite for Int8Pool2d<P, C, KH, KW, H, W, H_OUT, W_OUT, O>
{
    fn load_graph(
        &mut self,
        graph: &Graph<'_>,
        cursor: &mut Cursor,
        write: bool,
    ) -> Result<(), Error> {
        let code = if P::AVERAGE {
            op::AVERAGE_POOL_2D
        } else {
            op::MAX_POOL_2D
        };
        let (_, plan) = cursor.take(graph, code, |o| {
            let at = |e: Error| e.at(&o.describe());
            check_geometry::<O>(o, [H, W], [KH, KW], true)?;
            if o.options.filter != [KH as i32, KW as i32] {
                return Err(at(Error::new(format!(
                    "window {:?} in the file, {KH}×{KW} in the network",
                    o.options.filter
                ))));
            }
            let input =
                activation(tensor(graph, o, 0, "input")?, &[H, W, C], "the input").map_err(at)?;
            let output =
                activation(output_of(graph, o), &[H_OUT, W_OUT, C], "the output").map_err(at)?;
            if !input.same_as(output) {
                return Err(at(Error::new(
                    "input and output quantization differ".into(),
                )));
            }
            Ok((input, activation_range(fused(o)?, output)))
        })?;
        if write {
            self.set(plan.0, plan.1);
        }
        Ok(())
    }
}

impl<const C: usize, const H: usize, const W: usize> FromTflite for Int8GlobalAvgPool2d<C, H, W> {
    fn load_graph(
        &mut self,
        graph: &Graph<'_>,
        cursor: &mut Cursor,
        write: bool,
    ) -> Result<(), Error> {
        let (_, plan) = cursor.take(graph, op::MEAN, |o| {
            let at = |e: Error| e.at(&o.describe());
            let axis = tensor(graph, o, 1, "axis")?;
            let mut axes = axis
                .folded
                .clone()
                .ok_or_else(|| at(Error::new("the axes are not constant".into())))?;
            axes.sort_unstable();
            if axes != [1, 2] {
                return Err(at(Error::new(format!(
                    "mean over axes {axes:?}; constnet's is over [1, 2] (height and width)"
                ))));
            }
            let input =
                activation(tensor(graph, o, 0, "input")?, &[H, W, C], "the input").map_err(at)?;
            let output = activation(output_of(graph, o), &[C], "the output").map_err(at)?;
            // LiteRT's reference MEAN requantizes with 1 / count folded into the multiplier,
            // whatever keep_dims and the quantizations.
            let kernel = MeanKernel::Rescaled;
            Ok(Int8GlobalAvgPool2d::new(input, output, kernel))
        })?;
        if write {
            self.set(plan);
        }
        Ok(())
    }
}

impl<X: Int8Tensor, const N: usize> FromTflite for Int8Reshape<X, N> {
    fn load_graph(
        &mut self,
        graph: &Graph<'_>,
        cursor: &mut Cursor,
        write: bool,
    ) -> Result<(), Error> {
        let reads = graph.operators.iter().enumerate().any(|(i, o)| {
            !cursor.used[i] && o.code == op::RESHAPE && o.inputs.first() == Some(&cursor.tensor)
        });
        let t = &graph.tensors[cursor.tensor as usize];
        let quantization = if reads {
            let (_, q) = cursor.take(graph, op::RESHAPE, |o| {
                let at = |e: Error| e.at(&o.describe());
                let input = activation(
                    tensor(graph, o, 0, "input")?,
                    &t.shape.iter().map(|&d| d as usize).collect::<Vec<_>>(),
                    "the input",
                )
                .map_err(at)?;
                let output = activation(output_of(graph, o), &[N], "the output").map_err(at)?;
                if let Ok(shape) = tensor(graph, o, 1, "shape")
                    && let Some(values) = &shape.folded
                {
                    let count: i64 = values
                        .iter()
                        .fold(1i64, |n, &d| n.saturating_mul(d.max(1) as i64));
                    let wild = values.iter().filter(|&&d| d < 0).count();
                    if wild > 1
                        || (wild == 0 && count != N as i64)
                        || (wild == 1 && N as i64 % count.max(1) != 0)
                    {
                        return Err(at(Error::new(format!(
                            "the computed shape {values:?} does not give {N} values"
                        ))));
                    }
                }
                if !input.same_as(output) {
                    return Err(at(Error::new(
                        "input and output quantization differ".into(),
                    )));
                }
                Ok(input)
            })?;
            q
        } else {
            // A FULLY_CONNECTED flattens its input itself: no operator to take.
            let count: i64 = element_count(&t.shape);
            if count != X::LEN as i64 || N != X::LEN {
                return Err(Error::new(format!(
                    "the network flattens {} values into {N}, tensor {} ({}) has shape {}",
                    X::LEN,
                    cursor.tensor,
                    t.name,
                    dims(&t.shape)
                )));
            }
            activation(
                t,
                &t.shape.iter().map(|&d| d as usize).collect::<Vec<_>>(),
                &format!("tensor {}", cursor.tensor),
            )?
        };
        if write {
            self.set(quantization);
        }
        Ok(())
    }
}

impl<X: Copy + crate::Zeros> FromTflite for Int8Skip<X> {
    fn load_graph(
        &mut self,
        graph: &Graph<'_>,
        cursor: &mut Cursor,
        write: bool,
    ) -> Result<(), Error> {
        let t = &graph.tensors[cursor.tensor as usize];
        let q = activation(
            t,
            &t.shape.iter().map(|&d| d as usize).collect::<Vec<_>>(),
            "the shortcut",
        )?;
        if write {
            self.set(q);
        }
        Ok(())
    }
}

impl<F, S> FromTflite for Int8Residual<F, S>
where
    F: FromTflite,
    F::Output: Int8Tensor,
    S: FromTflite + Int8Layer<Input = F::Input, Output = F::Output>,
{
    fn load_graph(
        &mut self,
        graph: &Graph<'_>,
        cursor: &mut Cursor,
        write: bool,
    ) -> Result<(), Error> {
        let start = cursor.tensor;
        self.body.load_graph(graph, cursor, write)?;
        let body = cursor.tensor;
        cursor.tensor = start;
        self.shortcut.load_graph(graph, cursor, write)?;
        let shortcut = cursor.tensor;
        // The ADD reads both branches (in either order).
        let mut found = None;
        for (i, o) in graph.operators.iter().enumerate() {
            if cursor.used[i] || o.code != op::ADD || o.inputs.len() != 2 {
                continue;
            }
            let (a, b) = (o.inputs[0], o.inputs[1]);
            if (a == shortcut && b == body) || (a == body && b == shortcut) {
                found = Some(i);
                break;
            }
        }
        let i = found.ok_or_else(|| {
            Error::new(format!(
                "the network adds tensors {body} and {shortcut} (a residual block), but no ADD reads both"
            ))
        })?;
        let o = &graph.operators[i];
        let at = |e: Error| e.at(&o.describe());
        let values = <F::Output as Int8Tensor>::LEN;
        let q = |t: i32, what: &str| {
            let tensor = &graph.tensors[t as usize];
            let count: i64 = element_count(&tensor.shape);
            if count != values as i64 {
                return Err(Error::new(format!(
                    "{what} has shape {}, the network expects {values} values",
                    dims(&tensor.shape)
                )));
            }
            activation(
                tensor,
                &tensor.shape.iter().map(|&d| d as usize).collect::<Vec<_>>(),
                what,
            )
        };
        let first = q(shortcut, "the shortcut").map_err(at)?;
        let second = q(body, "the body").map_err(at)?;
        let output = q(o.outputs[0], "the output").map_err(at)?;
        let add = Int8Add::from_scales(first, second, output, activation_range(fused(o)?, output));
        cursor.used[i] = true;
        cursor.tensor = o.outputs[0];
        if write {
            self.add = add;
        }
        Ok(())
    }
}

impl<A: FromTflite, B: FromTflite + Int8Layer<Input = A::Output>> FromTflite for Int8Chain<A, B> {
    fn load_graph(
        &mut self,
        graph: &Graph<'_>,
        cursor: &mut Cursor,
        write: bool,
    ) -> Result<(), Error> {
        self.first.load_graph(graph, cursor, write)?;
        self.second.load_graph(graph, cursor, write)
    }
}

/// Checks the whole graph against the network, then writes: the network is untouched on
/// any error.
pub(crate) fn load_network<L: FromTflite>(net: &mut L, graph: &Graph<'_>) -> Result<(), Error> {
    let edges = check_edges(graph)?;
    let cursor = || {
        let mut used = vec![false; graph.operators.len()];
        for &e in &edges.operators {
            used[e] = true;
        }
        Cursor {
            tensor: edges.start,
            used,
        }
    };
    let mut first = cursor();
    net.load_graph(graph, &mut first, false)?;
    if let Some(i) = first.used.iter().position(|u| !u) {
        return Err(Error::new(format!(
            "{} is left over: the network has fewer layers than the file",
            graph.operators[i].describe()
        )));
    }
    if first.tensor != edges.end {
        return Err(Error::new(format!(
            "the network ends at tensor {}, the model's int8 output is tensor {}",
            first.tensor, edges.end
        )));
    }
    net.load_graph(graph, &mut cursor(), true)
}

/// Where the int8 network starts and ends in the graph: the graph's own input and output, or
/// the int8 tensors inside a float32 model's QUANTIZE and DEQUANTIZE (the `operators` at the
/// edges, which the int8 network leaves to the caller: `Quantization::quantize` and
/// `dequantize` compute them).
pub(super) struct Edges {
    pub start: i32,
    pub end: i32,
    pub operators: Vec<usize>,
}

/// One input and one output; float32 ones only through a QUANTIZE and a DEQUANTIZE at the
/// edges; only supported operators.
pub(super) fn check_edges(graph: &Graph<'_>) -> Result<Edges, Error> {
    if graph.inputs.len() != 1 || graph.outputs.len() != 1 {
        return Err(Error::new(format!(
            "{} inputs and {} outputs; constnet's networks have one of each",
            graph.inputs.len(),
            graph.outputs.len()
        )));
    }
    let mut edges = Edges {
        start: graph.inputs[0],
        end: graph.outputs[0],
        operators: Vec::new(),
    };
    let input = &graph.tensors[graph.inputs[0] as usize];
    if input.dtype == FLOAT32 {
        let readers: Vec<usize> = (0..graph.operators.len())
            .filter(|&i| graph.operators[i].inputs.contains(&graph.inputs[0]))
            .collect();
        match readers.as_slice() {
            [i] if graph.operators[*i].code == op::QUANTIZE
                && graph.tensors[graph.operators[*i].outputs[0] as usize].dtype == INT8 =>
            {
                edges.start = graph.operators[*i].outputs[0];
                edges.operators.push(*i);
            }
            _ => {
                return Err(Error::new(
                    "the model's input is float32 and not read by one QUANTIZE to int8".to_string(),
                ));
            }
        }
    } else if input.dtype != INT8 {
        return Err(Error::new(format!(
            "the model's input is {}",
            type_name(input.dtype)
        )));
    }
    let output = &graph.tensors[graph.outputs[0] as usize];
    if output.dtype == FLOAT32 {
        let writers: Vec<usize> = (0..graph.operators.len())
            .filter(|&i| graph.operators[i].outputs.contains(&graph.outputs[0]))
            .collect();
        match writers.as_slice() {
            [i] if graph.operators[*i].code == op::DEQUANTIZE
                && graph.operators[*i].inputs.len() == 1
                && graph.operators[*i].inputs[0] >= 0
                && graph.tensors[graph.operators[*i].inputs[0] as usize].dtype == INT8 =>
            {
                edges.end = graph.operators[*i].inputs[0];
                edges.operators.push(*i);
            }
            _ => {
                return Err(Error::new(
                    "the model's output is float32 and not written by one DEQUANTIZE from int8"
                        .to_string(),
                ));
            }
        }
    } else if output.dtype != INT8 {
        return Err(Error::new(format!(
            "the model's output is {}",
            type_name(output.dtype)
        )));
    }
    for (i, o) in graph.operators.iter().enumerate() {
        let supported = [
            op::ADD,
            op::AVERAGE_POOL_2D,
            op::CONV_2D,
            op::DEPTHWISE_CONV_2D,
            op::FULLY_CONNECTED,
            op::MAX_POOL_2D,
            op::RESHAPE,
            op::MEAN,
        ]
        .contains(&o.code);
        if !supported && !edges.operators.contains(&i) {
            let at_edge = if o.code == op::QUANTIZE || o.code == op::DEQUANTIZE {
                " inside the network (only at its float edges)"
            } else {
                ""
            };
            return Err(Error::new(format!(
                "{} is not supported{at_edge}",
                o.describe()
            )));
        }
    }
    Ok(edges)
}
