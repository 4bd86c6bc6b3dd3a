//! A `.tflite` file's first subgraph as constnet needs it: tensors (shape, type,
//! quantization, constant data) and the operators to run, with shape-only subgraphs (Keras's
//! `Flatten` computes its shape with SHAPE, STRIDED_SLICE and PACK) folded away.

use super::Error;
use super::flatbuffer::{Table, root};

/// TensorFlow Lite's tensor types constnet reads.
pub(crate) const FLOAT32: u8 = 0;
pub(crate) const INT32: u8 = 2;
pub(crate) const INT8: u8 = 9;

/// The builtin operators constnet knows, by code.
pub(crate) mod op {
    pub const ADD: i32 = 0;
    pub const AVERAGE_POOL_2D: i32 = 1;
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const DEQUANTIZE: i32 = 6;
    pub const FULLY_CONNECTED: i32 = 9;
    pub const MAX_POOL_2D: i32 = 17;
    pub const RESHAPE: i32 = 22;
    pub const MEAN: i32 = 40;
    pub const STRIDED_SLICE: i32 = 45;
    pub const SHAPE: i32 = 77;
    pub const PACK: i32 = 83;
    pub const QUANTIZE: i32 = 114;
}

/// An operator's name for errors.
pub(crate) fn op_name(code: i32) -> String {
    match code {
        op::ADD => "ADD".into(),
        op::AVERAGE_POOL_2D => "AVERAGE_POOL_2D".into(),
        op::CONV_2D => "CONV_2D".into(),
        op::DEPTHWISE_CONV_2D => "DEPTHWISE_CONV_2D".into(),
        op::DEQUANTIZE => "DEQUANTIZE".into(),
        op::FULLY_CONNECTED => "FULLY_CONNECTED".into(),
        op::MAX_POOL_2D => "MAX_POOL_2D".into(),
        op::RESHAPE => "RESHAPE".into(),
        op::MEAN => "MEAN".into(),
        op::STRIDED_SLICE => "STRIDED_SLICE".into(),
        op::SHAPE => "SHAPE".into(),
        op::PACK => "PACK".into(),
        op::QUANTIZE => "QUANTIZE".into(),
        2 => "CONCATENATION".into(),
        14 => "LOGISTIC".into(),
        19 => "RELU".into(),
        21 => "RELU6".into(),
        25 => "SOFTMAX".into(),
        34 => "PAD".into(),
        43 => "SQUEEZE".into(),
        other => format!("builtin operator {other}"),
    }
}

/// A tensor type's name for errors.
pub(crate) fn type_name(code: u8) -> &'static str {
    match code {
        0 => "float32",
        1 => "float16",
        2 => "int32",
        3 => "uint8",
        4 => "int64",
        6 => "bool",
        7 => "int16",
        9 => "int8",
        10 => "float64",
        17 => "int4",
        _ => "another type",
    }
}

/// One tensor.
pub(crate) struct Tensor<'a> {
    pub name: &'a str,
    pub shape: Vec<i32>,
    pub dtype: u8,
    /// The constant data, if the tensor has a non-empty buffer.
    pub data: Option<&'a [u8]>,
    pub scales: Vec<f32>,
    pub zero_points: Vec<i64>,
    pub quantized_dimension: i32,
    /// An int32 value known at import time (a constant, or a folded shape computation).
    pub folded: Option<Vec<i32>>,
}

/// `SAME` or `VALID`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Padding {
    Same,
    Valid,
}

/// The options constnet reads, of every operator kind (each reads its own).
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub padding: Padding,
    /// `(height, width)`.
    pub stride: [i32; 2],
    pub dilation: [i32; 2],
    pub filter: [i32; 2],
    pub depth_multiplier: i32,
    /// TensorFlow Lite's `ActivationFunctionType` code.
    pub activation: i8,
    pub keep_dims: bool,
    pub keep_num_dims: bool,
    pub weights_format: i8,
    pub asymmetric_quantize_inputs: bool,
    pub begin_mask: i32,
    pub end_mask: i32,
    pub ellipsis_mask: i32,
    pub new_axis_mask: i32,
    pub shrink_axis_mask: i32,
    pub pack_axis: i32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            padding: Padding::Same,
            stride: [1, 1],
            dilation: [1, 1],
            filter: [1, 1],
            depth_multiplier: 1,
            activation: 0,
            keep_dims: false,
            keep_num_dims: false,
            weights_format: 0,
            asymmetric_quantize_inputs: false,
            begin_mask: 0,
            end_mask: 0,
            ellipsis_mask: 0,
            new_axis_mask: 0,
            shrink_axis_mask: 0,
            pack_axis: 0,
        }
    }
}

