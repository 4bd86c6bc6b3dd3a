//! `to_rust`: a `.tflite` model as Rust source defining its typed int8 network, with the
//! weights and the requantization integers baked in.

use core::fmt::Write;

use super::Error;
use super::graph::{Graph, Operator, Padding, op};
use super::load::{activation, bias, dims, fused, multipliers, output_of, tensor, weights};
use crate::quant::{ExactScale, MeanKernel, Quantization, QuantizedMultiplier, activation_range};

/// One layer of the network: its type and the expression that builds it.
struct Layer {
    ty: String,
    expr: String,
}

/// The shape of the tensor flowing between layers: an image `[H, W, C]` or a vector.
#[derive(Clone, Copy, PartialEq)]
enum Flow {
    Image([usize; 3]),
    Vector(usize),
}

impl Flow {
    fn of(shape: &[i32]) -> Result<Flow, Error> {
        let d: Vec<usize> = shape.iter().map(|&v| v as usize).collect();
        match d.as_slice() {
            [1, h, w, c] => Ok(Flow::Image([*h, *w, *c])),
            [1, n] | [n] => Ok(Flow::Vector(*n)),
            _ => Err(Error::new(format!(
                "a tensor of shape {shape:?} (constnet's int8 layers take [1, H, W, C] or [1, N])"
            ))),
        }
    }

    fn ty(self) -> String {
        match self {
            Flow::Image([h, w, c]) => format!("constnet::quant::Image<{c}, {w}, {h}>"),
            Flow::Vector(n) => format!("[i8; {n}]"),
        }
    }

    /// The number of values (saturating: a file may declare any dims).
    fn len(self) -> usize {
        match self {
            Flow::Image([h, w, c]) => h.saturating_mul(w).saturating_mul(c),
            Flow::Vector(n) => n,
        }
    }
}

fn quantization(q: Quantization) -> String {
    format!(
        "constnet::quant::Quantization::new({:?}_f32, {})",
        q.scale, q.zero_point
    )
}

fn multiplier(m: QuantizedMultiplier) -> String {
    format!(
        "constnet::quant::QuantizedMultiplier::new({}, {})",
        m.multiplier, m.shift
    )
}

fn list<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&f(item));
    }
    out.push(']');
    out
}

/// A nested array literal of int8 `data` with `shape` (outermost first).
fn nested(data: &[u8], shape: &[usize]) -> String {
    if shape.len() <= 1 {
        return list(data, |&b| (b as i8).to_string());
    }
    let inner: usize = shape[1..].iter().product();
    let parts: Vec<String> = data
        .chunks(inner.max(1))
        .map(|c| nested(c, &shape[1..]))
        .collect();
    format!("[{}]", parts.join(", "))
}

fn options_ty(o: &Operator, pool: bool) -> String {
    let [sh, sw] = o.options.stride;
    let [dh, dw] = if pool { [1, 1] } else { o.options.dilation };
    match o.options.padding {
        Padding::Same => format!("constnet::layers::Same<{sh}, {sw}, {dh}, {dw}>"),
        Padding::Valid => format!("constnet::layers::Valid<{sh}, {sw}, {dh}, {dw}>"),
    }
}

fn image(flow: Flow, o: &Operator) -> Result<[usize; 3], Error> {
    match flow {
        Flow::Image(i) => Ok(i),
        Flow::Vector(_) => Err(Error::new(format!(
            "{} reads a vector, not an image",
            o.describe()
        ))),
    }
}

struct Writer<'g, 'a> {
    graph: &'g Graph<'a>,
    used: Vec<bool>,
}

