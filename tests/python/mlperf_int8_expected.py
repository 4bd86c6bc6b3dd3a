#!/usr/bin/env python3
"""Writes NAME.expected.txt beside each int8 MLPerf Tiny model in benches/data/mlperf_int8/:
the outputs of LiteRT's reference kernels (OpResolverType.BUILTIN_REF) on 3 seeded random int8
inputs, in the format of tests/fixtures/tflite/ (`input values | output values`, row-major).
tests/tflite_mlperf.rs checks constnet's int8 networks against them.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install ai-edge-litert numpy
    /tmp/venv/bin/python tests/python/mlperf_int8_expected.py

Run with ai-edge-litert 2.x and numpy 2.x. Never needed by `cargo test`.
"""
import os
import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benches", "data", "mlperf_int8")

for name in ["M", "ad", "kws", "resnet8", "vww"]:
    path = os.path.join(HERE, f"{name}_int8.tflite")
    it = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    rng = np.random.default_rng(2026)
    lines = [
        f"# {name}_int8: LiteRT reference kernels (BUILTIN_REF) on 3 seeded random int8 inputs",
        f"# input: shape {list(inp['shape'])} scale {inp['quantization'][0]!r} zero_point {inp['quantization'][1]};"
        f" output: shape {list(out['shape'])} scale {out['quantization'][0]!r} zero_point {out['quantization'][1]}",
    ]
    for _ in range(3):
        x = rng.integers(-128, 128, size=inp["shape"], dtype=np.int8)
        it.set_tensor(inp["index"], x)
        it.invoke()
        y = it.get_tensor(out["index"])
        lines.append(" ".join(map(str, x.flatten())) + " | " + " ".join(map(str, y.flatten())))
    with open(os.path.join(HERE, f"{name}_int8.expected.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(name, "written")
