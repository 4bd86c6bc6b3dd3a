"""Fits the rational tanh and erf of src/kernel/math.rs: f(x) ~ x*P(x^2)/Q(x^2) on [0, C],
Q(0) = 1, minimizing the maximum relative error (linearized least squares with Lawson
reweighting, in the scaled variable x^2/C^2 for conditioning). tanh: degrees 4/4, C = 9.02;
erf: degrees 5/5, C = 3.92 (beyond C both round to 1 in f32).

    python3 tests/python/fit_rational.py tanh    # needs numpy; prints the f32 coefficients
    python3 tests/python/fit_rational.py erf

The crate's accuracy test (src/kernel/accuracy.rs) measures the f32 result in ulps.
"""
import math
import sys

import numpy as np

FUNCTIONS = {
    "tanh": (np.tanh, 4, 4, 9.02),
    "erf": (np.vectorize(math.erf), 5, 5, 3.92),
}


def fit(function, p, q, C, iters=120):
    S = C * C
    x = np.unique(np.concatenate([np.linspace(1e-4, C, 30000), np.geomspace(1e-6, 1.0, 4000)]))
    t = function(x)
    v = x * x / S
    w = np.ones_like(x)
    q_prev = np.ones_like(x)
    best = None
    for _ in range(iters):
        a_mat = np.zeros((len(x), p + 1 + q))
        for k in range(p + 1):
            a_mat[:, k] = x * v**k
        for k in range(1, q + 1):
            a_mat[:, p + k] = -t * v**k
        ww = w / np.abs(q_prev) / t
        sol, *_ = np.linalg.lstsq(a_mat * ww[:, None], t * ww, rcond=None)
        a = sol[: p + 1]
        b = np.concatenate([[1.0], sol[p + 1:]])
        num = np.polyval(a[::-1], v)
        den = np.polyval(b[::-1], v)
        err = (x * num / den - t) / t
        q_prev = den
        worst = np.max(np.abs(err))
        if best is None or worst < best[0]:
            best = (worst, a / S ** np.arange(p + 1), b / S ** np.arange(q + 1))
        w = w * (np.abs(err) / worst + 1e-3) ** 0.5
        w /= w.mean()
    return best


if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) > 1 else "tanh"
    function, p, q, C = FUNCTIONS[name]
    worst, a, b = fit(function, p, q, C)
    print(f"max relative error before f32 rounding: {worst:.3e}")
    print("P:", [repr(np.float32(c)) for c in a])
    print("Q:", [repr(np.float32(c)) for c in b])
