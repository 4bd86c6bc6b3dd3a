//! Measures the project's performance table in one run, against the naive reference
//! (`benches/naive/mod.rs`) measured in the same run, and prints one line per figure.
//!
//! `cargo run --release --example perf_report` (about half a minute)
//!
//! Each figure is the median of several rounds; the rounds of the implementations being
//! compared are interleaved (constnet, naive, constnet, naive, ...) so that a slow spell of a
//! shared machine hits both. Each round times enough calls (about 50 ms) to beat the timer's
//! resolution. Latency cycles through 256 distinct random inputs and passes every output to
//! `black_box`; training cycles through random batches with random targets and restarts every
//! 200 steps, so no subnormal value gets timed (the final losses and the naive trainer's count
//! of subnormal values are printed and checked at the end). The workloads and the constnet calls are in
//! `benches/workloads/mod.rs`, shared with the criterion benches.

use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "../benches/workloads/mlperf_int8.rs"]
mod mlperf_int8;
#[path = "../benches/naive/mod.rs"]
mod naive;
#[path = "../benches/workloads/mod.rs"]
mod workloads;

use constnet::Layer;
use constnet::loss::Loss;
use naive::{Forward, Model};
use workloads::{BIG_BATCH, Batch256, M_FLOPS_PER_SAMPLE, Workload};

/// Rounds per figure (the median is reported).
const ROUNDS: usize = 21;
/// Wall time of one round of one implementation.
const ROUND_TIME: Duration = Duration::from_millis(50);
/// The final training loss must stay above this (far from subnormal territory).
const MIN_FINAL_LOSS: f32 = 1e-3;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Seconds per call of each function (`f(n)` makes `n` calls): the median over [`ROUNDS`]
/// interleaved rounds, after a calibration that doubles as warm-up.
fn measure(functions: &mut [&mut dyn FnMut(usize)]) -> Vec<f64> {
    let mut calls = Vec::new();
    for f in functions.iter_mut() {
        let mut n = 1;
        loop {
            let start = Instant::now();
            f(n);
            let elapsed = start.elapsed();
            if elapsed >= ROUND_TIME / 4 {
                let scale = ROUND_TIME.as_secs_f64() / elapsed.as_secs_f64();
                calls.push(((n as f64 * scale).ceil() as usize).max(1));
                break;
            }
            n *= 2;
        }
    }
    let mut samples = vec![Vec::with_capacity(ROUNDS); functions.len()];
    for _ in 0..ROUNDS {
        for ((f, &n), times) in functions.iter_mut().zip(&calls).zip(samples.iter_mut()) {
            let start = Instant::now();
            f(n);
            times.push(start.elapsed().as_secs_f64() / n as f64);
        }
    }
    samples.into_iter().map(median).collect()
}

/// The figures of one workload.
struct Figures {
    latency_ns: [f64; 3],
    train_us: [f64; 2],
    final_loss: [f32; 2],
    naive_subnormal: usize,
    max_difference: f32,
}

fn measure_workload<C, N, F, L, const I: usize, const O: usize>(
    w: &mut Workload<C, N, F, L, I, O>,
) -> Figures
where
    C: Layer<Scalar = f32, Input = [f32; I], Output = [f32; O]> + constnet::ZeroBits,
    C::BatchCache<{ workloads::BATCH }>: constnet::ZeroBits,
    N: Model<I, O>,
    F: Forward<I, O>,
    L: Loss<f32>,
    L::Target<O>: naive::Target<O>,
{
    let max_difference = w.max_forward_difference();
    let latency = {
        let w = &*w;
        let (mut a, mut b, mut c) = (0usize, 0usize, 0usize);
        measure(&mut [
            &mut |n| {
                for _ in 0..n {
                    a += 1;
                    black_box(w.constnet_forward(a));
                }
            },
            &mut |n| {
                for _ in 0..n {
                    b += 1;
                    black_box(w.naive_forward(b));
                }
            },
            &mut |n| {
                for _ in 0..n {
                    c += 1;
                    black_box(w.input_major_forward(c));
                }
            },
        ])
    };
    let (mut a, mut b) = (0usize, 0usize);
    let (mut loss_a, mut loss_b) = (0.0f32, 0.0f32);
    let data = &w.data;
    let constnet_trainer = &mut w.constnet_trainer;
    let naive_trainer = &mut w.naive_trainer;
    let train = measure(&mut [
        &mut |n| {
            for _ in 0..n {
                a += 1;
                let (x, t) = data.batch(a);
                loss_a = black_box(constnet_trainer.step(x, t));
            }
        },
        &mut |n| {
            for _ in 0..n {
                b += 1;
                let (x, t) = data.batch(b);
                loss_b = black_box(naive_trainer.step(x, t));
            }
        },
    ]);
    Figures {
        latency_ns: [latency[0] * 1e9, latency[1] * 1e9, latency[2] * 1e9],
        train_us: [train[0] * 1e6, train[1] * 1e6],
        final_loss: [loss_a, loss_b],
        naive_subnormal: w.naive_trainer.count_subnormal(),
        max_difference,
    }
}

