//! Single-sample inference and training step on small shapes, against an in-repo naive
//! baseline (row-major `[out][in]` weights, one dot product per output) measured in the same
//! run, so the ratio is what to quote.
//!
//! `cargo bench --bench forward`

use std::hint::black_box;

use constnet::loss::{Loss, Mse};
use constnet::optim::{Optimizer, Sgd, SgdConfig};
use constnet::{Dense, Identity, Layer, Params, Relu, TrainCtx, Zeros, seq};
use criterion::{Criterion, criterion_group, criterion_main};

type Net = seq![Dense<16, 64, Relu>, Dense<64, 64, Relu>, Dense<64, 8, Identity>];

fn filled() -> Net {
    let mut net = Net::zeros();
    for (t, tensor) in net.tensors_mut().enumerate() {
        for (i, v) in tensor.iter_mut().enumerate() {
            *v = ((t * 131 + i * 17) % 29) as f32 / 29.0 - 0.5;
        }
    }
    net
}

/// The naive baseline: `[out][in]` weights, `z[o] = b[o] + Σ_i w[o][i]·x[i]`.
struct NaiveDense<const IN: usize, const OUT: usize> {
    weight: [[f32; IN]; OUT],
    bias: [f32; OUT],
}

impl<const IN: usize, const OUT: usize> NaiveDense<IN, OUT> {
    fn from(d: &Dense<IN, OUT, impl constnet::ActivationFn<f32>, f32>) -> Self {
        NaiveDense {
            weight: d.weight_rows(),
            bias: *d.bias(),
        }
    }
    fn forward(&self, x: &[f32; IN], relu: bool) -> [f32; OUT] {
        let mut y = [0.0; OUT];
        for ((yo, row), &b) in y.iter_mut().zip(&self.weight).zip(&self.bias) {
            let mut s = b;
            for (w, xi) in row.iter().zip(x) {
                s += w * xi;
            }
            *yo = if relu { s.max(0.0) } else { s };
        }
        y
    }
}

fn bench(c: &mut Criterion) {
    let net = filled();
    let naive = (
        NaiveDense::from(&net.first),
        NaiveDense::from(&net.second.first),
        NaiveDense::from(&net.second.second),
    );
    let x: [f32; 16] = core::array::from_fn(|i| i as f32 / 16.0 - 0.5);
    let mut group = c.benchmark_group("forward_16_64_64_8_f32");
    group.bench_function("constnet", |b| b.iter(|| net.forward(black_box(&x))));
    group.bench_function("naive_baseline", |b| {
        b.iter(|| {
            let h = naive.0.forward(black_box(&x), true);
            let h = naive.1.forward(&h, true);
            naive.2.forward(&h, false)
        })
    });
    group.finish();

    let mut group = c.benchmark_group("train_step_16_64_64_8_f32");
    let mut model = filled();
    let mut grads = Net::zeros();
    let mut optimizer = Sgd::<Net>::new(SgdConfig::new().lr(1e-3).momentum(0.9));
    let mut ctx = TrainCtx::new(0);
    group.bench_function("constnet", |b| {
        b.iter(|| {
            grads.fill_zero();
            let (y, cache) = model.forward_train(black_box(&x), &mut ctx);
            let mut dy = [0.0; 8];
            let _ = Mse.loss(&y, &[0.0; 8], &mut dy);
            model.backward_params(&cache, &dy, &mut grads);
            optimizer.step(&mut model, &grads);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
