"""Makes the small int8 TensorFlow Lite models of tests/fixtures/tflite/more/ and their expected outputs.

What it makes: eight tiny Keras models (fixed seeds, random weights and biases, no training), each
converted by TensorFlow's `TFLiteConverter.from_keras_model` with full-integer post-training
quantization (int8 input and output, int8 weights, int32 biases; calibrated on 100 random inputs
drawn with a fixed seed), and run by **LiteRT's reference kernels** (`OpResolverType.BUILTIN_REF`)
on 50 random int8 inputs (fixed seed, the full range -128..127). For each model NAME it writes

    NAME.tflite          the converted model (one int8 input, one int8 output, batch 1)
    NAME.expected.txt    `#` comment lines (name, versions, input/output quantization, shapes,
                         operators with their options), then one line per input:
                         the int8 input values flattened row-major (NHWC), ` | `, the int8
                         output values flattened row-major, all separated by single spaces.

The models and what each one exercises:

    mean_rescaled         CONV_2D -> MEAN (keep_dims false; input and output quantization differ) -> FULLY_CONNECTED
    mean_keepdims         CONV_2D -> MEAN (keep_dims true, 6x6 window) -> RESHAPE -> FULLY_CONNECTED
    avgpool_same          CONV_2D -> AVERAGE_POOL_2D 3x3/2 SAME -> MAX_POOL_2D 2x2/1 SAME -> RESHAPE -> FULLY_CONNECTED
    depthwise_multiplier  DEPTHWISE_CONV_2D multiplier 2 SAME RELU6 -> DEPTHWISE_CONV_2D dilation 2 VALID
                          -> CONV_2D 1x1 -> RESHAPE -> FULLY_CONNECTED
    conv_strided_dilated  CONV_2D 3x3/2 SAME on an even size -> CONV_2D 3x3 dilation 2 SAME RELU6
                          -> CONV_2D 5x3 VALID -> RESHAPE -> FULLY_CONNECTED
    residual_projection   a ResNet projection block: ADD with a fused RELU of a strided body and a
                          1x1 strided shortcut, then MEAN and FULLY_CONNECTED
    dense_per_tensor      CONV_2D -> RESHAPE -> FULLY_CONNECTED x2 with per-tensor weight scales
                          (`_experimental_disable_per_channel_quantization_for_dense_layers`)
    conv_grouped          CONV_2D with 2 groups SAME RELU -> CONV_2D with 3 groups 3x3/2 VALID
                          -> RESHAPE -> FULLY_CONNECTED (filters of 2 input channels each)

The script checks every converted model: one int8 input and one int8 output, no float tensor, only
the builtin operators CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D,
MEAN, ADD, RESHAPE (and the SHAPE, STRIDED_SLICE, PACK that compute a Flatten's shape), the
options each model is meant to have, and a file under 60 KB. It fails loudly otherwise.
The two models with dilated convolutions are built with a fixed batch of 1: with a free batch the
converter lowers a dilated convolution to SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND around a plain one.
The others keep Keras's free batch, so their Flatten is a RESHAPE whose shape SHAPE, STRIDED_SLICE
and PACK compute. Fully connected weights are per channel unless a model turns that off.
It also runs the same inputs through LiteRT's optimized kernels and prints how many output values
differ from the reference ones (they are not written anywhere).

How to run it (TensorFlow is only needed here, never by the Rust tests):

    python3 -m venv /tmp/tfvenv
    /tmp/tfvenv/bin/pip install tensorflow-cpu==2.21.0 ai-edge-litert==2.3.0 numpy
    /tmp/tfvenv/bin/python tests/python/make_int8_models.py [OUT_DIR]

OUT_DIR defaults to the repository's tests/fixtures/tflite/more/. Rerunning it
with the same versions rewrites byte-identical files.

Run with: Python 3.11.7, tensorflow-cpu 2.21.0 (Keras 3.15.1), ai-edge-litert 2.3.0, numpy 2.4.6.
"""
import contextlib
import io
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf
import keras
from keras import layers
import ai_edge_litert
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

ALLOWED_OPS = {
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D", "AVERAGE_POOL_2D",
    "MEAN", "ADD", "RESHAPE", "SHAPE", "STRIDED_SLICE", "PACK",
}
CALIBRATION_SAMPLES = 100
TEST_INPUTS = 50
MAX_BYTES = 60 * 1024


# ---------------------------------------------------------------------------------------------
# The models. Each builder returns an uncompiled Keras model with batch size left free (the
# converter fixes it to 1). Seeds are set before each build, so the weights are reproducible.

