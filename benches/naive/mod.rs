//! The naive reference that every benchmark ratio divides by.
//!
//! **Written once, kept as it is, never tuned.** It is the fixed yardstick of this project's
//! performance figures: a change here would silently change every ratio ever quoted, so
//! improvements go into the crate, never into this file. It is deliberately plain safe Rust,
//! the code a reader would write first:
//!
//! - weights in PyTorch's `[out][in]` order (`[[f32; IN]; OUT]`, on the heap so the 784-wide
//!   layer never sits on the stack), and for each output one loop `acc += w[o][i] * x[i]`
//!   with a single accumulator, then the bias (`nn.Linear`: `y = W·x + b`);
//! - activations per element from `std` (`f32::tanh`, `max(0.0)`);
//! - backward per sample: `dz = dy·act'`, `dW[o][i] += dz[o]·x[i]`, `db[o] += dz[o]`,
//!   `dx[i] = Σ_o w[o][i]·dz[o]` (skipped for the first layer);
//! - one training step = for each sample of the batch: forward, loss gradient, backward
//!   (gradients summed), then Adam (`torch.optim.Adam`: bias-corrected, eps outside the square
//!   root, no amsgrad, no weight decay) as plain loops over every parameter;
//! - losses with PyTorch's mean reduction: MSE over all `B·O` elements, cross-entropy on logits
//!   with class indices over the `B` samples.
//!
//! [`InputMajor2`] and [`InputMajor3`] are a second, *fair* baseline: plain safe Rust too, but
//! with the loop order a performance-aware reader picks (weights `[in][out]`, `z += x[i]·w[i]`
//! as contiguous axpy loops, which the compiler vectorizes). Forward only.
//!
//! This module is shared by the benches and `examples/perf_report.rs` (through `#[path]`), and
//! each of them uses a part of it.
#![allow(dead_code)]
// Index loops on purpose: this is the plain code a first version would have.
#![allow(clippy::needless_range_loop)]

use std::marker::PhantomData;

pub mod cnn;
pub mod sequence;

/// A per-element activation and its derivative from the pre-activation `z` and output `y`.
pub trait Act {
    fn f(z: f32) -> f32;
    fn df(z: f32, y: f32) -> f32;
}

/// `y = z`.
pub struct Identity;
/// `y = max(z, 0)`; derivative 0 at `z = 0` (as PyTorch).
pub struct Relu;
/// `y = tanh(z)`; derivative `1 − y²`.
pub struct Tanh;

impl Act for Identity {
    fn f(z: f32) -> f32 {
        z
    }
    fn df(_z: f32, _y: f32) -> f32 {
        1.0
    }
}

impl Act for Relu {
    fn f(z: f32) -> f32 {
        z.max(0.0)
    }
    fn df(z: f32, _y: f32) -> f32 {
        if z > 0.0 { 1.0 } else { 0.0 }
    }
}

impl Act for Tanh {
    fn f(z: f32) -> f32 {
        z.tanh()
    }
    fn df(_z: f32, y: f32) -> f32 {
        1.0 - y * y
    }
}

/// A zeroed `[[f32; C]; R]` allocated directly on the heap.
pub fn boxed_matrix<const C: usize, const R: usize>() -> Box<[[f32; C]; R]> {
    match vec![[0.0f32; C]; R].into_boxed_slice().try_into() {
        Ok(matrix) => matrix,
        Err(_) => unreachable!("a vector of R rows converts to [_; R]"),
    }
}

/// `nn.Linear(IN, OUT)` followed by the activation `A`, weights `[out][in]`.
pub struct Dense<const IN: usize, const OUT: usize, A> {
    pub w: Box<[[f32; IN]; OUT]>,
    pub b: [f32; OUT],
    act: PhantomData<A>,
}

/// Adam's per-step constants.
pub struct AdamStep {
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    bias_correction1: f32,
    bias_correction2: f32,
}

