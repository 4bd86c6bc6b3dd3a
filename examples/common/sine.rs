//! The sine regression task, in one place for `examples/06_sine.rs` and
//! `tests/fit_quality.rs`: the synthetic data, the network and its training settings.
//!
//! Data: `y = sin(x)` without noise. Training and validation inputs are drawn uniformly from
//! [−π, π] by seeded generators (distinct seeds); the test set is an evenly spaced grid over
//! the same interval, endpoints included, that training never sees.

use std::f64::consts::PI;

use constnet::fit::{Callback, DataSet, EarlyStopping, Fit, FitError, History, ReduceLrOnPlateau};
use constnet::init::{self, Init};
use constnet::loss::Mse;
use constnet::optim::{Adam, AdamConfig};
use constnet::{Dense, Tanh, TrainRng, seq};
use rand::RngExt;

pub const TRAIN_POINTS: usize = 256;
pub const VALIDATION_POINTS: usize = 64;
pub const TEST_POINTS: usize = 501;
const TRAIN_SEED: u64 = 10;
const VALIDATION_SEED: u64 = 11;
/// 256 training points: 16 batches of 16.
pub const BATCH: usize = 16;
/// The example and the test fail above this test MSE.
pub const MAXIMUM_MSE: f64 = 1e-3;

/// x → 32 tanh → 32 tanh → y.
pub type Net = seq![Dense<1, 32, Tanh>, Dense<32, 32, Tanh>, Dense<32, 1>];
pub const NET_NAME: &str = "Dense<1, 32, Tanh> -> Dense<32, 32, Tanh> -> Dense<32, 1>";

/// What a run can change without changing the types.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub epochs: usize,
    pub learning_rate: f64,
    /// Early stopping: epochs without a lower validation loss before the run ends.
    pub patience: usize,
    /// Learning-rate reduction: epochs without a lower validation loss before the rate is
    /// multiplied by `plateau_factor`.
    pub plateau_patience: usize,
    pub plateau_factor: f64,
    pub min_lr: f64,
    pub init_seed: u64,
    pub fit_seed: u64,
}

/// The settings of the example and the test.
pub const SETTINGS: Settings = Settings {
    epochs: 200,
    learning_rate: 1e-2,
    patience: 40,
    plateau_patience: 10,
    plateau_factor: 0.5,
    min_lr: 1e-5,
    init_seed: 1,
    fit_seed: 2,
};

/// Inputs and targets of the three sets.
pub struct Data {
    pub train_x: Vec<[f32; 1]>,
    pub train_y: Vec<[f32; 1]>,
    pub validation_x: Vec<[f32; 1]>,
    pub validation_y: Vec<[f32; 1]>,
    pub test_x: Vec<[f32; 1]>,
    pub test_y: Vec<[f32; 1]>,
}

/// `(x, sin x)` pairs for the inputs `xs` (the sine taken in f64).
fn pairs(xs: impl Iterator<Item = f64>) -> (Vec<[f32; 1]>, Vec<[f32; 1]>) {
    xs.map(|x| ([x as f32], [x.sin() as f32])).unzip()
}

/// `points` inputs uniform in [−π, π] from a generator seeded with `seed`.
fn uniform(points: usize, seed: u64) -> impl Iterator<Item = f64> {
    let mut rng = TrainRng::seed_from_u64(seed);
    (0..points).map(move |_| rng.random_range(-PI..=PI))
}

/// The data sets (the same on every run).
pub fn data() -> Data {
    let (train_x, train_y) = pairs(uniform(TRAIN_POINTS, TRAIN_SEED));
    let (validation_x, validation_y) = pairs(uniform(VALIDATION_POINTS, VALIDATION_SEED));
    let step = 2.0 * PI / (TEST_POINTS - 1) as f64;
    let (test_x, test_y) = pairs((0..TEST_POINTS).map(|i| -PI + i as f64 * step));
    Data {
        train_x,
        train_y,
        validation_x,
        validation_y,
        test_x,
        test_y,
    }
}

/// Trains a freshly initialized network; returns it (with the best epoch's parameters) and
/// the history.
pub fn train<C: Callback<Net> + ?Sized>(
    data: &Data,
    settings: &Settings,
    callback: &mut C,
) -> Result<(Net, History), FitError> {
    let mut net: Net = init::seeded(Init::PyTorchDefault, settings.init_seed);
    let mut adam = Adam::<Net>::new(AdamConfig::new().lr(settings.learning_rate));
    let plateau = ReduceLrOnPlateau::new()
        .factor(settings.plateau_factor)
        .patience(settings.plateau_patience)
        .min_delta(0.0)
        .min_lr(settings.min_lr);
    let history = Fit::<BATCH>::new(settings.epochs)
        .seed(settings.fit_seed)
        .early_stopping(EarlyStopping::new(settings.patience))
        .reduce_lr_on_plateau(plateau)
        .run_with(
            &mut net,
            &mut adam,
            &Mse,
            DataSet::new(&data.train_x, &data.train_y),
            Some(DataSet::new(&data.validation_x, &data.validation_y)),
            callback,
        )?;
    Ok((net, history))
}