def mean_rescaled():
    x = keras.Input((6, 6, 3))
    y = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    y = layers.GlobalAveragePooling2D(keepdims=False)(y)
    y = layers.Dense(5)(y)
    return keras.Model(x, y)


def mean_keepdims():
    x = keras.Input((8, 8, 2))
    y = layers.Conv2D(6, 3, padding="valid")(x)  # 6x6x6, no activation: signed values
    y = layers.GlobalAveragePooling2D(keepdims=True)(y)  # 1x1x6
    y = layers.Flatten()(y)
    y = layers.Dense(4)(y)
    return keras.Model(x, y)


def avgpool_same():
    x = keras.Input((9, 8, 2))
    y = layers.Conv2D(4, 3, padding="same", activation="relu")(x)  # 9x8x4
    # H: 5 outputs, 2 padding rows (1 top, 1 bottom); W: 4 outputs, 1 padding column (right).
    y = layers.AveragePooling2D(pool_size=3, strides=2, padding="same")(y)  # 5x4x4
    # 1 padding row at the bottom and 1 column on the right.
    y = layers.MaxPooling2D(pool_size=2, strides=1, padding="same")(y)  # 5x4x4
    y = layers.Flatten()(y)
    y = layers.Dense(6)(y)
    return keras.Model(x, y)


def depthwise_multiplier():
    # A fixed batch of 1: with a free batch the converter lowers a dilated convolution to
    # SPACE_TO_BATCH_ND, a plain convolution and BATCH_TO_SPACE_ND (and Flatten to a RESHAPE
    # whose shape a SHAPE/STRIDED_SLICE/PACK computes); with batch 1 it keeps the dilation
    # factors in the DEPTHWISE_CONV_2D / CONV_2D and Flatten is a RESHAPE with a constant shape.
    x = keras.Input((8, 8, 3), batch_size=1)
    y = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu6")(x)  # 8x8x6
    y = layers.DepthwiseConv2D(3, dilation_rate=2, padding="valid")(y)  # 4x4x6
    y = layers.Conv2D(5, 1)(y)  # 4x4x5
    y = layers.Flatten()(y)
    y = layers.Dense(6)(y)
    return keras.Model(x, y)


def conv_strided_dilated():
    x = keras.Input((12, 10, 2), batch_size=1)  # batch 1: see depthwise_multiplier
    # Even sizes: TF's SAME pads 1 row at the bottom and 1 column on the right, none on top/left.
    y = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(x)  # 6x5x4
    y = layers.Conv2D(6, 3, dilation_rate=2, padding="same", activation="relu6")(y)  # 6x5x6
    y = layers.Conv2D(5, (5, 3), padding="valid")(y)  # 2x3x5
    y = layers.Flatten()(y)
    y = layers.Dense(7)(y)
    return keras.Model(x, y)


def residual_projection():
    x = keras.Input((8, 8, 3))
    y = layers.Conv2D(8, 3, padding="same", activation="relu")(x)  # 8x8x8
    body = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(y)  # 4x4x16
    body = layers.Conv2D(16, 3, padding="same")(body)
    shortcut = layers.Conv2D(16, 1, strides=2)(y)  # 4x4x16
    y = layers.Add()([body, shortcut])
    y = layers.ReLU()(y)  # fused into the ADD
    y = layers.GlobalAveragePooling2D()(y)
    y = layers.Dense(10)(y)
    return keras.Model(x, y)


def dense_per_tensor():
    x = keras.Input((4, 4, 2))
    y = layers.Conv2D(4, 3, padding="same", activation="relu")(x)  # per-channel (the default)
    y = layers.Flatten()(y)  # 64
    y = layers.Dense(16, activation="relu")(y)  # per-tensor weights
    y = layers.Dense(6)(y)  # per-tensor weights
    return keras.Model(x, y)


def conv_grouped():
    x = keras.Input((6, 6, 4))
    # Grouped convolutions: CONV_2D whose filter has fewer input channels than the image.
    y = layers.Conv2D(6, 3, padding="same", groups=2, activation="relu")(x)  # 6x6x6, 2 per group
    y = layers.Conv2D(6, 3, strides=2, padding="valid", groups=3)(y)  # 2x2x6, 2 per group
    y = layers.Flatten()(y)  # 24
    y = layers.Dense(5)(y)
    return keras.Model(x, y)


