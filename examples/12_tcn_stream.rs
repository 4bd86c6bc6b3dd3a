//! A temporal convolutional network trained on windows and run as a stream.
//!
//! Two kinds of seeded signals, a slow sine (period 16–24 samples) and a fast one (5–8), with
//! noise: a stack of causal convolutions (3 taps, dilations 1 and 2, tanh) reads a window of
//! 16 samples, `LastFrame` takes its newest frame and a dense layer classifies it. It trains
//! on windows through `Fit`; then the same network streams a long signal whose kind changes
//! every 200 samples, one sample per `Stream::step` call, and every streamed output is checked
//! against the windowed forward over the 16 samples it has seen (the same bits).
//!
//! Ends with `window_accuracy` (held-out windows), `stream_accuracy` (streamed samples at
//! least 16 samples into a segment) and `stream_ns_per_sample`.
//!
//! `cargo run --release --example 12_tcn_stream`

use std::process::ExitCode;
use std::time::Instant;

use constnet::fit::{self, DataSet, Fit};
use constnet::init::{self, Init};
use constnet::loss::CrossEntropy;
use constnet::optim::{Adam, AdamConfig};
use constnet::{Conv1d, Dense, LastFrame, Layer, Stream, Tanh, Zeros, seq};

const WINDOW: usize = 16;
type Tcn = seq![
    Conv1d<1, 8, 3, WINDOW, 14, Tanh>,
    Conv1d<8, 8, 3, 14, 10, Tanh, f32, 1, 0, 2>,
    LastFrame<8, 10>,
    Dense<8, 2>
];

/// A seeded generator of uniform numbers in [0, 1).
struct Uniform(u64);

impl Uniform {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// `n` samples of one kind (0 slow, 1 fast), starting at a random phase.
fn signal(kind: usize, n: usize, random: &mut Uniform) -> Vec<[f32; 1]> {
    let period = if kind == 0 {
        16.0 + 8.0 * random.next()
    } else {
        5.0 + 3.0 * random.next()
    };
    let phase = random.next() * core::f32::consts::TAU;
    (0..n)
        .map(|t| {
            [(core::f32::consts::TAU * t as f32 / period + phase).sin()
                + 0.3 * (random.next() - 0.5)]
        })
        .collect()
}

fn windows(count: usize, seed: u64) -> (Vec<[[f32; 1]; WINDOW]>, Vec<usize>) {
    let mut random = Uniform(seed);
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for i in 0..count {
        let kind = i % 2;
        let s = signal(kind, WINDOW, &mut random);
        xs.push(core::array::from_fn(|t| s[t]));
        ys.push(kind);
    }
    (xs, ys)
}

fn run() -> Result<(), String> {
    let (train_x, train_y) = windows(512, 1);
    let (test_x, test_y) = windows(256, 2);
    let mut net: Tcn = init::seeded(Init::PyTorchDefault, 3);
    let mut adam = Adam::<Tcn>::new(AdamConfig::new().lr(1e-2));
    let history = Fit::<32>::new(30)
        .seed(4)
        .run(
            &mut net,
            &mut adam,
            &CrossEntropy,
            DataSet::new(&train_x, &train_y),
            None,
        )
        .map_err(|e| e.to_string())?;
    let window_accuracy = fit::accuracy(&net, &test_x, &test_y);
    println!(
        "trained on {} windows of {WINDOW} samples in {:.3} s ({} epochs)",
        train_x.len(),
        history.train_seconds(),
        history.epochs.len()
    );

    // A long signal whose kind changes every 200 samples, streamed.
    let mut random = Uniform(5);
    let mut stream = Vec::new();
    let mut kinds = Vec::new();
    for segment in 0..20 {
        let kind = segment % 2;
        stream.extend(signal(kind, 200, &mut random));
        kinds.extend((0..200).map(|t| (kind, t)));
    }
    let mut state = <Tcn as Stream>::State::zeros();
    let mut outputs = vec![[0.0f32; 2]; stream.len()];
    let started = Instant::now();
    for (y, x) in outputs.iter_mut().zip(&stream) {
        *y = net.step(&mut state, x);
    }
    let ns = started.elapsed().as_secs_f64() * 1e9 / stream.len() as f64;
    let (mut right, mut counted) = (0, 0);
    for (t, (y, &(kind, into))) in outputs.iter().zip(&kinds).enumerate() {
        if t + 1 >= WINDOW {
            let window: [[f32; 1]; WINDOW] = core::array::from_fn(|k| stream[t + 1 - WINDOW + k]);
            let windowed = net.forward(&window);
            if windowed.map(f32::to_bits) != y.map(f32::to_bits) {
                return Err(format!("sample {t}: streamed {y:?}, windowed {windowed:?}"));
            }
        }
        if into + 1 >= WINDOW {
            counted += 1;
            right += usize::from(usize::from(y[1] > y[0]) == kind);
        }
    }
    println!("every streamed output equals the windowed forward over its last {WINDOW} samples");
    println!("window_accuracy: {window_accuracy:.4}");
    println!("stream_accuracy: {:.4}", right as f64 / counted as f64);
    println!("stream_ns_per_sample: {ns:.1}");
    if window_accuracy < 0.9 {
        return Err(format!("window accuracy {window_accuracy:.4} is below 0.9"));
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
