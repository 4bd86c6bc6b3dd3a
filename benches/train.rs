//! One training step with batch 32 (forward, loss, backward, Adam with lr 1e-3) of T and S
//! (MSE) and M (cross-entropy with class indices): constnet against the naive reference
//! (`benches/naive/mod.rs`), in one run. Batches and their random targets are cycled from
//! pools with coprime periods, so the loss stays far from zero, and every trainer restarts
//! from its initial weights every 200 steps, before any Adam moment can decay into the
//! subnormal range (see `benches/workloads/mod.rs`). At the end the final loss must be above
//! 1e-3 and the naive trainer must hold no subnormal value.
//!
//! `cargo bench --bench train`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};

mod naive;
mod workloads;

use constnet::Layer;
use constnet::loss::Loss;
use naive::{Forward, Model};
use workloads::{BATCH, Workload};

/// The final training loss must stay above this.
const MIN_FINAL_LOSS: f32 = 1e-3;

fn bench_workload<C, N, F, L, const I: usize, const O: usize>(
    c: &mut Criterion,
    mut w: Workload<C, N, F, L, I, O>,
) where
    C: Layer<Scalar = f32, Input = [f32; I], Output = [f32; O]> + constnet::ZeroBits,
    C::BatchCache<BATCH>: constnet::ZeroBits,
    N: Model<I, O>,
    F: Forward<I, O>,
    L: Loss<f32>,
    L::Target<O>: naive::Target<O>,
{
    let mut group = c.benchmark_group(format!("{}_train", w.name));
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .sampling_mode(SamplingMode::Flat);
    let mut k = 0usize;
    group.bench_function("constnet", |b| {
        b.iter(|| {
            k += 1;
            black_box(w.constnet_train_step(k))
        })
    });
    group.bench_function("naive", |b| {
        b.iter(|| {
            k += 1;
            black_box(w.naive_train_step(k))
        })
    });
    group.finish();
    let losses = [w.constnet_train_step(k + 1), w.naive_train_step(k + 1)];
    println!(
        "{} final training loss: constnet {}, naive {}",
        w.name, losses[0], losses[1]
    );
    let subnormal = w.naive_trainer.count_subnormal();
    assert_eq!(
        subnormal, 0,
        "{}: the naive trainer holds subnormal values",
        w.name
    );
    for loss in losses {
        assert!(
            loss.is_finite() && loss > MIN_FINAL_LOSS,
            "{}: final loss {loss} is not above {MIN_FINAL_LOSS}: subnormal arithmetic may have been timed",
            w.name
        );
    }
}

fn train(c: &mut Criterion) {
    bench_workload(c, workloads::workload_t());
    bench_workload(c, workloads::workload_s());
    bench_workload(c, workloads::workload_m());
}

criterion_group!(benches, train);
criterion_main!(benches);