# name -> (builder, seed, converter attributes to set, checks on the converted model)
MODELS = {
    "mean_rescaled": (mean_rescaled, 101, {}, ["mean_rescaled"]),
    "mean_keepdims": (mean_keepdims, 102, {}, ["mean_keepdims"]),
    "avgpool_same": (avgpool_same, 103, {}, ["pools_same"]),
    "depthwise_multiplier": (depthwise_multiplier, 104, {}, ["depthwise"]),
    "conv_strided_dilated": (conv_strided_dilated, 105, {}, ["conv_strided_dilated"]),
    "residual_projection": (residual_projection, 106, {}, ["residual"]),
    "dense_per_tensor": (
        dense_per_tensor,
        107,
        {"_experimental_disable_per_channel_quantization_for_dense_layers": True},
        ["fc_per_tensor"],
    ),
    "conv_grouped": (conv_grouped, 108, {}, ["grouped"]),
}


# ---------------------------------------------------------------------------------------------
# Conversion.

def randomize_biases(model, rng):
    """Keras initializes biases to zero; random ones make the bias path matter."""
    for layer in model.layers:
        bias = getattr(layer, "bias", None)
        if bias is not None:
            bias.assign(rng.normal(0.0, 0.2, size=bias.shape).astype(np.float32))


def convert(model, input_shape, seed, attributes):
    calibration = np.random.default_rng(seed + 1000).uniform(
        -1.0, 1.0, size=(CALIBRATION_SAMPLES, 1) + input_shape
    ).astype(np.float32)

    def representative_dataset():
        for sample in calibration:
            yield [sample]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    for key, value in attributes.items():
        assert hasattr(converter, key), f"the converter has no attribute {key}"
        setattr(converter, key, value)
    with contextlib.redirect_stdout(io.StringIO()):  # Keras prints the saved model's signature
        return converter.convert()


# ---------------------------------------------------------------------------------------------
# Reading the converted flatbuffer: operators with their options, tensor quantization.

OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
PADDING = {v: k for k, v in vars(schema.Padding).items() if not k.startswith("_")}
ACTIVATION = {v: k for k, v in vars(schema.ActivationFunctionType).items() if not k.startswith("_")}
TENSOR_TYPE = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}


def op_name(model, op):
    code = model.operatorCodes[op.opcodeIndex]
    return OP_NAMES[max(code.builtinCode, code.deprecatedBuiltinCode)]


def tensor_quant(tensor):
    q = tensor.quantization
    if q is None or q.scale is None or len(q.scale) == 0:
        return None
    return [float(s) for s in q.scale], [int(z) for z in q.zeroPoint]


def describe_op(model, graph, op):
    """A dict with the operator's name, input/output shapes and the options that matter."""
    name = op_name(model, op)
    o = op.builtinOptions
    d = {"op": name}
    tensors = graph.tensors
    d["in"] = [[int(n) for n in tensors[i].shape] for i in op.inputs if i >= 0]
    d["out"] = [[int(n) for n in tensors[i].shape] for i in op.outputs]
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        d["padding"] = PADDING[o.padding]
        d["stride"] = (o.strideH, o.strideW)
        d["dilation"] = (o.dilationHFactor, o.dilationWFactor)
        d["act"] = ACTIVATION[o.fusedActivationFunction]
        d["kernel"] = [int(n) for n in tensors[op.inputs[1]].shape]
        d["weight_scales"] = len(tensor_quant(tensors[op.inputs[1]])[0])
        if name == "DEPTHWISE_CONV_2D":
            d["depth_multiplier"] = o.depthMultiplier
    elif name in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
        d["padding"] = PADDING[o.padding]
        d["stride"] = (o.strideH, o.strideW)
        d["filter"] = (o.filterHeight, o.filterWidth)
        d["act"] = ACTIVATION[o.fusedActivationFunction]
    elif name == "FULLY_CONNECTED":
        d["act"] = ACTIVATION[o.fusedActivationFunction]
        d["keep_num_dims"] = bool(o.keepNumDims)
        d["weight_scales"] = len(tensor_quant(tensors[op.inputs[1]])[0])
    elif name == "MEAN":
        d["keep_dims"] = bool(o.keepDims)
        d["axes"] = [int(a) for a in constant_int32(model, tensors[op.inputs[1]])]
        d["in_q"] = tensor_quant(tensors[op.inputs[0]])
        d["out_q"] = tensor_quant(tensors[op.outputs[0]])
    elif name == "ADD":
        d["act"] = ACTIVATION[o.fusedActivationFunction]
        d["add_q"] = [tensor_quant(tensors[i]) for i in list(op.inputs) + list(op.outputs)]
    return d


def constant_int32(model, tensor):
    data = model.buffers[tensor.buffer].data
    return np.frombuffer(bytes(bytearray(data)), dtype=np.int32)


