#!/usr/bin/env python3
"""Writes NAME.tflm.txt beside NAME.expected.txt for the three digits models of
tests/fixtures/tflite/ and the five int8 models of benches/data/mlperf_int8/: the outputs of
TensorFlow Lite Micro (the `tflite-micro` package's Python interpreter, which runs TFLM's
reference kernels) on the inputs of the expected file, in the same format (`input values |
output values`, row-major). TFLM requantizes FULLY_CONNECTED with the fixed-point multiplier of
its convolutions where LiteRT's reference kernels round an f64 product, so a few values differ
from NAME.expected.txt; tests/tflite.rs and tests/tflite_mlperf.rs check that constnet's
networks after `use_fixed_point()` give every TFLM value exactly.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install tflite-micro numpy
    /tmp/venv/bin/python tests/python/tflm_expected.py

Run with tflite-micro 0.dev20261023182759 and numpy 2.x. Never needed by `cargo test`.
"""
import os
import numpy as np
from tflite_micro.python.tflite_micro import runtime
import tflite_micro.python.tflite_micro._version as version

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
MODELS = [
    os.path.join(ROOT, "tests", "fixtures", "tflite", n)
    for n in ["digits_mlp_64_32_10_int8", "digits_cnn_dw_int8", "digits_resnet_int8"]
] + [
    os.path.join(ROOT, "benches", "data", "mlperf_int8", f"{n}_int8")
    for n in ["M", "ad", "kws", "resnet8", "vww"]
]

for base in MODELS:
    name = os.path.basename(base)
    lines = [f"# {name}: TensorFlow Lite Micro (tflite-micro {getattr(version, '__version__', '?')}) on the inputs of {name}.expected.txt"]
    differ = 0
    for line in open(base + ".expected.txt"):
        if line.startswith("#") or not line.strip():
            continue
        x, reference = line.split("|")
        it = runtime.Interpreter.from_file(base + ".tflite", arena_size=4 << 20)
        shape = it.get_input_details(0)["shape"]
        it.set_input(np.array(x.split(), dtype=np.int8).reshape(shape), 0)
        it.invoke()
        y = it.get_output(0).reshape(-1)
        differ += int(np.sum(y != np.array(reference.split(), dtype=np.int8)))
        lines.append(" ".join(x.split()) + " | " + " ".join(str(v) for v in y))
    open(base + ".tflm.txt", "w").write("\n".join(lines) + "\n")
    print(f"{name}: {len(lines) - 1} rows, {differ} values differ from LiteRT's reference kernels")