/// Seconds per training step of `Net` at a batch of `2·C` rows (cross-entropy, Adam):
/// `[one thread, plain batched API; two threads, DataParallel with two chunks of C]`.
fn parallel_step_seconds<Net, const I: usize, const O: usize, const C: usize>(net: &Net) -> [f64; 2]
where
    Net: Layer<Scalar = f32, Input = [f32; I], Output = [f32; O]>
        + constnet::ZeroBits
        + Clone
        + Send
        + Sync,
    Net::BatchCache<C>: constnet::ZeroBits + Send,
{
    use constnet::loss::CrossEntropy;
    use constnet::optim::{Adam, AdamConfig, Optimizer};
    use constnet::parallel::DataParallel;
    let rows = 2 * C;
    let x: Vec<[f32; I]> = (0..rows)
        .map(|b| core::array::from_fn(|i| ((b * 131 + i * 17) % 97) as f32 / 97.0))
        .collect();
    let classes: Vec<usize> = (0..rows).map(|b| b % O).collect();
    // One thread: the plain batched API on the whole batch, chunk by chunk of C rows (const
    // batch sizes), i.e. the same arithmetic a single-threaded loop does.
    let mut single = Box::new(net.clone());
    let mut single_grads = Net::boxed_zeros();
    let mut single_adam = Adam::<Net>::boxed(AdamConfig::new().lr(1e-4));
    let mut cache = constnet::zeroed_box::<Net::BatchCache<C>>();
    let (mut y, mut dy) = (vec![[0.0f32; O]; C], vec![[0.0f32; O]; C]);
    let mut ctx = constnet::TrainCtx::new(0);
    let mut parallel = Box::new(net.clone());
    let mut adam = Adam::<Net>::boxed(AdamConfig::new().lr(1e-4));
    DataParallel::<Net, CrossEntropy, O, C>::run(&mut parallel, CrossEntropy, 2, 2, 0, |dp| {
        let seconds = measure(&mut [
            &mut |n| {
                for _ in 0..n {
                    single_grads.fill_zero();
                    for k in 0..2 {
                        let xk: &[[f32; I]; C] = x[k * C..(k + 1) * C].try_into().unwrap();
                        let tk: &[usize; C] = classes[k * C..(k + 1) * C].try_into().unwrap();
                        let yk: &mut [[f32; O]; C] = (&mut y[..]).try_into().unwrap();
                        let dyk: &mut [[f32; O]; C] = (&mut dy[..]).try_into().unwrap();
                        single.forward_train_batch(xk, yk, &mut cache, &mut ctx);
                        black_box(CrossEntropy.loss_batch(yk, tk, dyk));
                        single.backward_batch_params(xk, yk, &mut cache, dyk, &mut single_grads);
                    }
                    single_adam.step(&mut single, &single_grads);
                }
            },
            &mut |n| {
                for _ in 0..n {
                    black_box(dp.step(&x, &classes, &mut *adam).unwrap());
                }
            },
        ]);
        [seconds[0], seconds[1]]
    })
}