def format_op(d):
    parts = [d["op"]]
    if "kernel" in d:
        k = d["kernel"]
        parts.append(f"{k[1]}x{k[2]}")
    if "filter" in d:
        parts.append(f"{d['filter'][0]}x{d['filter'][1]}")
    if "padding" in d:
        parts.append(d["padding"])
    if "stride" in d and d["stride"] != (1, 1):
        parts.append(f"stride {d['stride'][0]}x{d['stride'][1]}")
    if "dilation" in d and d["dilation"] != (1, 1):
        parts.append(f"dilation {d['dilation'][0]}x{d['dilation'][1]}")
    if "depth_multiplier" in d:
        parts.append(f"multiplier {d['depth_multiplier']}")
    if "keep_dims" in d:
        parts.append(f"axes {d['axes']} keep_dims {str(d['keep_dims']).lower()}")
    if d.get("act") not in (None, "NONE"):
        parts.append(f"fused {d['act']}")
    if "weight_scales" in d:
        parts.append("per-tensor weights" if d["weight_scales"] == 1 else f"per-channel weights ({d['weight_scales']})")
    if d.get("keep_num_dims"):
        parts.append("keep_num_dims")
    if "in_q" in d:
        same = d["in_q"] == d["out_q"]
        parts.append("input/output quantization " + ("equal" if same else "differ"))
        parts.append(f"(in {d['in_q'][0][0]:.9g}/{d['in_q'][1][0]}, out {d['out_q'][0][0]:.9g}/{d['out_q'][1][0]})")
    if "add_q" in d:
        parts.append("(" + ", ".join(f"{n} {q[0][0]:.9g}/{q[1][0]}" for n, q in zip(("a", "b", "out"), d["add_q"])) + ")")
    parts.append(f"{d['in'][0]} -> {d['out'][0]}")
    return " ".join(str(p) for p in parts)


# ---------------------------------------------------------------------------------------------
# Checks.

def check_model(name, model, ops, checks):
    graph = model.subgraphs[0]
    assert len(model.subgraphs) == 1, f"{name}: {len(model.subgraphs)} subgraphs"
    assert len(graph.inputs) == 1 and len(graph.outputs) == 1, f"{name}: inputs {graph.inputs} outputs {graph.outputs}"
    for t in (graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]):
        assert t.type == schema.TensorType.INT8, f"{name}: {t.name} is {TENSOR_TYPE[t.type]}"
    for t in graph.tensors:
        assert t.type in (schema.TensorType.INT8, schema.TensorType.INT32), (
            f"{name}: tensor {t.name} is {TENSOR_TYPE[t.type]}")
    names = [d["op"] for d in ops]
    extra = sorted(set(names) - ALLOWED_OPS)
    assert not extra, f"{name}: operators outside the allowed set: {extra}"

    def find(op_name):
        return [d for d in ops if d["op"] == op_name]

    for check in checks:
        if check == "mean_rescaled":
            (m,) = find("MEAN")
            assert not m["keep_dims"] and m["in_q"] != m["out_q"], f"{name}: {m}"
        elif check == "mean_keepdims":
            (m,) = find("MEAN")
            assert m["keep_dims"] and m["in"][0][1] * m["in"][0][2] >= 16, f"{name}: {m}"
        elif check == "pools_same":
            (a,) = find("AVERAGE_POOL_2D")
            (p,) = find("MAX_POOL_2D")
            assert a["padding"] == "SAME" and a["filter"] == (3, 3) and a["stride"] == (2, 2), f"{name}: {a}"
            assert p["padding"] == "SAME" and p["filter"] == (2, 2) and p["stride"] == (1, 1), f"{name}: {p}"
        elif check == "depthwise":
            dw = find("DEPTHWISE_CONV_2D")
            assert any(d["depth_multiplier"] == 2 and d["padding"] == "SAME" and d["act"] == "RELU6" for d in dw), dw
            assert any(d["dilation"] == (2, 2) for d in dw), dw
        elif check == "conv_strided_dilated":
            convs = find("CONV_2D")
            assert any(c["stride"] == (2, 2) and c["padding"] == "SAME" for c in convs), convs
            assert any(c["dilation"] == (2, 2) and c["padding"] == "SAME" and c["act"] == "RELU6" for c in convs), convs
            assert any(c["kernel"][1:3] == [5, 3] and c["padding"] == "VALID" for c in convs), convs
        elif check == "residual":
            (a,) = find("ADD")
            assert a["act"] == "RELU", a
        elif check == "grouped":
            convs = find("CONV_2D")
            assert [c["kernel"][3] for c in convs] == [2, 2] and [c["in"][0][3] for c in convs] == [4, 6], convs
        elif check == "fc_per_tensor":
            fcs = find("FULLY_CONNECTED")
            assert fcs and all(f["weight_scales"] == 1 for f in fcs), fcs
    for d in find("CONV_2D") + find("DEPTHWISE_CONV_2D"):
        assert d["weight_scales"] > 1 or d["kernel"][0 if d["op"] == "CONV_2D" else 3] == 1, d
    if "fc_per_tensor" not in checks:
        for d in find("FULLY_CONNECTED"):
            assert d["weight_scales"] > 1, f"{name}: FC weights expected per-channel: {d}"


