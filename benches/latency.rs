//! Single-sample `forward` latency of T, S and M: constnet, the naive reference and the
//! input-major baseline (`benches/naive/mod.rs`), in one run. Each iteration takes the next of
//! 256 distinct random inputs and passes the output to `black_box`.
//!
//! `cargo bench --bench latency`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

mod naive;
mod workloads;

use constnet::Layer;
use constnet::loss::Loss;
use naive::{Forward, Model};
use workloads::{BATCH, Workload};

fn bench_workload<C, N, F, L, const I: usize, const O: usize>(
    c: &mut Criterion,
    w: &Workload<C, N, F, L, I, O>,
) where
    C: Layer<Scalar = f32, Input = [f32; I], Output = [f32; O]> + constnet::ZeroBits,
    C::BatchCache<BATCH>: constnet::ZeroBits,
    N: Model<I, O>,
    F: Forward<I, O>,
    L: Loss<f32>,
    L::Target<O>: naive::Target<O>,
{
    let mut group = c.benchmark_group(format!("{}_latency", w.name));
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_millis(1500));
    let mut k = 0usize;
    group.bench_function("constnet", |b| {
        b.iter(|| {
            k += 1;
            black_box(w.constnet_forward(k))
        })
    });
    group.bench_function("naive", |b| {
        b.iter(|| {
            k += 1;
            black_box(w.naive_forward(k))
        })
    });
    group.bench_function("input_major", |b| {
        b.iter(|| {
            k += 1;
            black_box(w.input_major_forward(k))
        })
    });
    group.finish();
}

fn latency(c: &mut Criterion) {
    bench_workload(c, &workloads::workload_t());
    bench_workload(c, &workloads::workload_s());
    bench_workload(c, &workloads::workload_m());
}

criterion_group!(benches, latency);
criterion_main!(benches);