impl AdamStep {
    /// The constants of step `t` (counting from 1) with torch's default betas and eps.
    pub fn new(lr: f32, t: i32) -> AdamStep {
        let beta1 = 0.9f32;
        let beta2 = 0.999f32;
        AdamStep {
            lr,
            beta1,
            beta2,
            eps: 1e-8,
            bias_correction1: 1.0 - beta1.powi(t),
            bias_correction2: 1.0 - beta2.powi(t),
        }
    }

    /// One parameter: `m = β1·m + (1−β1)·g`, `v = β2·v + (1−β2)·g²`,
    /// `p −= lr/(1−β1ᵗ) · m / (sqrt(v)/sqrt(1−β2ᵗ) + eps)`.
    fn update(&self, p: &mut f32, g: f32, m: &mut f32, v: &mut f32) {
        *m = self.beta1 * *m + (1.0 - self.beta1) * g;
        *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
        let step_size = self.lr / self.bias_correction1;
        let denom = v.sqrt() / self.bias_correction2.sqrt() + self.eps;
        *p -= step_size * *m / denom;
    }
}

impl<const IN: usize, const OUT: usize, A: Act> Dense<IN, OUT, A> {
    pub fn zeros() -> Self {
        Dense {
            w: boxed_matrix(),
            b: [0.0; OUT],
            act: PhantomData,
        }
    }

    /// Writes the pre-activation `z` and the output `y`.
    pub fn forward_into(&self, x: &[f32; IN], z: &mut [f32; OUT], y: &mut [f32; OUT]) {
        for o in 0..OUT {
            let mut acc = 0.0f32;
            for i in 0..IN {
                acc += self.w[o][i] * x[i];
            }
            z[o] = acc + self.b[o];
            y[o] = A::f(z[o]);
        }
    }

    pub fn forward(&self, x: &[f32; IN]) -> [f32; OUT] {
        let mut z = [0.0; OUT];
        let mut y = [0.0; OUT];
        self.forward_into(x, &mut z, &mut y);
        y
    }

    /// Adds this sample's gradients into `grads`; writes `dL/dx` into `dx` when asked.
    pub fn backward(
        &self,
        x: &[f32; IN],
        z: &[f32; OUT],
        y: &[f32; OUT],
        dy: &[f32; OUT],
        grads: &mut Self,
        dx: Option<&mut [f32; IN]>,
    ) {
        let mut dz = [0.0f32; OUT];
        for o in 0..OUT {
            dz[o] = dy[o] * A::df(z[o], y[o]);
        }
        for o in 0..OUT {
            for i in 0..IN {
                grads.w[o][i] += dz[o] * x[i];
            }
            grads.b[o] += dz[o];
        }
        if let Some(dx) = dx {
            for i in 0..IN {
                let mut acc = 0.0f32;
                for o in 0..OUT {
                    acc += self.w[o][i] * dz[o];
                }
                dx[i] = acc;
            }
        }
    }

    pub fn fill_zero(&mut self) {
        for o in 0..OUT {
            for i in 0..IN {
                self.w[o][i] = 0.0;
            }
            self.b[o] = 0.0;
        }
    }

    pub fn copy_from(&mut self, other: &Self) {
        for o in 0..OUT {
            for i in 0..IN {
                self.w[o][i] = other.w[o][i];
            }
            self.b[o] = other.b[o];
        }
    }

    /// How many parameters are subnormal (a check, never timed).
    pub fn count_subnormal(&self) -> usize {
        let mut count = 0;
        for o in 0..OUT {
            for i in 0..IN {
                count += self.w[o][i].is_subnormal() as usize;
            }
            count += self.b[o].is_subnormal() as usize;
        }
        count
    }

    pub fn adam(&mut self, g: &Self, m: &mut Self, v: &mut Self, step: &AdamStep) {
        for o in 0..OUT {
            for i in 0..IN {
                step.update(&mut self.w[o][i], g.w[o][i], &mut m.w[o][i], &mut v.w[o][i]);
            }
            step.update(&mut self.b[o], g.b[o], &mut m.b[o], &mut v.b[o]);
        }
    }
}

