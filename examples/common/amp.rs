//! The "amp" of `07_amp`: a synthetic guitar-like signal and the stateful nonlinearity a
//! recurrent network learns to imitate, with the error-to-signal ratio that scores it.
//!
//! The amp, per sample `n` (all state zero before the first sample):
//! - pre-emphasis `u[n] = x[n] − 0.9·x[n−1]`,
//! - saturation `s[n] = tanh(4·u[n])`,
//! - one-pole low-pass `y[n] = 0.3·s[n] + 0.7·y[n−1]`.

use constnet::TrainRng;
use rand::RngExt;

/// Samples per second.
pub const SAMPLE_RATE: f64 = 48_000.0;

/// `seconds` of seeded test signal: three plucked notes at a time (sines with decaying
/// envelopes, retriggered every 0.25 s with random pitches from 80 Hz to 5.1 kHz and levels
/// from 0.2 to 0.9) plus a little noise: loud and bright enough that the pre-emphasized
/// `4·u` often leaves tanh's linear range.
pub fn guitar_like_signal(seconds: f64, seed: u64) -> Vec<f32> {
    let mut rng = TrainRng::seed_from_u64(seed);
    let samples = (seconds * SAMPLE_RATE) as usize;
    let note_length = (0.25 * SAMPLE_RATE) as usize;
    let mut signal = vec![0.0f32; samples];
    let mut notes = [(0.0f64, 0.0f64, 0.0f64); 3]; // (frequency, level, phase)
    for (n, sample) in signal.iter_mut().enumerate() {
        if n % note_length == 0 {
            for note in &mut notes {
                // A pitch between 80 Hz and 5.12 kHz, a level between 0.2 and 0.9.
                note.0 = 80.0 * 2f64.powf(6.0 * rng.random::<f64>());
                note.1 = 0.2 + 0.7 * rng.random::<f64>();
                note.2 = 0.0;
            }
        }
        let since_pluck = (n % note_length) as f64 / SAMPLE_RATE;
        let envelope = (-since_pluck / 0.12).exp();
        let mut value = 0.0;
        for note in &mut notes {
            note.2 += 2.0 * std::f64::consts::PI * note.0 / SAMPLE_RATE;
            value += note.1 * envelope * note.2.sin();
        }
        value += 0.02 * (2.0 * rng.random::<f64>() - 1.0);
        *sample = value as f32;
    }
    signal
}

/// The amp's output for a whole signal, from a zero state.
pub fn amp(signal: &[f32]) -> Vec<f32> {
    let (mut previous_x, mut previous_y) = (0.0f64, 0.0f64);
    signal
        .iter()
        .map(|&x| {
            let x = f64::from(x);
            let u = x - 0.9 * previous_x;
            let s = (4.0 * u).tanh();
            let y = 0.3 * s + 0.7 * previous_y;
            previous_x = x;
            previous_y = y;
            y as f32
        })
        .collect()
}

/// The error-to-signal ratio `Σ(y − ŷ)² / Σy²` (no filtering inside the metric).
pub fn esr(target: &[f32], prediction: &[f32]) -> f64 {
    assert_eq!(target.len(), prediction.len());
    let (mut error, mut energy) = (0.0f64, 0.0f64);
    for (&y, &p) in target.iter().zip(prediction) {
        let (y, p) = (f64::from(y), f64::from(p));
        error += (y - p) * (y - p);
        energy += y * y;
    }
    error / energy
}
