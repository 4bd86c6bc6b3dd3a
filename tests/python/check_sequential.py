"""Checks that a safetensors file written by constnet is the state_dict PyTorch expects.

Usage: python3 check_sequential.py FILE.safetensors FILE.expected.txt MODULES

MODULES describes the nn.Sequential, e.g. "Linear,BatchNorm1d,ReLU,Linear". The script loads
the file with the `safetensors` package (numpy backend, no PyTorch needed), checks that the
keys are exactly the state_dict keys of that nn.Sequential (K.weight / K.bias,
K.running_mean / K.running_var / K.num_batches_tracked for BatchNorm1d, nothing for the
activations) with consistent shapes and dtypes, then runs the network in numpy (BatchNorm in
eval mode, eps 1e-5) on every input of the expected file and compares with constnet's outputs
there (`input | output` per line).
"""
import sys

import numpy as np
from safetensors.numpy import load_file


def main(path, expected_path, modules):
    tensors = load_file(path)
    modules = modules.split(",")
    want = []
    for k, m in enumerate(modules):
        if m == "Linear":
            want += [f"{k}.weight", f"{k}.bias"]
        elif m == "BatchNorm1d":
            want += [f"{k}.{n}" for n in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")]
    assert sorted(tensors) == sorted(want), f"keys {sorted(tensors)} != state_dict keys {sorted(want)}"
    for k, m in enumerate(modules):
        if m == "BatchNorm1d":
            t = tensors[f"{k}.num_batches_tracked"]
            assert t.dtype == np.int64 and t.shape == (), f"{k}.num_batches_tracked: {t.dtype} {t.shape}"
    worst = 0.0
    rows = 0
    for line in open(expected_path):
        if line.startswith("#") or not line.strip():
            continue
        x_text, y_text = line.split(" | ")
        x = np.array([float(v) for v in x_text.split()])
        for k, m in enumerate(modules):
            if m == "Linear":
                w, b = tensors[f"{k}.weight"], tensors[f"{k}.bias"]
                assert w.shape == (b.shape[0], x.shape[0]), f"{k}.weight {w.shape}"
                x = w.astype(np.float64) @ x + b
            elif m == "BatchNorm1d":
                g = {n: tensors[f"{k}.{n}"].astype(np.float64) for n in ("weight", "bias", "running_mean", "running_var")}
                x = (x - g["running_mean"]) / np.sqrt(g["running_var"] + 1e-5) * g["weight"] + g["bias"]
            elif m == "ReLU":
                x = np.maximum(x, 0)
            elif m == "Tanh":
                x = np.tanh(x)
            else:
                raise ValueError(f"unknown module {m}")
        y = np.array([float(v) for v in y_text.split()])
        worst = max(worst, float(np.max(np.abs(x - y) / np.maximum(np.abs(y), 1))))
        rows += 1
    print(f"{path}: keys, shapes and dtypes are {modules}'s state_dict; {rows} rows, worst relative difference {worst:.2e}")
    assert worst < 1e-5


if __name__ == "__main__":
    main(*sys.argv[1:])