fn main() {
    let started = Instant::now();
    let mut t = workloads::workload_t();
    let mut s = workloads::workload_s();
    let mut m = workloads::workload_m();
    let figures = [
        ("T", measure_workload(&mut t)),
        ("S", measure_workload(&mut s)),
        ("M", measure_workload(&mut m)),
    ];

    m_int8_figures(&m);

    let mut batch = Batch256::new();
    let (mut a, mut b) = (0usize, 0usize);
    let batch_seconds = {
        let batch = std::cell::RefCell::new(&mut batch);
        measure(&mut [
            &mut |n| {
                for _ in 0..n {
                    a += 1;
                    batch.borrow_mut().constnet(&m.constnet, a);
                }
            },
            &mut |n| {
                for _ in 0..n {
                    b += 1;
                    batch.borrow_mut().naive(&m.naive, b);
                }
            },
        ])
    };
    // Samples per second from seconds per batch.
    let per_s = [
        BIG_BATCH as f64 / batch_seconds[0],
        BIG_BATCH as f64 / batch_seconds[1],
    ];
    let gflops = per_s.map(|p| p * M_FLOPS_PER_SAMPLE / 1e9);

    // The peak of the instruction set the batched product runs on: AVX-512F at the AVX-512
    // level (large batched Dense products take its kernels), AVX2+FMA otherwise.
    let avx2_peak = peak_of(constnet::cpu::avx2_fma_peak_gflops);
    let avx512_peak = if constnet::simd_level() == constnet::SimdLevel::Avx512 {
        peak_of(constnet::cpu::avx512_fma_peak_gflops)
    } else {
        None
    };
    let peak = avx512_peak.or(avx2_peak);

    println!(
        "cpu: {}",
        constnet::cpu::model_name().unwrap_or_else(|| "unknown".into())
    );
    println!("simd_level: {:?}", constnet::simd_level());
    if let Some(p) = avx2_peak {
        println!("avx2_peak_gflops: {p:.1}");
    }
    if let Some(p) = avx512_peak {
        println!("avx512_peak_gflops: {p:.1}");
    }
    match peak {
        Some(p) => println!("peak_gflops (the batched kernel's instruction set): {p:.1}"),
        None => println!("peak_gflops: unavailable (no AVX2+FMA)"),
    }
    for (prefix, column) in [("", 0), ("naive ", 1)] {
        for (name, f) in &figures {
            println!("{prefix}{name} latency_ns: {:.1}", f.latency_ns[column]);
        }
        for (name, f) in &figures {
            println!("{prefix}{name} train_us: {:.2}", f.train_us[column]);
        }
        println!("{prefix}M batch256_per_s: {:.0}", per_s[column]);
        println!("{prefix}M batch256_gflops: {:.3}", gflops[column]);
    }
    for (name, f) in &figures {
        println!("input_major {name} latency_ns: {:.1}", f.latency_ns[2]);
    }
    for (name, f) in &figures {
        println!(
            "{name} latency_speedup: {:.2}",
            f.latency_ns[1] / f.latency_ns[0]
        );
    }
    for (name, f) in &figures {
        println!(
            "{name} latency_speedup_vs_input_major: {:.2}",
            f.latency_ns[2] / f.latency_ns[0]
        );
    }
    for (name, f) in &figures {
        println!("{name} train_speedup: {:.2}", f.train_us[1] / f.train_us[0]);
    }
    println!("M batch256_speedup: {:.2}", per_s[0] / per_s[1]);
    if let Some(p) = peak {
        println!("M batch256_fraction_of_peak: {:.3}", gflops[0] / p);
    }
    // The batched products of M's training step (batch 32): both layers forward, both
    // weight gradients, and the second layer's input gradient (the first layer's is not
    // computed), 2 flops per multiply-add; loss, activations, biases and Adam not counted.
    let m_macs = 784.0 * 128.0 + 128.0 * 10.0;
    let m_train_flops = 2.0 * workloads::BATCH as f64 * (2.0 * m_macs + 128.0 * 10.0);
    let m_train_gflops = m_train_flops / (figures[2].1.train_us[0] * 1e-6) / 1e9;
    println!("M train_products_gflops: {m_train_gflops:.1}");
    if let Some(p) = peak {
        println!(
            "M train_products_fraction_of_peak: {:.3}",
            m_train_gflops / p
        );
    }
    for (name, f) in &figures {
        println!("{name} train_final_loss: {:.4}", f.final_loss[0]);
        println!("naive {name} train_final_loss: {:.4}", f.final_loss[1]);
        println!("naive {name} train_subnormal_values: {}", f.naive_subnormal);
        println!("{name} max_output_difference: {:.2e}", f.max_difference);
    }
    // Where each training step goes: the median over rounds of each phase's mean time.
    macro_rules! train_phases {
        ($name:literal, $w:expr) => {{
            let w = $w;
            let mut phase_rounds: [Vec<f64>; 5] = Default::default();
            for _ in 0..ROUNDS {
                let mut seconds = [0.0; 5];
                const STEPS: usize = 100;
                for k in 0..STEPS {
                    let (x, t) = w.data.batch(k);
                    black_box(w.constnet_trainer.timed_step(x, t, &mut seconds));
                }
                for (round, total) in phase_rounds.iter_mut().zip(seconds) {
                    round.push(total / STEPS as f64);
                }
            }
            let phase_names = ["zero_grads", "forward", "loss", "backward", "adam"];
            for (phase, round) in phase_names.iter().zip(phase_rounds) {
                println!(
                    "{} train_phase_{phase}_us: {:.2}",
                    $name,
                    median(round) * 1e6
                );
            }
        }};
    }
    train_phases!("S", &mut s);
    train_phases!("M", &mut m);
    // Data-parallel training on 2 threads against one thread, by batch size.
    type Digits = constnet::seq![
        constnet::Dense<64, 32, constnet::Tanh>,
        constnet::Dense<32, 10>
    ];
    let digits: Digits = constnet::init::seeded(constnet::init::Init::XavierUniform, 1);
    let [one, two] = parallel_step_seconds::<Digits, 64, 10, 16>(&digits);
    println!("digits batch32 train_us_1_thread: {:.2}", one * 1e6);
    println!("digits batch32 train_us_2_threads: {:.2}", two * 1e6);
    println!("digits batch32 parallel_speedup: {:.2}", one / two);
    let m_net = &*m.constnet;
    macro_rules! m_parallel {
        ($($c:literal),*) => {$(
            let [one, two] = parallel_step_seconds::<workloads::MNet, 784, 10, $c>(m_net);
            println!("M batch{} train_us_1_thread: {:.1}", 2 * $c, one * 1e6);
            println!("M batch{} train_us_2_threads: {:.1}", 2 * $c, two * 1e6);
            println!("M batch{} parallel_speedup: {:.2}", 2 * $c, one / two);
        )*};
    }
    m_parallel!(4, 16, 32, 64, 128);

    streaming_figures();
    mlperf_figures();
    println!("elapsed_s: {:.1}", started.elapsed().as_secs_f64());

    for (name, f) in &figures {
        for loss in f.final_loss {
            assert!(
                loss.is_finite() && loss > MIN_FINAL_LOSS,
                "{name}: final training loss {loss} is not above {MIN_FINAL_LOSS}: the bench would time subnormal arithmetic"
            );
        }
        assert_eq!(
            f.naive_subnormal, 0,
            "{name}: the naive trainer's weights or Adam moments hold subnormal values"
        );
        assert!(
            f.max_difference < 1e-3,
            "{name}: constnet and the baselines disagree by {}",
            f.max_difference
        );
    }
}