# ---------------------------------------------------------------------------------------------

def make(name, out_dir):
    builder, seed, attributes, checks = MODELS[name]
    keras.utils.set_random_seed(seed)
    model = builder()
    randomize_biases(model, np.random.default_rng(seed))
    input_shape = tuple(model.inputs[0].shape[1:])
    tflite = convert(model, input_shape, seed, attributes)
    assert len(tflite) < MAX_BYTES, f"{name}: {len(tflite)} bytes"
    path = os.path.join(out_dir, f"{name}.tflite")
    with open(path, "wb") as f:
        f.write(tflite)

    fb = flatbuffer_utils.read_model_from_bytearray(bytearray(tflite))
    graph = fb.subgraphs[0]
    ops = [describe_op(fb, graph, op) for op in graph.operators]
    check_model(name, fb, ops, checks)

    interpreter = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interpreter.allocate_tensors()
    runtime_ops = [d["op_name"] for d in interpreter._get_ops_details()]
    assert runtime_ops == [d["op"] for d in ops], (runtime_ops, ops)
    (inp,) = interpreter.get_input_details()
    (out,) = interpreter.get_output_details()
    assert inp["dtype"] == np.int8 and out["dtype"] == np.int8
    in_scale, in_zp = inp["quantization"]
    out_scale, out_zp = out["quantization"]

    # The same inputs through LiteRT's optimized kernels, only to report how often they differ.
    fast = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    fast.allocate_tensors()

    rng = np.random.default_rng(seed + 2000)
    inputs = rng.integers(-128, 128, size=(TEST_INPUTS,) + tuple(inp["shape"]), dtype=np.int8)
    rows, differ = [], 0
    for x in inputs:
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        y = interpreter.get_tensor(out["index"]).copy()
        fast.set_tensor(inp["index"], x)
        fast.invoke()
        differ += int(np.count_nonzero(fast.get_tensor(out["index"]) != y))
        rows.append((x.ravel(), y.ravel()))
    outputs = np.stack([y for _, y in rows])
    assert len(np.unique(outputs)) > 4, f"{name}: degenerate outputs {np.unique(outputs)}"

    lines = [
        f"# {name}: int8 TFLite model (TensorFlow {tf.__version__} converter, full-integer PTQ), "
        f"run by LiteRT {ai_edge_litert.__version__}'s reference kernels (OpResolverType.BUILTIN_REF)",
        f"# input: scale {in_scale!r} zero_point {in_zp}; output: scale {out_scale!r} zero_point {out_zp}",
        f"# input shape {[int(n) for n in inp['shape']]} (NHWC), output shape {[int(n) for n in out['shape']]}",
        "# operators: " + ", ".join(d["op"] for d in ops),
    ]
    lines += [f"#   {format_op(d)}" for d in ops]
    lines += [
        f"# {TEST_INPUTS} random int8 inputs (numpy default_rng({seed + 2000}), full range -128..127); "
        f"made by tests/python/make_int8_models.py",
        "# each line: the int8 input values (row-major NHWC), ' | ', the int8 output values",
    ]
    for x, y in rows:
        lines.append(" ".join(str(int(v)) for v in x) + " | " + " ".join(str(int(v)) for v in y))
    with open(os.path.join(out_dir, f"{name}.expected.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")

    print(f"== {name}: {len(tflite)} bytes, input {[int(n) for n in inp['shape']]} scale {in_scale!r} zp {in_zp}, "
          f"output {[int(n) for n in out['shape']]} scale {out_scale!r} zp {out_zp}")
    print(f"   ops (interpreter._get_ops_details): {runtime_ops}")
    for d in ops:
        print(f"   {format_op(d)}")
    print(f"   outputs span {outputs.min()}..{outputs.max()}; optimized kernels differ from the reference "
          f"in {differ} of {outputs.size} values")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "fixtures", "tflite", "more")
    os.makedirs(out_dir, exist_ok=True)
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, LiteRT {ai_edge_litert.__version__}, numpy {np.__version__}")
    for name in MODELS:
        make(name, out_dir)


if __name__ == "__main__":
    main()