impl Writer<'_, '_> {
    /// Unused operators reading tensor `t` as data.
    fn readers(&self, t: i32) -> Vec<usize> {
        self.graph
            .operators
            .iter()
            .enumerate()
            .filter(|(i, o)| {
                !self.used[*i]
                    && if o.code == op::ADD {
                        o.inputs.contains(&t)
                    } else {
                        o.inputs.first() == Some(&t)
                    }
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The layers from tensor `t` until the graph ends or an ADD joins: `(layers, end)`.
    fn chain(&mut self, mut t: i32, layers: &mut Vec<Layer>) -> Result<i32, Error> {
        loop {
            let readers = self.readers(t);
            match readers.as_slice() {
                [] => return Ok(t),
                [one] if self.graph.operators[*one].code == op::ADD => return Ok(t),
                [one] => {
                    t = self.layer(*one, t, layers)?;
                }
                [a, b] => {
                    t = self.residual(t, *a, *b, layers)?;
                }
                _ => {
                    return Err(Error::new(format!(
                        "tensor {t} is read by {} operators: constnet's networks are chains with residual blocks",
                        readers.len()
                    )));
                }
            }
        }
    }

    /// A residual block forking at tensor `t` into the operators `a` and `b`.
    fn residual(
        &mut self,
        t: i32,
        a: usize,
        b: usize,
        layers: &mut Vec<Layer>,
    ) -> Result<i32, Error> {
        let flow = Flow::of(&self.graph.tensors[t as usize].shape)?;
        let branch = |me: &mut Self, first: usize| -> Result<(Vec<Layer>, i32), Error> {
            let mut branch = Vec::new();
            if me.graph.operators[first].code == op::ADD {
                return Ok((branch, t));
            }
            let next = me.layer(first, t, &mut branch)?;
            let end = me.chain(next, &mut branch)?;
            Ok((branch, end))
        };
        let (first_layers, first_end) = branch(self, a)?;
        let (second_layers, second_end) = branch(self, b)?;
        let (body, body_end, shortcut, shortcut_end) = if first_layers.len() >= second_layers.len()
        {
            (first_layers, first_end, second_layers, second_end)
        } else {
            (second_layers, second_end, first_layers, first_end)
        };
        let add = self
            .graph
            .operators
            .iter()
            .enumerate()
            .find(|(i, o)| {
                !self.used[*i]
                    && o.code == op::ADD
                    && o.inputs.len() == 2
                    && o.inputs.contains(&body_end)
                    && o.inputs.contains(&shortcut_end)
            })
            .map(|(i, _)| i)
            .ok_or_else(|| {
                Error::new(format!(
                    "the branches forking at tensor {t} do not meet in an ADD"
                ))
            })?;
        if body.is_empty() {
            return Err(Error::new(format!(
                "the residual block at tensor {t} has no body"
            )));
        }
        self.used[add] = true;
        let o = &self.graph.operators[add];
        let at = |e: Error| e.at(&o.describe());
        let q = |t: i32| {
            let tensor = &self.graph.tensors[t as usize];
            activation(
                tensor,
                &tensor.shape.iter().map(|&d| d as usize).collect::<Vec<_>>(),
                "an operand",
            )
        };
        let first = q(shortcut_end).map_err(at)?;
        let second = q(body_end).map_err(at)?;
        let output = q(o.outputs[0]).map_err(at)?;
        let add = crate::quant::Int8Add::from_scales(
            first,
            second,
            output,
            activation_range(fused(o)?, output),
        );
        let join = |parts: Vec<Layer>| -> Layer {
            let ty = format!(
                "constnet::int8_seq![{}]",
                parts
                    .iter()
                    .map(|l| l.ty.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut expr = String::new();
            for (i, l) in parts.iter().enumerate() {
                if i + 1 < parts.len() {
                    expr.push_str(&format!("constnet::quant::Int8Chain::new({}, ", l.expr));
                } else {
                    expr.push_str(&l.expr);
                }
            }
            expr.push_str(&")".repeat(parts.len().saturating_sub(1)));
            Layer { ty, expr }
        };
        let body = join(body);
        let shortcut = if shortcut.is_empty() {
            Layer {
                ty: format!("constnet::quant::Int8Skip<{}>", flow.ty()),
                expr: format!("constnet::quant::Int8Skip::new({})", quantization(first)),
            }
        } else {
            join(shortcut)
        };
        layers.push(Layer {
            ty: format!("constnet::quant::Int8Residual<{}, {}>", body.ty, shortcut.ty),
            expr: format!(
                "constnet::quant::Int8Residual {{ body: {}, shortcut: {}, add: constnet::quant::Int8Add {{ first: {}, second: {}, output: {}, first_multiplier: {}, second_multiplier: {}, output_multiplier: {}, range: {:?} }} }}",
                body.expr,
                shortcut.expr,
                quantization(add.first),
                quantization(add.second),
                quantization(add.output),
                multiplier(add.first_multiplier),
                multiplier(add.second_multiplier),
                multiplier(add.output_multiplier),
                add.range
            ),
        });
        Ok(o.outputs[0])
    }

    /// The layer of operator `i` reading tensor `t`; returns its output tensor.
    fn layer(&mut self, i: usize, t: i32, layers: &mut Vec<Layer>) -> Result<i32, Error> {
        self.used[i] = true;
        let graph = self.graph;
        let o = &graph.operators[i];
        let at = |e: Error| e.at(&o.describe());
        let mut flow = Flow::of(&graph.tensors[t as usize].shape).map_err(at)?;
        // A MEAN's output is a vector in constnet, whatever keep_dims leaves in the file.
        if graph
            .operators
            .iter()
            .any(|p| p.code == op::MEAN && p.outputs[0] == t)
        {
            flow = Flow::Vector(flow.len());
        }
        let out_tensor = output_of(graph, o);
        let out = Flow::of(&out_tensor.shape).map_err(at)?;
        let own = |s: &[i32]| s.iter().map(|&d| d as usize).collect::<Vec<_>>();
        let input = activation(
            tensor(graph, o, 0, "input")?,
            &own(&graph.tensors[t as usize].shape),
            "the input",
        )
        .map_err(at)?;
        let output = activation(out_tensor, &own(&out_tensor.shape), "the output").map_err(at)?;
        let (ty, expr) = match o.code {
            op::FULLY_CONNECTED => {
                let n = flow.len();
                if let Flow::Image(_) = flow {
                    // TensorFlow Lite's FULLY_CONNECTED flattens its input itself.
                    layers.push(Layer {
                        ty: format!("constnet::quant::Int8Reshape<{}, {n}>", flow.ty()),
                        expr: format!("constnet::quant::Int8Reshape::new({})", quantization(input)),
                    });
                }
                let Flow::Vector(m) = out else {
                    return Err(at(Error::new("the output is not a vector".into())));
                };
                if o.options.weights_format != 0 || o.options.asymmetric_quantize_inputs {
                    return Err(at(Error::new(
                        "shuffled weights or dynamic-range quantization are not supported".into(),
                    )));
                }
                let (w, scales) = weights(
                    tensor(graph, o, 1, "weights")?,
                    &[m, n],
                    m,
                    0,
                    "the weights",
                )
                .map_err(at)?;
                let b = bias(graph, o, m)?;
                let range = activation_range(fused(o)?, output);
                let requantize: Vec<ExactScale> = (0..m)
                    .map(|c| {
                        let s = scales[if scales.len() == 1 { 0 } else { c }];
                        crate::quant::dense_scale(input, s, output)
                    })
                    .collect();
                (
                    format!("constnet::quant::Int8Dense<{n}, {m}>"),
                    format!(
                        "constnet::quant::Int8Dense::new({}, {}, {}, {}, {}, {:?})",
                        nested(w, &[m, n]),
                        list(&b, |v| v.to_string()),
                        list(&requantize, |s| format!(
                            "constnet::quant::Requantize::Exact(constnet::quant::ExactScale::new({}, {}))",
                            s.significand, s.exponent
                        )),
                        quantization(input),
                        quantization(output),
                        range
                    ),
                )
            }
            op::CONV_2D | op::DEPTHWISE_CONV_2D => {
                let [h, w_, c_in] = image(flow, o)?;
                let [h_out, w_out, c_out] = image(out, o)?;
                let filter = tensor(graph, o, 1, "filter")?;
                let (kh, kw, cg) = match filter.shape.as_slice() {
                    [_, kh, kw, cg] => (*kh as usize, *kw as usize, *cg as usize),
                    _ => {
                        return Err(at(Error::new(format!(
                            "the filter has shape {}",
                            dims(&filter.shape)
                        ))));
                    }
                };
                let depthwise = o.code == op::DEPTHWISE_CONV_2D;
                // A CONV_2D whose filter reads fewer channels than the image has is grouped
                // (`C_IN / CG` groups).
                let grouped = !depthwise && cg != c_in;
                if grouped && (cg == 0 || cg > c_in || c_in % cg != 0 || c_out % (c_in / cg) != 0) {
                    return Err(at(Error::new(format!(
                        "a filter of {cg} channels does not divide the {c_in} input channels into groups of the {c_out} outputs"
                    ))));
                }
                let (shape, dimension) = if depthwise {
                    ([1, kh, kw, c_out], 3)
                } else {
                    ([c_out, kh, kw, cg], 0)
                };
                let (wd, scales) =
                    weights(filter, &shape, c_out, dimension, "the filter").map_err(at)?;
                let b = bias(graph, o, c_out)?;
                let range = activation_range(fused(o)?, output);
                let m = multipliers(input, &scales, output, c_out);
                let name = if depthwise {
                    "Int8DepthwiseConv2d"
                } else {
                    "Int8Conv2d"
                };
                // `Int8Conv2d::new` takes OHWI; a depthwise filter is `[1, KH, KW, C_OUT]`.
                let literal = if depthwise {
                    let taps = kh * kw;
                    let ohwi: Vec<_> = (0..c_out * taps)
                        .map(|k| wd[(k % taps) * c_out + k / taps])
                        .collect();
                    nested(&ohwi, &[c_out, kh, kw, 1])
                } else {
                    nested(wd, &shape)
                };
                let (_, _) = (h, w_);
                (
                    if grouped {
                        format!(
                            "constnet::quant::{name}<{c_in}, {c_out}, {kh}, {kw}, {h}, {w_}, {h_out}, {w_out}, {}, {cg}>",
                            options_ty(o, false)
                        )
                    } else {
                        format!(
                            "constnet::quant::{name}<{c_in}, {c_out}, {kh}, {kw}, {h}, {w_}, {h_out}, {w_out}, {}>",
                            options_ty(o, false)
                        )
                    },
                    format!(
                        "constnet::quant::{name}::new({literal}, {}, {}, {}, {}, {:?})",
                        list(&b, |v| v.to_string()),
                        list(&m, |&q| multiplier(q)),
                        quantization(input),
                        quantization(output),
                        range
                    ),
                )
            }
            op::MAX_POOL_2D | op::AVERAGE_POOL_2D => {
                let [h, w_, c] = image(flow, o)?;
                let [h_out, w_out, _] = image(out, o)?;
                let [kh, kw] = o.options.filter;
                let alias = if o.code == op::MAX_POOL_2D {
                    "Int8MaxPool2d"
                } else {
                    "Int8AvgPool2d"
                };
                if !input.same_as(output) {
                    return Err(at(Error::new(
                        "input and output quantization differ".into(),
                    )));
                }
                (
                    format!(
                        "constnet::quant::{alias}<{c}, {kh}, {kw}, {h}, {w_}, {h_out}, {w_out}, {}>",
                        options_ty(o, true)
                    ),
                    format!(
                        "constnet::quant::Int8Pool2d::new({}, {:?})",
                        quantization(input),
                        activation_range(fused(o)?, output)
                    ),
                )
            }
            op::MEAN => {
                let [h, w_, c] = image(flow, o)?;
                let mut axes = tensor(graph, o, 1, "axis")?
                    .folded
                    .clone()
                    .ok_or_else(|| at(Error::new("the axes are not constant".into())))?;
                axes.sort_unstable();
                if axes != [1, 2] {
                    return Err(at(Error::new(format!(
                        "mean over axes {axes:?}; constnet's is over [1, 2]"
                    ))));
                }
                // LiteRT's reference MEAN requantizes with 1 / count folded into the multiplier,
                // whatever keep_dims and the quantizations.
                let kernel = MeanKernel::Rescaled;
                let m = QuantizedMultiplier::from_real(input.scale as f64 / output.scale as f64);
                (
                    format!("constnet::quant::Int8GlobalAvgPool2d<{c}, {h}, {w_}>"),
                    format!(
                        "constnet::quant::Int8GlobalAvgPool2d::with_multiplier({}, {}, constnet::quant::MeanKernel::{kernel:?}, {})",
                        quantization(input),
                        quantization(output),
                        multiplier(m)
                    ),
                )
            }
            op::RESHAPE => {
                if !input.same_as(output) {
                    return Err(at(Error::new(
                        "input and output quantization differ".into(),
                    )));
                }
                if out.len() != flow.len() {
                    return Err(at(Error::new(
                        "the reshape changes the number of values".into(),
                    )));
                }
                (
                    format!("constnet::quant::Int8Reshape<{}, {}>", flow.ty(), out.len()),
                    format!("constnet::quant::Int8Reshape::new({})", quantization(input)),
                )
            }
            _ => return Err(Error::new(format!("{} is not supported", o.describe()))),
        };
        layers.push(Layer { ty, expr });
        Ok(o.outputs[0])
    }
}

/// Rust source for the int8 model in `bytes`: `pub type {type_name} = …;` (the typed network,
/// an [`int8_seq!`](crate::int8_seq) of [`crate::quant`] layers), `pub static {static_name}:
/// {type_name} = …;` (weights and requantization integers baked in, built by `const fn`s, so
/// the network lives in read-only memory) and `pub fn forward_flat(net: &{type_name}, input:
/// &[i8], output: &mut [i8])`, which runs the network on the tensors flattened in TensorFlow
/// Lite's row-major (NHWC) order and panics on wrong lengths (a tool's entry point; it keeps
/// its buffers on the stack and allocates nothing, so it also runs without `std`; for large
/// models the network's own [`forward_into`](crate::quant::Int8Layer::forward_into) takes
/// caller-owned buffers).
///
/// A model with float32 input and output (QUANTIZE and DEQUANTIZE at its edges) also gets
/// `pub fn forward_f32(net, input: &[f32], output: &mut [f32]) -> Result<(), NanInput>`.
///
/// The same checks as [`load_into`](super::load_into) apply; the generated type loads the
/// same file with `load_into`.
pub fn to_rust(bytes: &[u8], static_name: &str, type_name: &str) -> Result<String, Error> {
    if bytes.len() > super::MAX_FILE_BYTES {
        return Err(Error::new(format!(
            "{} bytes is larger than the {} bytes read",
            bytes.len(),
            super::MAX_FILE_BYTES
        )));
    }
    let graph = Graph::parse(bytes)?;
    let edges = super::load::check_edges(&graph)?;
    let mut writer = Writer {
        graph: &graph,
        used: vec![false; graph.operators.len()],
    };
    for &e in &edges.operators {
        writer.used[e] = true;
    }
    let mut layers = Vec::new();
    let end = writer.chain(edges.start, &mut layers)?;
    if let Some(i) = writer.used.iter().position(|u| !u) {
        return Err(Error::new(format!(
            "{} is not reached from the input",
            graph.operators[i].describe()
        )));
    }
    if end != edges.end || layers.is_empty() {
        return Err(Error::new(format!(
            "the chain ends at tensor {end}, the model's int8 output is tensor {}",
            edges.end
        )));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Generated by constnet::tflite::to_rust from a TensorFlow Lite int8 model: do not edit."
    );
    let _ = writeln!(out, "#[allow(clippy::all)]");
    let _ = writeln!(out, "pub type {type_name} = constnet::int8_seq![");
    for l in &layers {
        let _ = writeln!(out, "    {},", l.ty);
    }
    let _ = writeln!(out, "];");
    let _ = writeln!(out);
    let _ = writeln!(out, "#[rustfmt::skip]");
    let _ = writeln!(out, "#[allow(clippy::all)]");
    let _ = write!(out, "pub static {static_name}: {type_name} = ");
    for (i, l) in layers.iter().enumerate() {
        if i + 1 < layers.len() {
            let _ = writeln!(out, "constnet::quant::Int8Chain::new({},", l.expr);
        } else {
            out.push_str(&l.expr);
        }
    }
    out.push_str(&")".repeat(layers.len() - 1));
    out.push_str(";\n\n");
    let _ = write!(
        out,
        "/// Runs `net` on `input` (the model's int8 input, row-major NHWC) into `output`; panics on
/// wrong lengths. Its buffers (input, output and the intermediate tensors) are on the stack and
/// nothing is allocated, so it also runs without `std`; `{type_name}`'s own `forward_into`
/// takes caller-owned buffers for large models.
#[allow(dead_code)]
pub fn forward_flat(net: &{type_name}, input: &[i8], output: &mut [i8]) {{
    use constnet::quant::{{Int8Layer, Int8Tensor}};
    use constnet::Zeros;
    let mut x = <{type_name} as Int8Layer>::Input::zeros();
    let mut y = <{type_name} as Int8Layer>::Output::zeros();
    let mut scratch = <{type_name} as Int8Layer>::Scratch::zeros();
    assert_eq!(input.len(), x.values().len(), \"forward_flat: input length\");
    assert_eq!(output.len(), y.values().len(), \"forward_flat: output length\");
    x.values_mut().copy_from_slice(input);
    net.forward_into(&x, &mut y, &mut scratch);
    output.copy_from_slice(y.values());
}}
"
    );
    if !edges.operators.is_empty() {
        let _ = write!(
            out,
            "
/// The model with its float32 edges: `input` quantized (TensorFlow Lite's QUANTIZE; a NaN is
/// an `Err`), the network run, its output dequantized (DEQUANTIZE) into `output`. Panics on
/// wrong lengths; allocates nothing.
#[allow(dead_code)]
pub fn forward_f32(
    net: &{type_name},
    input: &[f32],
    output: &mut [f32],
) -> Result<(), constnet::quant::NanInput> {{
    use constnet::quant::{{Int8Layer, Int8Tensor}};
    use constnet::Zeros;
    let mut x = <{type_name} as Int8Layer>::Input::zeros();
    let mut y = <{type_name} as Int8Layer>::Output::zeros();
    let mut scratch = <{type_name} as Int8Layer>::Scratch::zeros();
    net.input_quantization().quantize_slice(input, x.values_mut())?;
    net.forward_into(&x, &mut y, &mut scratch);
    net.output_quantization().dequantize_slice(y.values(), output);
    Ok(())
}}
"
        );
    }
    Ok(out)
}
