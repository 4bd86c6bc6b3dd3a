//! The naive references of the streaming sequence figures (`GRU8`, `LSTM16`, `LSTM32`, `CONV`).
//!
//! **Written once, kept as it is, never tuned**, like the rest of this module: plain safe Rust
//! in PyTorch's layouts and equations, the code a reader would write first. Weights in
//! PyTorch's order (`weight_ih` as `3H` or `4H` rows of `IN`, gate blocks stacked in PyTorch's
//! gate order; `nn.Conv1d`'s `[C_out][C_in][K]`), one single-accumulator loop per dot product,
//! activations per element from `std` (`f32::tanh`, `1 / (1 + e^−x)`), one sample in, one
//! sample out, the state in plain arrays the caller owns.

/// `1 / (1 + e^−x)`, per element.
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `Σ_i w[i]·x[i]`, one accumulator.
fn dot(w: &[f32], x: &[f32]) -> f32 {
    let mut acc = 0.0;
    for i in 0..w.len() {
        acc += w[i] * x[i];
    }
    acc
}

/// `nn.GRU(IN, H)`, one layer, PyTorch's equations (gates r, z, n; `b_hn` inside `r ⊙ (…)`).
pub struct Gru<const IN: usize, const H: usize> {
    /// `weight_ih_l0`: `3H` rows of `IN`.
    pub weight_ih: Vec<[f32; IN]>,
    /// `weight_hh_l0`: `3H` rows of `H`.
    pub weight_hh: Vec<[f32; H]>,
    /// `bias_ih_l0`: `3H`.
    pub bias_ih: Vec<f32>,
    /// `bias_hh_l0`: `3H`.
    pub bias_hh: Vec<f32>,
}

impl<const IN: usize, const H: usize> Gru<IN, H> {
    /// One time step: updates `h` from `x`.
    pub fn step(&self, h: &mut [f32; H], x: &[f32; IN]) {
        let mut new_h = [0.0f32; H];
        for j in 0..H {
            let r = sigmoid(
                dot(&self.weight_ih[j], x)
                    + self.bias_ih[j]
                    + dot(&self.weight_hh[j], h)
                    + self.bias_hh[j],
            );
            let z = sigmoid(
                dot(&self.weight_ih[H + j], x)
                    + self.bias_ih[H + j]
                    + dot(&self.weight_hh[H + j], h)
                    + self.bias_hh[H + j],
            );
            let n = (dot(&self.weight_ih[2 * H + j], x)
                + self.bias_ih[2 * H + j]
                + r * (dot(&self.weight_hh[2 * H + j], h) + self.bias_hh[2 * H + j]))
                .tanh();
            new_h[j] = (1.0 - z) * n + z * h[j];
        }
        *h = new_h;
    }
}

/// `nn.LSTM(IN, H)`, one layer, PyTorch's equations (gates i, f, g, o).
pub struct Lstm<const IN: usize, const H: usize> {
    /// `weight_ih_l0`: `4H` rows of `IN`.
    pub weight_ih: Vec<[f32; IN]>,
    /// `weight_hh_l0`: `4H` rows of `H`.
    pub weight_hh: Vec<[f32; H]>,
    /// `bias_ih_l0`: `4H`.
    pub bias_ih: Vec<f32>,
    /// `bias_hh_l0`: `4H`.
    pub bias_hh: Vec<f32>,
}

impl<const IN: usize, const H: usize> Lstm<IN, H> {
    /// Pre-activation of gate row `k`.
    fn gate(&self, k: usize, x: &[f32; IN], h: &[f32; H]) -> f32 {
        dot(&self.weight_ih[k], x) + self.bias_ih[k] + dot(&self.weight_hh[k], h) + self.bias_hh[k]
    }

    /// One time step: updates `h` and `c` from `x`.
    pub fn step(&self, h: &mut [f32; H], c: &mut [f32; H], x: &[f32; IN]) {
        let mut new_h = [0.0f32; H];
        for j in 0..H {
            let i = sigmoid(self.gate(j, x, h));
            let f = sigmoid(self.gate(H + j, x, h));
            let g = self.gate(2 * H + j, x, h).tanh();
            let o = sigmoid(self.gate(3 * H + j, x, h));
            c[j] = f * c[j] + i * g;
            new_h[j] = o * c[j].tanh();
        }
        *h = new_h;
    }
}

/// A causal `nn.Conv1d(CI, CO, K, dilation = D)` with `tanh`, streamed: `(K − 1)·D` past
/// frames kept in a `Vec` (oldest first), shifted by one on every sample.
pub struct CausalConvTanh<const CI: usize, const CO: usize, const K: usize, const D: usize> {
    /// `[C_out][C_in][K]`.
    pub weight: Vec<[[f32; K]; CI]>,
    /// `[C_out]`.
    pub bias: Vec<f32>,
}

impl<const CI: usize, const CO: usize, const K: usize, const D: usize>
    CausalConvTanh<CI, CO, K, D>
{
    /// An empty (all-zero) history for this layer.
    pub fn history(&self) -> Vec<[f32; CI]> {
        vec![[0.0; CI]; (K - 1) * D]
    }

    /// One frame in, one frame out; `history` holds the last `(K − 1)·D` input frames.
    pub fn step(&self, history: &mut Vec<[f32; CI]>, x: &[f32; CI]) -> [f32; CO] {
        history.push(*x);
        let span = history.len(); // (K − 1)·D + 1 frames, the newest last
        let mut y = [0.0f32; CO];
        for o in 0..CO {
            let mut acc = self.bias[o];
            for c in 0..CI {
                for k in 0..K {
                    acc += self.weight[o][c][k] * history[span - 1 - (K - 1 - k) * D][c];
                }
            }
            y[o] = acc.tanh();
        }
        history.remove(0);
        y
    }
}