/// A FMA peak (`probe`: the AVX2 or the AVX-512 one): median of 7 runs of about 0.1 s each.
fn peak_of(probe: fn(u64) -> Option<f64>) -> Option<f64> {
    let first = probe(10_000_000)?;
    let iterations = (first * 1e9 * 0.1 / 384.0).max(1.0) as u64;
    let runs = (0..7)
        .map(|_| probe(iterations))
        .collect::<Option<Vec<f64>>>()?;
    Some(median(runs))
}

/// Nanoseconds per sample of a streaming model, constnet and naive, over the seeded signal:
/// `[constnet, naive]`, and the largest difference between their outputs from a fresh state.
macro_rules! stream_pair {
    ($model:expr, $signal:expr) => {{
        let signal = $signal;
        let mut fresh = $model;
        let difference = signal
            .iter()
            .map(|x| (fresh.constnet(x) - fresh.naive(x)).abs())
            .fold(0.0f32, f32::max);
        let mut model = $model;
        let model = std::cell::RefCell::new(&mut model);
        let seconds = measure(&mut [
            &mut |n| {
                let mut m = model.borrow_mut();
                for _ in 0..n {
                    for x in signal {
                        black_box(m.constnet(black_box(x)));
                    }
                }
            },
            &mut |n| {
                let mut m = model.borrow_mut();
                for _ in 0..n {
                    for x in signal {
                        black_box(m.naive(black_box(x)));
                    }
                }
            },
        ]);
        let per_sample = |s: f64| s * 1e9 / signal.len() as f64;
        ([per_sample(seconds[0]), per_sample(seconds[1])], difference)
    }};
}

