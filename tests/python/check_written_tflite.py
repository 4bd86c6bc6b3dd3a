#!/usr/bin/env python3
"""Runs `.tflite` files written by `constnet::tflite::to_bytes` in LiteRT and compares every
output with the expected file beside the model constnet read (`input values | output values`
per line, the format of tests/fixtures/tflite/).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install ai-edge-litert numpy
    cargo test --release --features tflite --test tflite --test tflite_mlperf --test tflite_more
    cargo run --release --example 14_quantize
    /tmp/venv/bin/python tests/python/check_written_tflite.py

The tests keep what they write in target/tmp/written_tflite/ (the three digits fixtures
re-written, the five MLPerf Tiny int8 models and the grouped-convolution model); 14_quantize writes the int8 digits CNN it
quantized, with constnet's own outputs on the 360 test rows, to target/constnet-examples/.
Each file runs with LiteRT's reference kernels (OpResolverType.BUILTIN_REF, the contract
constnet's int8 kernels equal), which must give every expected value exactly, and with its
default optimized kernels, whose differing values are only counted (they round differently
from the reference by one unit in a few percent of values), and its signature must be the one
constnet writes (`serving_default`, `input` to `output`). With the `tflite-micro` package
installed, each re-written file also runs in TensorFlow Lite Micro beside the file it was read
from, and must give the same outputs. Never needed by `cargo test`.
"""
import os
import sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
WRITTEN = os.path.join(ROOT, "target", "tmp", "written_tflite")
try:
    from tflite_micro.python.tflite_micro import runtime as micro
except ImportError:
    micro = None

CASES = [
    (os.path.join(WRITTEN, f"{n}.tflite"), os.path.join(ROOT, "tests", "fixtures", "tflite", f"{n}.expected.txt"))
    for n in ["digits_mlp_64_32_10_int8", "digits_cnn_dw_int8", "digits_resnet_int8"]
] + [
    (os.path.join(WRITTEN, f"{n}.tflite"), os.path.join(ROOT, "benches", "data", "mlperf_int8", f"{n}_int8.expected.txt"))
    for n in ["M", "ad", "kws", "resnet8", "vww"]
] + [
    (os.path.join(WRITTEN, "conv_grouped.tflite"),
     os.path.join(ROOT, "tests", "fixtures", "tflite", "more", "conv_grouped.expected.txt")),
] + [
    (os.path.join(ROOT, "target", "constnet-examples", "digits_cnn_int8.tflite"),
     os.path.join(ROOT, "target", "constnet-examples", "digits_cnn_int8.expected.txt")),
]


def rows(path):
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        x, y = line.split("|")
        yield np.array(x.split(), dtype=np.int8), np.array(y.split(), dtype=np.int8)


def run(model, resolver, x):
    it = Interpreter(model_path=model, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    it.set_tensor(inp["index"], x.reshape(inp["shape"]))
    it.invoke()
    return it.get_tensor(out["index"]).reshape(-1)


failed = False
for model, expected in CASES:
    if not os.path.exists(model):
        print(f"missing {model}: run the commands in this script's docstring")
        failed = True
        continue
    count = differ_ref = differ_opt = 0
    for x, y in rows(expected):
        count += y.size
        differ_ref += int(np.sum(run(model, OpResolverType.BUILTIN_REF, x) != y))
        differ_opt += int(np.sum(run(model, OpResolverType.AUTO, x) != y))
    name = os.path.basename(model)
    print(f"{name}: {count} values; reference kernels differ in {differ_ref}, optimized kernels in {differ_opt}")
    failed |= differ_ref != 0
    # The one signature constnet writes, which LiteRT's signature runners use.
    signatures = Interpreter(model_path=model).get_signature_list()
    if signatures != {"serving_default": {"inputs": ["input"], "outputs": ["output"]}}:
        print(f"  unexpected signatures {signatures}")
        failed = True
    original = expected.replace(".expected.txt", ".tflite")
    if micro is not None and os.path.exists(original) and os.path.abspath(original) != os.path.abspath(model):
        differ_micro = 0
        for x, _ in rows(expected):
            outputs = []
            for path in (model, original):
                it = micro.Interpreter.from_file(path, arena_size=4 << 20)
                it.set_input(x.reshape(it.get_input_details(0)["shape"]), 0)
                it.invoke()
                outputs.append(it.get_output(0).reshape(-1))
            differ_micro += int(np.sum(outputs[0] != outputs[1]))
        print(f"  TensorFlow Lite Micro: the written file and the original differ in {differ_micro} values")
        failed |= differ_micro != 0
    # constnet's own outputs after `use_fixed_point` (TensorFlow Lite Micro's requantization).
    fixed_point = expected.replace(".expected.txt", ".tflm.txt")
    if micro is not None and os.path.exists(fixed_point):
        count = differ_micro = 0
        for x, y in rows(fixed_point):
            it = micro.Interpreter.from_file(model, arena_size=4 << 20)
            it.set_input(x.reshape(it.get_input_details(0)["shape"]), 0)
            it.invoke()
            count += y.size
            differ_micro += int(np.sum(it.get_output(0).reshape(-1) != y))
        print(f"  TensorFlow Lite Micro: {count} values, {differ_micro} differ from {os.path.basename(fixed_point)}")
        failed |= differ_micro != 0
sys.exit(1 if failed else 0)