/// One operator to run.
pub(crate) struct Operator {
    /// Its index in the file's operator list (errors name it).
    pub index: usize,
    pub code: i32,
    /// Tensor indices; −1 marks an absent optional input.
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    pub options: Options,
}

impl Operator {
    pub(crate) fn describe(&self) -> String {
        format!("operator {} ({})", self.index, op_name(self.code))
    }
}

/// The first subgraph of a `.tflite` file, parsed (what [`FromTflite`](super::FromTflite)
/// reads).
pub struct Graph<'a> {
    pub(crate) tensors: Vec<Tensor<'a>>,
    pub(crate) operators: Vec<Operator>,
    pub(crate) inputs: Vec<i32>,
    pub(crate) outputs: Vec<i32>,
}

/// The union type each operator's options must have.
fn options_type(code: i32) -> Option<u8> {
    Some(match code {
        op::CONV_2D => 1,
        op::DEPTHWISE_CONV_2D => 2,
        op::AVERAGE_POOL_2D | op::MAX_POOL_2D => 5,
        op::FULLY_CONNECTED => 8,
        op::ADD => 11,
        op::RESHAPE => 17,
        op::MEAN => 27,
        op::STRIDED_SLICE => 32,
        op::PACK => 59,
        _ => return None,
    })
}

fn padding(code: i8) -> Result<Padding, Error> {
    match code {
        0 => Ok(Padding::Same),
        1 => Ok(Padding::Valid),
        other => Err(Error::new(format!("unknown padding {other}"))),
    }
}

fn read_options(code: i32, options: Option<Table<'_>>) -> Result<Options, Error> {
    let mut o = Options::default();
    let Some(t) = options else {
        return Ok(o);
    };
    match code {
        op::CONV_2D => {
            o.padding = padding(t.i8(0, 0)?)?;
            o.stride = [t.i32(2, 0)?, t.i32(1, 0)?];
            o.activation = t.i8(3, 0)?;
            o.dilation = [t.i32(5, 1)?, t.i32(4, 1)?];
        }
        op::DEPTHWISE_CONV_2D => {
            o.padding = padding(t.i8(0, 0)?)?;
            o.stride = [t.i32(2, 0)?, t.i32(1, 0)?];
            o.depth_multiplier = t.i32(3, 0)?;
            o.activation = t.i8(4, 0)?;
            o.dilation = [t.i32(6, 1)?, t.i32(5, 1)?];
        }
        op::AVERAGE_POOL_2D | op::MAX_POOL_2D => {
            o.padding = padding(t.i8(0, 0)?)?;
            o.stride = [t.i32(2, 0)?, t.i32(1, 0)?];
            o.filter = [t.i32(4, 0)?, t.i32(3, 0)?];
            o.activation = t.i8(5, 0)?;
        }
        op::FULLY_CONNECTED => {
            o.activation = t.i8(0, 0)?;
            o.weights_format = t.i8(1, 0)?;
            o.keep_num_dims = t.bool(2)?;
            o.asymmetric_quantize_inputs = t.bool(3)?;
        }
        op::ADD => o.activation = t.i8(0, 0)?,
        op::MEAN => o.keep_dims = t.bool(0)?,
        op::STRIDED_SLICE => {
            o.begin_mask = t.i32(0, 0)?;
            o.end_mask = t.i32(1, 0)?;
            o.ellipsis_mask = t.i32(2, 0)?;
            o.new_axis_mask = t.i32(3, 0)?;
            o.shrink_axis_mask = t.i32(4, 0)?;
        }
        op::PACK => o.pack_axis = t.i32(1, 0)?,
        _ => {}
    }
    Ok(o)
}

/// Refuses a file that is not a TensorFlow Lite flatbuffer before reading it.
fn check_identifier(bytes: &[u8]) -> Result<(), Error> {
    if bytes.len() < 8 {
        return Err(Error::new(format!(
            "{} bytes is too short for a .tflite file",
            bytes.len()
        )));
    }
    if &bytes[4..8] != b"TFL3" {
        return Err(Error::new(
            "not a TensorFlow Lite file (no TFL3 identifier)".to_string(),
        ));
    }
    Ok(())
}

