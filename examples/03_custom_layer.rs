//! A user-defined layer: a learned per-feature scale `y_i = exp(s_i)·x_i` (log-parameterized,
//! so the scale stays positive). It implements `Zeros`, `Params` and `Layer`, composes with
//! `Dense` in a `seq!`, and its backward pass is verified with `testing::grad_check`.
//!
//! `cargo run --release --example 03_custom_layer`

use constnet::loss::{Loss, Mse};
use constnet::optim::{Optimizer, Sgd, SgdConfig};
use constnet::testing::{GradCheckConfig, grad_check, grad_check_batch};
use constnet::{Dense, Layer, Params, Tanh, TensorKind, TensorShape, TrainCtx, Zeros, seq};

/// `y_i = exp(log_scale_i)·x_i`.
#[derive(Clone, Copy, Debug)]
struct LogScale<const N: usize> {
    log_scale: [f64; N],
}

impl<const N: usize> Zeros for LogScale<N> {
    fn zeros() -> Self {
        LogScale {
            log_scale: [0.0; N],
        }
    }
}

impl<const N: usize> Params for LogScale<N> {
    type Scalar = f64;
    const PARAM_COUNT: usize = N;
    fn tensors(&self) -> impl Iterator<Item = &[f64]> {
        core::iter::once(&self.log_scale[..])
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f64]> {
        core::iter::once(&mut self.log_scale[..])
    }
    fn shapes() -> impl Iterator<Item = TensorShape> {
        core::iter::once(TensorShape {
            kind: TensorKind::Shift,
            rows: N,
            cols: 1,
            fan_in: N,
            fan_out: N,
        })
    }
}

impl<const N: usize> Layer for LogScale<N> {
    type Input = [f64; N];
    type Output = [f64; N];
    /// The input and output of the sample.
    type Cache = ([f64; N], [f64; N]);
    type BatchCache<const B: usize> = [([f64; N], [f64; N]); B];

    fn forward(&self, x: &[f64; N]) -> [f64; N] {
        core::array::from_fn(|i| self.log_scale[i].exp() * x[i])
    }
    fn forward_train(&self, x: &[f64; N], _ctx: &mut TrainCtx) -> ([f64; N], Self::Cache) {
        let y = self.forward(x);
        (y, (*x, y))
    }
    fn backward(&self, (_, y): &Self::Cache, dy: &[f64; N], grads: &mut Self) -> [f64; N] {
        for i in 0..N {
            grads.log_scale[i] += dy[i] * y[i]; // d(e^s·x)/ds = y
        }
        core::array::from_fn(|i| dy[i] * self.log_scale[i].exp())
    }
    // The batched methods (forward_batch, forward_train_batch, backward_batch,
    // backward_batch_params) come from the trait: with `BatchCache = [Cache; B]` they loop
    // over the single-sample ones.
}

type Net = seq![Dense<3, 4, Tanh, f64>, LogScale<4>, Dense<4, 2, constnet::Identity, f64>];

fn main() {
    let layer = LogScale {
        log_scale: [0.3, -0.7, 1.1],
    };
    grad_check(&layer, &[0.5, -2.0, 1.5], GradCheckConfig::default()).expect("LogScale backward");
    println!("LogScale<3>: single-sample gradients match finite differences");

    let mut net = Net::zeros();
    for (t, tensor) in net.tensors_mut().enumerate() {
        for (i, v) in tensor.iter_mut().enumerate() {
            *v = ((t * 7 + i * 5) % 11) as f64 / 11.0 - 0.5;
        }
    }
    let x = [[0.2, -0.4, 0.9], [1.0, 0.1, -0.3]];
    grad_check_batch(&net, &x, GradCheckConfig::default()).expect("chain backward");
    println!(
        "Dense -> LogScale -> Dense ({} parameters): batch gradients match finite differences",
        Net::PARAM_COUNT
    );

    // It trains like any layer: fit two fixed targets with SGD.
    let targets = [[0.5, -0.5], [-0.25, 0.75]];
    let mut grads = Net::zeros();
    let mut optimizer = Sgd::<Net>::new(SgdConfig::new().lr(0.2));
    let mut cache = <Net as Layer>::BatchCache::<2>::zeros();
    let (mut y, mut dy) = ([[0.0; 2]; 2], [[0.0; 2]; 2]);
    let mut ctx = TrainCtx::new(0);
    let mut first = None;
    let mut loss = 0.0;
    for _ in 0..300 {
        grads.fill_zero();
        net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
        loss = Mse.loss_batch(&y, &targets, &mut dy);
        first.get_or_insert(loss);
        net.backward_batch_params(&x, &y, &mut cache, &dy, &mut grads);
        optimizer.step(&mut net, &grads);
    }
    println!(
        "training: mse {:.4} -> {loss:.6} in 300 steps; learned scales {:?}",
        first.unwrap(),
        net.second
            .first
            .log_scale
            .map(|s| (s.exp() * 1000.0).round() / 1000.0)
    );
    assert!(loss < 1e-3, "the network with the custom layer did not fit");
}
