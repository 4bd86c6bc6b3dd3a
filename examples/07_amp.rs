//! Learns a guitar "amp" with a GRU and runs it in real time, one sample at a time.
//!
//! The amp (`examples/common/amp.rs`) is a stateful nonlinearity: pre-emphasis
//! `u[n] = x[n] − 0.9·x[n−1]`, saturation `s[n] = tanh(4·u[n])`, one-pole low-pass
//! `y[n] = 0.3·s[n] + 0.7·y[n−1]`. A seeded guitar-like signal at 48 kHz (plucked notes and a
//! little noise, loud and bright enough to drive the saturation) goes through it; a `Gru<1, 8>` with a `Dense<8, 1>` head learns to imitate it
//! by backpropagation through time over windows of 32 samples (`GruSequence<1, 8, 32>` then
//! `Dense<8, 1>` on the last state, through `fit::Fit`), each window predicting the amp's
//! output at its last sample. The amp forgets within a few samples (0.7³² ≈ 1e-5), so a
//! 32-sample window from a zero state sees all it needs.
//!
//! Then the trained network streams (`Stream::step`) a held-out signal (another seed) sample by sample from a zero
//! state, as a plugin would, and the example reports the error-to-signal ratio
//! `ESR = Σ(y − ŷ)² / Σy²` against the amp (`esr: …`, at most 0.01) and the streaming speed as
//! a real-time factor (`realtime_factor: …`: samples per second over 48,000).
//!
//! `cargo run --release --example 07_amp`

mod common;

use std::process::ExitCode;
use std::time::Instant;

use constnet::fit::{DataSet, EarlyStopping, Fit, ReduceLrOnPlateau};
use constnet::init::{self, Init};
use constnet::loss::Mse;
use constnet::optim::{Adam, AdamConfig};
use constnet::{Dense, GruSequence, Stream, Zeros, seq};

use common::amp::{SAMPLE_RATE, amp, esr, guitar_like_signal};
use common::progress::EpochBar;

/// Samples per training window.
const WINDOW: usize = 32;
/// A window starts every `STRIDE` samples of the training signal.
const STRIDE: usize = 4;
const BATCH: usize = 16;
const EPOCHS: usize = 12;
const LEARNING_RATE: f64 = 5e-3;
/// The example fails above this error-to-signal ratio.
const MAXIMUM_ESR: f64 = 0.01;

type Net = seq![GruSequence<1, 8, WINDOW>, Dense<8, 1>];

/// Windows of `WINDOW` input samples and the amp's output at each window's last sample.
fn windows(signal: &[f32], target: &[f32]) -> (Vec<[[f32; 1]; WINDOW]>, Vec<[f32; 1]>) {
    (WINDOW - 1..signal.len())
        .step_by(STRIDE)
        .map(|end| {
            let window = core::array::from_fn(|k| [signal[end + 1 - WINDOW + k]]);
            (window, [target[end]])
        })
        .unzip()
}

fn run() -> Result<(), String> {
    let train_signal = guitar_like_signal(2.0, 1);
    let validation_signal = guitar_like_signal(0.5, 2);
    let test_signal = guitar_like_signal(2.0, 3);
    let (train_x, train_y) = windows(&train_signal, &amp(&train_signal));
    let (validation_x, validation_y) = windows(&validation_signal, &amp(&validation_signal));
    println!(
        "amp: {} training windows of {WINDOW} samples ({:.1} s of signal), {} validation windows",
        train_x.len(),
        train_signal.len() as f64 / SAMPLE_RATE,
        validation_x.len()
    );

    let mut net: Net = init::seeded(Init::PyTorchDefault, 4);
    let mut adam = Adam::<Net>::new(AdamConfig::new().lr(LEARNING_RATE));
    let history = Fit::<BATCH>::new(EPOCHS)
        .seed(5)
        .early_stopping(EarlyStopping::new(4))
        .reduce_lr_on_plateau(
            ReduceLrOnPlateau::new()
                .patience(2)
                .factor(0.3)
                .min_delta(0.0),
        )
        .run_with(
            &mut net,
            &mut adam,
            &Mse,
            DataSet::new(&train_x, &train_y),
            Some(DataSet::new(&validation_x, &validation_y)),
            &mut EpochBar::new(),
        )
        .map_err(|error| error.to_string())?;
    for record in &history.epochs {
        println!(
            "epoch {:2}: train loss {:.3e}, validation loss {:.3e}, lr {:.1e}",
            record.epoch,
            record.train_loss,
            record.val_loss.unwrap_or(f64::NAN),
            record.lr
        );
    }
    println!(
        "training: {} BPTT steps in {:.2} s ({:.1} µs per step of {BATCH} windows)",
        history.steps(),
        history.train_seconds(),
        history.train_seconds() * 1e6 / history.steps() as f64
    );

    // Stream the held-out signal through the trained network, one sample at a time: one
    // call per sample for the GRU and its head, the state (the GRU's h, the head's unit)
    // owned here.
    let mut state = <Net as Stream>::State::zeros();
    let mut output = vec![0.0f32; test_signal.len()];
    let started = Instant::now();
    for (y, &x) in output.iter_mut().zip(&test_signal) {
        *y = net.step(&mut state, &[x])[0];
    }
    let seconds = started.elapsed().as_secs_f64();
    let error = esr(&amp(&test_signal), &output);
    let realtime_factor = test_signal.len() as f64 / seconds / SAMPLE_RATE;
    println!(
        "streamed {} held-out samples ({:.1} s of audio) in {:.2} ms",
        test_signal.len(),
        test_signal.len() as f64 / SAMPLE_RATE,
        seconds * 1e3
    );
    let saturated = amp_inputs_beyond_linear(&test_signal);
    println!(
        "{:.1}% of the held-out samples drive tanh(4u) beyond |4u| = 1",
        100.0 * saturated
    );
    println!("esr: {error:.6}");
    println!("realtime_factor: {realtime_factor:.0}");
    if error > MAXIMUM_ESR {
        return Err(format!("ESR {error:.4} is above {MAXIMUM_ESR}"));
    }
    Ok(())
}

/// The fraction of samples whose pre-emphasized `|4·u|` exceeds 1 (where tanh bends).
fn amp_inputs_beyond_linear(signal: &[f32]) -> f64 {
    let beyond = signal
        .windows(2)
        .filter(|pair| (4.0 * (pair[1] - 0.9 * pair[0])).abs() > 1.0)
        .count();
    beyond as f64 / signal.len() as f64
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("07_amp: {message}");
            ExitCode::FAILURE
        }
    }
}
