//! Batched inference throughput on M (784 → 128 relu → 10), 256 samples per call: constnet's
//! `forward_batch` against the naive reference run sample by sample, in one run. Criterion
//! reports samples per second (throughput set to 256 elements per iteration); GFLOP/s is
//! that rate × (2·784·128 + 2·128·10) flops per sample (`examples/perf_report.rs` prints it).
//!
//! `cargo bench --bench batch`

use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

mod naive;
mod workloads;

use workloads::{BIG_BATCH, Batch256};

fn batch(c: &mut Criterion) {
    let m = workloads::workload_m();
    let mut data = Batch256::new();
    let mut group = c.benchmark_group("M_batch256");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(BIG_BATCH as u64));
    let mut k = 0usize;
    group.bench_function("constnet", |b| {
        b.iter(|| {
            k += 1;
            data.constnet(&m.constnet, k)
        })
    });
    group.bench_function("naive", |b| {
        b.iter(|| {
            k += 1;
            data.naive(&m.naive, k)
        })
    });
    group.finish();
}

criterion_group!(benches, batch);
criterion_main!(benches);