/// A training target of one sample, with its loss: `[f32; O]` is MSE, `usize` (a class
/// index) is cross-entropy on logits.
pub trait Target<const O: usize> {
    /// This sample's share of the batch-mean loss; writes its gradient into `dy`.
    fn loss_grad(&self, y: &[f32; O], dy: &mut [f32; O], batch: usize) -> f32;
}

impl<const O: usize> Target<O> for [f32; O] {
    fn loss_grad(&self, y: &[f32; O], dy: &mut [f32; O], batch: usize) -> f32 {
        let count = (batch * O) as f32;
        let mut loss = 0.0f32;
        for o in 0..O {
            let d = y[o] - self[o];
            loss += d * d / count;
            dy[o] = 2.0 * d / count;
        }
        loss
    }
}

impl<const O: usize> Target<O> for usize {
    fn loss_grad(&self, y: &[f32; O], dy: &mut [f32; O], batch: usize) -> f32 {
        let mut max = y[0];
        for o in 1..O {
            if y[o] > max {
                max = y[o];
            }
        }
        let mut sum = 0.0f32;
        for o in 0..O {
            sum += (y[o] - max).exp();
        }
        for o in 0..O {
            let softmax = (y[o] - max).exp() / sum;
            let onehot = if o == *self { 1.0 } else { 0.0 };
            dy[o] = (softmax - onehot) / batch as f32;
        }
        (sum.ln() - (y[*self] - max)) / batch as f32
    }
}

/// Inference on one sample (the reference networks and the fair baseline).
pub trait Forward<const I: usize, const O: usize> {
    fn forward(&self, x: &[f32; I]) -> [f32; O];
}

/// What the trainer needs from a network.
pub trait Model<const I: usize, const O: usize>: Forward<I, O> {
    fn zeros() -> Self;
    /// Adds one sample's gradients into `grads` and returns its share of the loss.
    fn add_grads<T: Target<O>>(&self, x: &[f32; I], t: &T, batch: usize, grads: &mut Self) -> f32;
    fn fill_zero(&mut self);
    fn copy_from(&mut self, other: &Self);
    fn count_subnormal(&self) -> usize;
    fn adam(&mut self, g: &Self, m: &mut Self, v: &mut Self, step: &AdamStep);
}

/// Three dense layers; the last has no activation.
pub struct Net3<const I: usize, const H1: usize, const H2: usize, const O: usize, A1, A2> {
    pub l1: Dense<I, H1, A1>,
    pub l2: Dense<H1, H2, A2>,
    pub l3: Dense<H2, O, Identity>,
}

impl<const I: usize, const H1: usize, const H2: usize, const O: usize, A1: Act, A2: Act> Model<I, O>
    for Net3<I, H1, H2, O, A1, A2>
{
    fn zeros() -> Self {
        Net3 {
            l1: Dense::zeros(),
            l2: Dense::zeros(),
            l3: Dense::zeros(),
        }
    }

    fn add_grads<T: Target<O>>(&self, x: &[f32; I], t: &T, batch: usize, grads: &mut Self) -> f32 {
        let (mut z1, mut y1) = ([0.0; H1], [0.0; H1]);
        let (mut z2, mut y2) = ([0.0; H2], [0.0; H2]);
        let (mut z3, mut y3) = ([0.0; O], [0.0; O]);
        self.l1.forward_into(x, &mut z1, &mut y1);
        self.l2.forward_into(&y1, &mut z2, &mut y2);
        self.l3.forward_into(&y2, &mut z3, &mut y3);
        let mut dy3 = [0.0; O];
        let loss = t.loss_grad(&y3, &mut dy3, batch);
        let mut dy2 = [0.0; H2];
        let mut dy1 = [0.0; H1];
        self.l3
            .backward(&y2, &z3, &y3, &dy3, &mut grads.l3, Some(&mut dy2));
        self.l2
            .backward(&y1, &z2, &y2, &dy2, &mut grads.l2, Some(&mut dy1));
        self.l1.backward(x, &z1, &y1, &dy1, &mut grads.l1, None);
        loss
    }

    fn fill_zero(&mut self) {
        self.l1.fill_zero();
        self.l2.fill_zero();
        self.l3.fill_zero();
    }

    fn copy_from(&mut self, other: &Self) {
        self.l1.copy_from(&other.l1);
        self.l2.copy_from(&other.l2);
        self.l3.copy_from(&other.l3);
    }

    fn count_subnormal(&self) -> usize {
        self.l1.count_subnormal() + self.l2.count_subnormal() + self.l3.count_subnormal()
    }

    fn adam(&mut self, g: &Self, m: &mut Self, v: &mut Self, step: &AdamStep) {
        self.l1.adam(&g.l1, &mut m.l1, &mut v.l1, step);
        self.l2.adam(&g.l2, &mut m.l2, &mut v.l2, step);
        self.l3.adam(&g.l3, &mut m.l3, &mut v.l3, step);
    }
}