/// The MLPerf Tiny models (`benches/workloads/mlperf.rs`), batch 1, f32, one thread: latency
/// and GFLOP/s (2 × multiply-adds of a direct convolution), constnet and the naive
/// reference, after checking that both compute the same logits.
fn mlperf_figures() {
    use workloads::mlperf::{TinyModel, ad, kws, resnet8, vww};
    fn one<N: constnet::Layer<Scalar = f32>>(name: &str, model: TinyModel<N>)
    where
        N::Output: AsRef<[f32]>,
    {
        let ours = model.net.forward(&model.input);
        let reference = model.reference();
        let difference = ours
            .as_ref()
            .iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
            .fold(0.0f32, f32::max);
        assert!(
            ours.as_ref().len() == reference.len() && difference < 1e-3,
            "{name}: constnet and naive disagree by {difference}"
        );
        let seconds = measure(&mut [
            &mut |n| {
                for _ in 0..n {
                    black_box(model.net.forward(black_box(&model.input)));
                }
            },
            &mut |n| {
                for _ in 0..n {
                    black_box(model.reference());
                }
            },
        ]);
        let gflops = |s: f64| 2.0 * model.macs as f64 / s / 1e9;
        println!("{name} latency_us: {:.1}", seconds[0] * 1e6);
        println!("{name} gflops: {:.2}", gflops(seconds[0]));
        println!("naive {name} latency_us: {:.1}", seconds[1] * 1e6);
        println!("naive {name} gflops: {:.2}", gflops(seconds[1]));
        println!("{name} speedup: {:.2}", seconds[1] / seconds[0]);
        println!("{name} macs: {}", model.macs);
        println!("{name} max_output_difference: {difference:.2e}");
    }
    one("KWS", kws());
    one("RESNET8", resnet8());
    one("VWW", vww());
    one("AD", ad());
    mlperf_int8_figures();
}

/// M in int8 (`benches/data/mlperf_int8/M_int8.tflite`, TensorFlow Lite's arithmetic, exact)
/// beside constnet's f32 M, timed in the same rounds.
#[cfg(feature = "tflite")]
fn m_int8_figures(m: &workloads::WorkloadM) {
    use constnet::quant::{Int8Layer, boxed_zeros};
    let net = mlperf_int8::load::<mlperf_int8::MInt8>("M");
    let inputs: Vec<[i8; 784]> = (0..64u32)
        .map(|k| {
            core::array::from_fn(|i| {
                (k.wrapping_mul(2654435761).wrapping_add(i as u32 * 40503) >> 7) as i8
            })
        })
        .collect();
    let (mut a, mut b) = (0usize, 0usize);
    let mut y = [0i8; 10];
    let mut scratch = boxed_zeros::<<mlperf_int8::MInt8 as Int8Layer>::Scratch>();
    let seconds = measure(&mut [
        &mut |n| {
            for _ in 0..n {
                a += 1;
                net.forward_into(black_box(&inputs[a % 64]), &mut y, &mut scratch);
                black_box(&y);
            }
        },
        &mut |n| {
            for _ in 0..n {
                b += 1;
                black_box(m.constnet_forward(b));
            }
        },
    ]);
    println!("M int8 latency_ns: {:.1}", seconds[0] * 1e9);
    println!("M f32 latency_ns (same rounds): {:.1}", seconds[1] * 1e9);
    println!("M int8_speedup_over_f32: {:.2}", seconds[1] / seconds[0]);
}

#[cfg(not(feature = "tflite"))]
fn m_int8_figures(_: &workloads::WorkloadM) {
    println!("M int8: build with --features tflite to load and time the int8 models");
}