impl<'a> Graph<'a> {
    /// Reads the first subgraph of a `.tflite` file.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        check_identifier(bytes)?;
        let model = root(bytes)?;
        let version = model.u32(0, 0)?;
        if version != 3 {
            return Err(Error::new(format!(
                "schema version {version}; constnet reads version 3"
            )));
        }
        let codes = model
            .vector(1, 4)?
            .ok_or_else(|| Error::new("no operator codes".into()))?;
        let mut builtin = Vec::with_capacity(codes.len());
        for i in 0..codes.len() {
            let c = codes.table(i)?;
            let deprecated = c.i8(0, 0)? as i32;
            let code = c.i32(3, 0)?;
            builtin.push(deprecated.max(code));
        }
        let buffers = model
            .vector(4, 4)?
            .ok_or_else(|| Error::new("no buffers".into()))?;
        let subgraphs = model
            .vector(2, 4)?
            .ok_or_else(|| Error::new("no subgraphs".into()))?;
        if subgraphs.len() != 1 {
            return Err(Error::new(format!(
                "{} subgraphs; constnet imports models with one (no control flow)",
                subgraphs.len()
            )));
        }
        let graph = subgraphs.table(0)?;
        let tensor_tables = graph
            .vector(0, 4)?
            .ok_or_else(|| Error::new("no tensors".into()))?;
        let mut tensors = Vec::with_capacity(tensor_tables.len());
        for i in 0..tensor_tables.len() {
            let t = tensor_tables.table(i)?;
            let shape = match t.vector(0, 4)? {
                Some(v) => v.i32s()?,
                None => Vec::new(),
            };
            if shape.iter().any(|&d| d < 0) {
                return Err(Error::new(format!(
                    "tensor {i} has a dynamic shape {shape:?}"
                )));
            }
            let dtype = t.u8(1, 0)?;
            let buffer = t.u32(2, 0)? as usize;
            let name = t.string(3)?.unwrap_or("");
            if buffer >= buffers.len() {
                return Err(Error::new(format!(
                    "tensor {i} ({name}) names buffer {buffer} of {}",
                    buffers.len()
                )));
            }
            let b = buffers.table(buffer)?;
            let mut data = b.vector(0, 1)?.map(|v| v.raw()).filter(|d| !d.is_empty());
            let (offset, size) = (b.u64(1, 0)?, b.u64(2, 0)?);
            if data.is_none() && offset > 1 {
                let end = offset
                    .checked_add(size)
                    .filter(|&e| e <= bytes.len() as u64)
                    .ok_or_else(|| {
                        Error::new(format!(
                            "buffer {buffer} of tensor {i} ({name}) lies past the end of the file"
                        ))
                    })?;
                data = Some(&bytes[offset as usize..end as usize]);
            }
            let (mut scales, mut zero_points, mut quantized_dimension) =
                (Vec::new(), Vec::new(), 0);
            if let Some(q) = t.table(4)? {
                if let Some(v) = q.vector(2, 4)? {
                    scales = (0..v.len()).map(|k| v.f32(k)).collect::<Result<_, _>>()?;
                }
                if let Some(v) = q.vector(3, 8)? {
                    zero_points = (0..v.len()).map(|k| v.i64(k)).collect::<Result<_, _>>()?;
                }
                quantized_dimension = q.i32(6, 0)?;
            }
            let folded = match (dtype, data) {
                (INT32, Some(d)) if d.len() % 4 == 0 && d.len() <= 4096 => Some(
                    d.chunks_exact(4)
                        .map(|c| i32::from_le_bytes(c.try_into().expect("4 bytes")))
                        .collect(),
                ),
                _ => None,
            };
            tensors.push(Tensor {
                name,
                shape,
                dtype,
                data,
                scales,
                zero_points,
                quantized_dimension,
                folded,
            });
        }
        let indices =
            |v: Option<super::flatbuffer::Vector<'_>>, what: &str| -> Result<Vec<i32>, Error> {
                let list = match v {
                    Some(v) => v.i32s()?,
                    None => Vec::new(),
                };
                for &t in &list {
                    if t < -1 || t >= tensors.len() as i32 {
                        return Err(Error::new(format!(
                            "{what} names tensor {t} of {}",
                            tensors.len()
                        )));
                    }
                }
                Ok(list)
            };
        let inputs = indices(graph.vector(1, 4)?, "the subgraph's inputs")?;
        let outputs = indices(graph.vector(2, 4)?, "the subgraph's outputs")?;
        let operator_tables = graph
            .vector(3, 4)?
            .ok_or_else(|| Error::new("no operators".into()))?;
        let mut operators = Vec::with_capacity(operator_tables.len());
        for index in 0..operator_tables.len() {
            let o = operator_tables.table(index)?;
            let opcode = o.u32(0, 0)? as usize;
            let code = *builtin.get(opcode).ok_or_else(|| {
                Error::new(format!(
                    "operator {index} names operator code {opcode} of {}",
                    builtin.len()
                ))
            })?;
            let what = format!("operator {index} ({})", op_name(code));
            let op_inputs = indices(o.vector(1, 4)?, &what)?;
            let op_outputs = indices(o.vector(2, 4)?, &what)?;
            if op_outputs.is_empty() || op_outputs.contains(&-1) {
                return Err(Error::new(format!("{what} has no output tensor")));
            }
            let options_table = o.table(4)?;
            if let (Some(expected), Some(_)) = (options_type(code), options_table) {
                let found = o.u8(3, 0)?;
                if found != expected {
                    return Err(Error::new(format!(
                        "{what} carries options of union type {found}, expected {expected}"
                    )));
                }
            }
            let options = read_options(code, options_table).map_err(|e| e.at(&what))?;
            operators.push(Operator {
                index,
                code,
                inputs: op_inputs,
                outputs: op_outputs,
                options,
            });
        }
        let mut graph = Graph {
            tensors,
            operators,
            inputs,
            outputs,
        };
        graph.fold_shapes()?;
        Ok(graph)
    }

    /// Evaluates SHAPE, STRIDED_SLICE and PACK on values known at import time and removes
    /// them; what they computed stays as the folded value of their output tensors.
    fn fold_shapes(&mut self) -> Result<(), Error> {
        let mut kept = Vec::with_capacity(self.operators.len());
        for o in core::mem::take(&mut self.operators) {
            let value = match o.code {
                op::SHAPE | op::STRIDED_SLICE | op::PACK => Some(self.evaluate(&o)?),
                _ => None,
            };
            match value {
                Some(v) => self.tensors[o.outputs[0] as usize].folded = Some(v),
                None => kept.push(o),
            }
        }
        self.operators = kept;
        Ok(())
    }

    fn folded(&self, o: &Operator, input: usize) -> Result<&[i32], Error> {
        let t = *o
            .inputs
            .get(input)
            .ok_or_else(|| Error::new(format!("{} lacks input {input}", o.describe())))?;
        if t < 0 {
            return Err(Error::new(format!("{} lacks input {input}", o.describe())));
        }
        self.tensors[t as usize].folded.as_deref().ok_or_else(|| {
            Error::new(format!(
                "{} computes on tensor {t} ({}), which is not known at import time: only shape computations on static shapes are folded",
                o.describe(),
                self.tensors[t as usize].name
            ))
        })
    }

    fn evaluate(&self, o: &Operator) -> Result<Vec<i32>, Error> {
        match o.code {
            op::SHAPE => {
                let t = *o
                    .inputs
                    .first()
                    .ok_or_else(|| Error::new(format!("{} has no input", o.describe())))?;
                if t < 0 {
                    return Err(Error::new(format!("{} has no input", o.describe())));
                }
                Ok(self.tensors[t as usize].shape.clone())
            }
            op::STRIDED_SLICE => {
                let input = self.folded(o, 0)?;
                let (begin, end, strides) =
                    (self.folded(o, 1)?, self.folded(o, 2)?, self.folded(o, 3)?);
                let opts = &o.options;
                if begin.len() != 1
                    || end.len() != 1
                    || strides.len() != 1
                    || opts.ellipsis_mask != 0
                    || opts.new_axis_mask != 0
                {
                    return Err(Error::new(format!(
                        "{}: only one-dimensional slices of a shape are folded",
                        o.describe()
                    )));
                }
                let n = input.len() as i64;
                let stride = strides[0] as i64;
                if stride != 1 {
                    return Err(Error::new(format!(
                        "{}: only stride 1 is folded",
                        o.describe()
                    )));
                }
                let wrap = |v: i64| if v < 0 { (v + n).max(0) } else { v.min(n) };
                let mut b = if opts.begin_mask & 1 != 0 {
                    0
                } else {
                    wrap(begin[0] as i64)
                };
                let mut e = if opts.end_mask & 1 != 0 {
                    n
                } else {
                    wrap(end[0] as i64)
                };
                if opts.shrink_axis_mask & 1 != 0 {
                    b = wrap(begin[0] as i64);
                    e = b + 1;
                    if b >= n {
                        return Err(Error::new(format!("{}: index out of range", o.describe())));
                    }
                }
                Ok(input[b as usize..(e.max(b)) as usize].to_vec())
            }
            _ => {
                if o.options.pack_axis != 0 {
                    return Err(Error::new(format!(
                        "{}: only packing along axis 0 is folded",
                        o.describe()
                    )));
                }
                let mut out = Vec::new();
                for i in 0..o.inputs.len() {
                    let v = self.folded(o, i)?;
                    if v.len() != 1 {
                        return Err(Error::new(format!(
                            "{}: only scalars are packed",
                            o.describe()
                        )));
                    }
                    out.push(v[0]);
                }
                Ok(out)
            }
        }
    }
}