impl<const I: usize, const H1: usize, const H2: usize, const O: usize, A1: Act, A2: Act>
    Forward<I, O> for Net3<I, H1, H2, O, A1, A2>
{
    fn forward(&self, x: &[f32; I]) -> [f32; O] {
        let h1 = self.l1.forward(x);
        let h2 = self.l2.forward(&h1);
        self.l3.forward(&h2)
    }
}

/// Two dense layers; the last has no activation.
pub struct Net2<const I: usize, const H: usize, const O: usize, A1> {
    pub l1: Dense<I, H, A1>,
    pub l2: Dense<H, O, Identity>,
}

impl<const I: usize, const H: usize, const O: usize, A1: Act> Model<I, O> for Net2<I, H, O, A1> {
    fn zeros() -> Self {
        Net2 {
            l1: Dense::zeros(),
            l2: Dense::zeros(),
        }
    }

    fn add_grads<T: Target<O>>(&self, x: &[f32; I], t: &T, batch: usize, grads: &mut Self) -> f32 {
        let (mut z1, mut y1) = ([0.0; H], [0.0; H]);
        let (mut z2, mut y2) = ([0.0; O], [0.0; O]);
        self.l1.forward_into(x, &mut z1, &mut y1);
        self.l2.forward_into(&y1, &mut z2, &mut y2);
        let mut dy2 = [0.0; O];
        let loss = t.loss_grad(&y2, &mut dy2, batch);
        let mut dy1 = [0.0; H];
        self.l2
            .backward(&y1, &z2, &y2, &dy2, &mut grads.l2, Some(&mut dy1));
        self.l1.backward(x, &z1, &y1, &dy1, &mut grads.l1, None);
        loss
    }

    fn fill_zero(&mut self) {
        self.l1.fill_zero();
        self.l2.fill_zero();
    }

    fn copy_from(&mut self, other: &Self) {
        self.l1.copy_from(&other.l1);
        self.l2.copy_from(&other.l2);
    }

    fn count_subnormal(&self) -> usize {
        self.l1.count_subnormal() + self.l2.count_subnormal()
    }

    fn adam(&mut self, g: &Self, m: &mut Self, v: &mut Self, step: &AdamStep) {
        self.l1.adam(&g.l1, &mut m.l1, &mut v.l1, step);
        self.l2.adam(&g.l2, &mut m.l2, &mut v.l2, step);
    }
}

impl<const I: usize, const H: usize, const O: usize, A1: Act> Forward<I, O> for Net2<I, H, O, A1> {
    fn forward(&self, x: &[f32; I]) -> [f32; O] {
        let h = self.l1.forward(x);
        self.l2.forward(&h)
    }
}

/// A network with its gradients and Adam state.
pub struct Trainer<N> {
    pub net: Box<N>,
    grads: Box<N>,
    m: Box<N>,
    v: Box<N>,
    steps: i32,
    lr: f32,
}