/// The MLPerf Tiny models in int8 (`benches/data/mlperf_int8/`), batch 1, one thread: latency
/// and GOP/s (2 × multiply-adds).
#[cfg(feature = "tflite")]
fn mlperf_int8_figures() {
    use constnet::quant::{Int8Tensor, boxed_zeros};
    use mlperf_int8::*;
    fn one<L: constnet::tflite::FromTflite>(name: &str, file: &str, macs: usize)
    where
        L::Input: Int8Tensor,
    {
        let net = load::<L>(file);
        let mut x = boxed_zeros::<L::Input>();
        for (i, v) in x.values_mut().iter_mut().enumerate() {
            *v = (i as u32).wrapping_mul(2654435761).rotate_right(11) as i8;
        }
        let mut y = boxed_zeros::<L::Output>();
        let mut scratch = boxed_zeros::<L::Scratch>();
        let seconds = measure(&mut [&mut |n| {
            for _ in 0..n {
                net.forward_into(black_box(&x), &mut y, &mut scratch);
                black_box(&y);
            }
        }]);
        println!("{name} int8 latency_us: {:.1}", seconds[0] * 1e6);
        println!(
            "{name} int8 gops: {:.2}",
            2.0 * macs as f64 / seconds[0] / 1e9
        );
    }
    use workloads::mlperf::{ad, kws, resnet8, vww};
    one::<KwsInt8>("KWS", "kws", kws().macs);
    one::<ResNet8Int8>("RESNET8", "resnet8", resnet8().macs);
    one::<VwwInt8>("VWW", "vww", vww().macs);
    one::<AdInt8>("AD", "ad", ad().macs);
}

#[cfg(not(feature = "tflite"))]
fn mlperf_int8_figures() {
    println!("MLPerf int8: build with --features tflite to load and time the int8 models");
}

