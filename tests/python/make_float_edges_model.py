#!/usr/bin/env python3
"""Writes tests/fixtures/tflite/more/float_edges.tflite and its expected outputs: a small Keras
model converted with full-integer quantization but float32 input and output (so QUANTIZE and
DEQUANTIZE at its edges), run by LiteRT's reference kernels on 50 seeded float inputs; the
values are stored as hexadecimal bit patterns. tests/tflite_more.rs checks constnet against them.

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu ai-edge-litert numpy
    /tmp/tfvenv/bin/python tests/python/make_float_edges_model.py

Run with TensorFlow 2.21.0 and ai-edge-litert 2.3.0. Never needed by `cargo test`.
"""
import os, numpy as np
os.environ["TF_CPP_MIN_LOG_LEVEL"]="3"
import tensorflow as tf, keras
from keras import layers as L
from ai_edge_litert.interpreter import Interpreter, OpResolverType
keras.utils.set_random_seed(7)
i = keras.Input((6, 6, 2), batch_size=1)
x = L.Conv2D(4, 3, padding="same", activation="relu")(i)
x = L.Flatten()(x)
o = L.Dense(5)(x)
m = keras.Model(i, o)
rng = np.random.default_rng(3)
def rep():
    for _ in range(100):
        yield [rng.uniform(-1, 1, (1, 6, 6, 2)).astype(np.float32)]
c = tf.lite.TFLiteConverter.from_keras_model(m)
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = rep
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
data = c.convert()
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "tflite", "more", "float_edges.tflite")
open(out, "wb").write(data)
it = Interpreter(model_path=out, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
it.allocate_tensors()
print([op["op_name"] for op in it._get_ops_details()])
inp, outp = it.get_input_details()[0], it.get_output_details()[0]
print(inp["dtype"], outp["dtype"], inp["quantization"], outp["quantization"])
rng = np.random.default_rng(11)
lines = ["# float_edges: float32 input and output around an int8 model (QUANTIZE, CONV_2D, RESHAPE, FULLY_CONNECTED, DEQUANTIZE), TF %s, LiteRT reference kernels (BUILTIN_REF)" % tf.__version__,
         "# each line: the float32 input (72 values, NHWC) as hexadecimal bit patterns, ' | ', the float32 output (5 values) as hexadecimal bit patterns"]
for k in range(50):
    xin = rng.uniform(-1.2, 1.2, (1, 6, 6, 2)).astype(np.float32)
    if k == 0: xin[0,0,0,0] = 5.0   # saturates
    it.set_tensor(inp["index"], xin); it.invoke()
    y = it.get_tensor(outp["index"]).astype(np.float32)
    f = lambda a: " ".join("%08x" % v for v in a.flatten().view(np.uint32))
    lines.append(f(xin) + " | " + f(y))
open(out.replace(".tflite", ".expected.txt"), "w").write("\n".join(lines) + "\n")