impl<N> Trainer<N> {
    pub fn new<const I: usize, const O: usize>(net: Box<N>, lr: f32) -> Self
    where
        N: Model<I, O>,
    {
        Trainer {
            net,
            grads: Box::new(N::zeros()),
            m: Box::new(N::zeros()),
            v: Box::new(N::zeros()),
            steps: 0,
            lr,
        }
    }

    /// Back to `initial` weights with a fresh Adam state (step 0, zero moments).
    pub fn restart<const I: usize, const O: usize>(&mut self, initial: &N)
    where
        N: Model<I, O>,
    {
        self.net.copy_from(initial);
        self.m.fill_zero();
        self.v.fill_zero();
        self.steps = 0;
    }

    /// How many values of the weights and Adam moments are subnormal (a check, never timed).
    pub fn count_subnormal<const I: usize, const O: usize>(&self) -> usize
    where
        N: Model<I, O>,
    {
        self.net.count_subnormal() + self.m.count_subnormal() + self.v.count_subnormal()
    }

    /// One training step on a batch; returns the batch-mean loss (before the update).
    pub fn step<const I: usize, const O: usize, const B: usize, T: Target<O>>(
        &mut self,
        xs: &[[f32; I]; B],
        ts: &[T; B],
    ) -> f32
    where
        N: Model<I, O>,
    {
        self.grads.fill_zero();
        let mut loss = 0.0f32;
        for b in 0..B {
            loss += self.net.add_grads(&xs[b], &ts[b], B, &mut self.grads);
        }
        self.steps += 1;
        let step = AdamStep::new(self.lr, self.steps);
        self.net.adam(&self.grads, &mut self.m, &mut self.v, &step);
        loss
    }
}

/// The fair baseline's layer: weights `[in][out]`, forward as contiguous axpy loops.
pub struct InputMajorDense<const IN: usize, const OUT: usize, A> {
    pub w: Box<[[f32; OUT]; IN]>,
    pub b: [f32; OUT],
    act: PhantomData<A>,
}

impl<const IN: usize, const OUT: usize, A: Act> InputMajorDense<IN, OUT, A> {
    pub fn zeros() -> Self {
        InputMajorDense {
            w: boxed_matrix(),
            b: [0.0; OUT],
            act: PhantomData,
        }
    }

    /// `z = b + Σ_i x[i]·w[i][:]` (each update a contiguous loop over outputs), then `A`.
    pub fn forward(&self, x: &[f32; IN]) -> [f32; OUT] {
        let mut z = self.b;
        for (xi, row) in x.iter().zip(self.w.iter()) {
            for (zo, wo) in z.iter_mut().zip(row.iter()) {
                *zo += xi * wo;
            }
        }
        for zo in z.iter_mut() {
            *zo = A::f(*zo);
        }
        z
    }
}

/// The fair baseline of a three-layer network.
pub struct InputMajor3<const I: usize, const H1: usize, const H2: usize, const O: usize, A1, A2> {
    pub l1: InputMajorDense<I, H1, A1>,
    pub l2: InputMajorDense<H1, H2, A2>,
    pub l3: InputMajorDense<H2, O, Identity>,
}

impl<const I: usize, const H1: usize, const H2: usize, const O: usize, A1: Act, A2: Act>
    Forward<I, O> for InputMajor3<I, H1, H2, O, A1, A2>
{
    fn forward(&self, x: &[f32; I]) -> [f32; O] {
        self.l3.forward(&self.l2.forward(&self.l1.forward(x)))
    }
}

/// The fair baseline of a two-layer network.
pub struct InputMajor2<const I: usize, const H: usize, const O: usize, A1> {
    pub l1: InputMajorDense<I, H, A1>,
    pub l2: InputMajorDense<H, O, Identity>,
}

impl<const I: usize, const H: usize, const O: usize, A1: Act> Forward<I, O>
    for InputMajor2<I, H, O, A1>
{
    fn forward(&self, x: &[f32; I]) -> [f32; O] {
        self.l2.forward(&self.l1.forward(x))
    }
}