/// The sequence figures: streaming ns per sample (GRU8, LSTM16, LSTM32, CONV) beside the naive
/// reference, the per-sample time after a long silence, and one BPTT training step.
fn streaming_figures() {
    use workloads::streaming::{ConvStream, GruStream, LstmStream, signal};
    let signal = signal();
    let figures = [
        ("GRU8", stream_pair!(GruStream::<8>::new(31), &signal)),
        ("LSTM16", stream_pair!(LstmStream::<16>::new(32), &signal)),
        ("LSTM32", stream_pair!(LstmStream::<32>::new(33), &signal)),
        ("CONV", stream_pair!(ConvStream::new(34), &signal)),
    ];
    for (name, ([ours, naive], difference)) in figures {
        println!("{name} stream_ns: {ours:.1}");
        println!("naive {name} stream_ns: {naive:.1}");
        println!("{name} stream_speedup: {:.2}", naive / ours);
        println!("{name} max_output_difference: {difference:.2e}");
        assert!(
            difference < 1e-4,
            "{name}: constnet and naive disagree by {difference}"
        );
    }

    // A whole network streamed with one call per sample (`Stream::step` on the chain) against
    // its parts wired by hand (a call per part), in alternating rounds: the same bits, and
    // the chain no slower.
    macro_rules! chain_pair {
        ($model:expr) => {{
            let mut check = $model;
            for x in &signal {
                assert_eq!(
                    check.chained(x).to_bits(),
                    check.constnet(x).to_bits(),
                    "a chain streams with the bits of its hand wiring"
                );
            }
            let model = std::cell::RefCell::new($model);
            let seconds = measure(&mut [
                &mut |n| {
                    let mut m = model.borrow_mut();
                    for _ in 0..n {
                        for x in &signal {
                            black_box(m.chained(black_box(x)));
                        }
                    }
                },
                &mut |n| {
                    let mut m = model.borrow_mut();
                    for _ in 0..n {
                        for x in &signal {
                            black_box(m.constnet(black_box(x)));
                        }
                    }
                },
            ]);
            let per_sample = |s: f64| s * 1e9 / signal.len() as f64;
            (per_sample(seconds[0]), per_sample(seconds[1]))
        }};
    }
    for (name, (chained, by_hand)) in [
        ("GRU8", chain_pair!(GruStream::<8>::new(31))),
        ("CONV", chain_pair!(ConvStream::new(34))),
    ] {
        println!("{name} chain_stream_ns: {chained:.1}");
        println!("{name} hand_wired_stream_ns: {by_hand:.1}");
        println!("{name} chain_over_hand_wired: {:.2}", chained / by_hand);
    }

    // A long silence: a GRU whose state decays slowly drifts, unflushed, into subnormal
    // numbers. One copy of the model plays 20,000 samples of the signal and is then fed
    // silence, untimed, until the naive (unflushed)
    // state holds a subnormal value (at most 4 million samples); another copy plays the
    // signal. Then 7 interleaved rounds time 2,000 samples of each: silence on the first copy,
    // signal on the second, constnet and naive; medians. constnet flushes its state, the
    // naive reference does not.
    let mut quiet = GruStream::<8>::slowly_decaying(35);
    let mut loud = GruStream::<8>::slowly_decaying(35);
    let silence = [[0.0f32]; 2000];
    for x in signal.iter().cycle().take(20_000) {
        black_box(quiet.constnet(x));
        black_box(quiet.naive(x));
    }
    let mut silent_samples = 0usize;
    while quiet.naive_subnormal() == 0 && silent_samples < 4_000_000 {
        for x in &silence[..1000] {
            black_box(quiet.constnet(x));
            black_box(quiet.naive(x));
        }
        silent_samples += 1000;
    }
    let subnormal_before = quiet.naive_subnormal();
    let time = |f: &mut dyn FnMut(&[f32; 1]) -> f32, samples: &[[f32; 1]]| {
        let start = Instant::now();
        for x in samples {
            black_box(f(black_box(x)));
        }
        start.elapsed().as_secs_f64() * 1e9 / samples.len() as f64
    };
    let mut rounds: [Vec<f64>; 4] = Default::default();
    for round in 0..7 {
        let signal_part = &signal[(round * 2000) % 2000..][..2000];
        rounds[0].push(time(&mut |x| loud.constnet(x), signal_part));
        rounds[1].push(time(&mut |x| quiet.constnet(x), &silence));
        rounds[2].push(time(&mut |x| loud.naive(x), signal_part));
        rounds[3].push(time(&mut |x| quiet.naive(x), &silence));
    }
    let [loud_ns, quiet_ns, naive_loud_ns, naive_quiet_ns] = rounds.map(median);
    println!("GRU8 loud_stream_ns: {loud_ns:.1}");
    println!("GRU8 after_silence_stream_ns: {quiet_ns:.1}");
    println!("naive GRU8 loud_stream_ns: {naive_loud_ns:.1}");
    println!("naive GRU8 after_silence_stream_ns: {naive_quiet_ns:.1}");
    println!("GRU8 silent_samples_before_timing: {silent_samples}");
    println!("naive GRU8 subnormal_state_values_after_silence: {subnormal_before}");
    println!(
        "naive GRU8 subnormal_state_values_after_timing: {}",
        quiet.naive_subnormal()
    );
    println!(
        "GRU8 subnormal_state_values_after_silence: {}",
        quiet.state.h.iter().filter(|v| v.is_subnormal()).count()
    );

    // One BPTT training step of the 07_amp network (GRU 1 -> 8 + Dense 8 -> 1 over 32
    // steps, batch 16, MSE, Adam): batched, and the fixed per-sample reference, interleaved.
    use workloads::bptt::{BATCH, Batch, Batched, Reference, WINDOW, gradients};
    let batch = Batch::from_signal(&signal);
    let (batched_grads, reference_grads) = gradients(&batch);
    let scale = reference_grads.iter().fold(0.0f32, |m, g| m.max(g.abs()));
    let difference = batched_grads
        .iter()
        .zip(&reference_grads)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    let mut batched = Batched::new();
    let mut reference = Reference::new();
    let seconds = measure(&mut [
        &mut |n| {
            for _ in 0..n {
                black_box(batched.step(&batch));
            }
        },
        &mut |n| {
            for _ in 0..n {
                black_box(reference.step(&batch));
            }
        },
    ]);
    println!("GRU train_us: {:.2}", seconds[0] * 1e6);
    println!("reference GRU train_us: {:.2}", seconds[1] * 1e6);
    println!(
        "GRU train_ns_per_sample_step: {:.1}",
        seconds[0] * 1e9 / (BATCH * WINDOW) as f64
    );
    println!(
        "GRU train_speedup_over_reference: {:.2}",
        seconds[1] / seconds[0]
    );
    println!(
        "GRU train_gradient_difference: {:.2e} (largest gradient {scale:.2e})",
        difference
    );
    assert!(
        difference <= 1e-4 * scale.max(1e-3),
        "the batched and the reference BPTT gradients differ by {difference}"
    );
    let (batched_loss, reference_loss) = (batched.step(&batch), reference.step(&batch));
    println!("GRU train_final_losses: {batched_loss:.6} (reference {reference_loss:.6})");
}
