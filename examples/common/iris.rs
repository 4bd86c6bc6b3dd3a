//! The iris task, in one place for `examples/05_iris.rs` and `tests/fit_quality.rs`: the
//! split of `examples/data/iris.csv`, the feature standardization, the network and its
//! training settings.
//!
//! Split (the rows are already shuffled, see `examples/data/README.md`): rows 0..100 train,
//! 100..120 validate (early stopping), 120..150 test. The features are standardized with the
//! mean and the population standard deviation of the 100 training rows only; validation and
//! test rows get the same affine map.
//!
//! The model is a single `Dense<4, 3>` layer (multinomial logistic regression) with an L2
//! penalty: see `examples/05_iris.rs` for why no hidden layer.

use constnet::Dense;
use constnet::fit::{Callback, DataSet, EarlyStopping, Fit, FitError, History};
use constnet::init::{self, Init};
use constnet::loss::CrossEntropy;
use constnet::optim::{Adam, AdamConfig};

use super::csv_data::{data_path, load_labelled};

pub const FEATURES: usize = 4;
pub const CLASSES: usize = 3;
/// Rows 0..100 train, 100..120 validate, 120..150 test.
pub const TRAIN_ROWS: usize = 100;
pub const VALIDATION_ROWS: usize = 20;
pub const TEST_ROWS: usize = 30;
/// 100 training rows: 12 full batches of 8 and a short one of 4.
pub const BATCH: usize = 8;
/// The example and the test fail below this test accuracy (28 of 30 rows).
pub const MINIMUM_ACCURACY: f64 = 0.93;

/// 4 standardized features → 3 logits (cross-entropy on class indices): a linear softmax
/// classifier.
pub type Net = Dense<4, 3>;
pub const NET_NAME: &str = "Dense<4, 3>";

/// What a run can change without changing the types.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub epochs: usize,
    pub learning_rate: f64,
    /// Early stopping: epochs without a lower validation loss before the run ends.
    pub patience: usize,
    /// L2 penalty `λ·Σθ²` added to the loss.
    pub l2: f64,
    pub init_seed: u64,
    pub fit_seed: u64,
}

/// The settings of the example and the test.
pub const SETTINGS: Settings = Settings {
    epochs: 300,
    learning_rate: 1e-2,
    patience: 30,
    l2: 2e-2,
    init_seed: 1,
    fit_seed: 2,
};

/// Per-feature mean and population standard deviation of the training rows.
#[derive(Clone, Copy, Debug)]
pub struct Standardizer {
    pub mean: [f32; FEATURES],
    pub std: [f32; FEATURES],
}

impl Standardizer {
    /// Fits the map on `rows` (sums in f64; standard deviation ÷n).
    pub fn fit(rows: &[[f32; FEATURES]]) -> Self {
        let n = rows.len() as f64;
        let mut mean = [0.0f32; FEATURES];
        let mut std = [0.0f32; FEATURES];
        for j in 0..FEATURES {
            let m = rows.iter().map(|x| f64::from(x[j])).sum::<f64>() / n;
            let variance = rows
                .iter()
                .map(|x| (f64::from(x[j]) - m).powi(2))
                .sum::<f64>()
                / n;
            mean[j] = m as f32;
            std[j] = variance.sqrt() as f32;
        }
        Standardizer { mean, std }
    }

    /// `(x − mean) / std`, feature by feature.
    pub fn apply(&self, x: &[f32; FEATURES]) -> [f32; FEATURES] {
        core::array::from_fn(|j| (x[j] - self.mean[j]) / self.std[j])
    }
}

/// The three parts of the data set, standardized.
pub struct Data {
    pub train_x: Vec<[f32; FEATURES]>,
    pub train_y: Vec<usize>,
    pub validation_x: Vec<[f32; FEATURES]>,
    pub validation_y: Vec<usize>,
    pub test_x: Vec<[f32; FEATURES]>,
    pub test_y: Vec<usize>,
    pub scaling: Standardizer,
}

/// Reads `examples/data/iris.csv`, splits it and standardizes it.
pub fn load() -> Result<Data, String> {
    let path = data_path("iris.csv");
    let (mut features, mut labels) = load_labelled::<FEATURES>(&path, CLASSES)?;
    let rows = TRAIN_ROWS + VALIDATION_ROWS + TEST_ROWS;
    if features.len() != rows {
        return Err(format!(
            "{}: expected {rows} data rows, found {}",
            path.display(),
            features.len()
        ));
    }
    let scaling = Standardizer::fit(&features[..TRAIN_ROWS]);
    for x in &mut features {
        *x = scaling.apply(x);
    }
    let test_x = features.split_off(TRAIN_ROWS + VALIDATION_ROWS);
    let validation_x = features.split_off(TRAIN_ROWS);
    let test_y = labels.split_off(TRAIN_ROWS + VALIDATION_ROWS);
    let validation_y = labels.split_off(TRAIN_ROWS);
    Ok(Data {
        train_x: features,
        train_y: labels,
        validation_x,
        validation_y,
        test_x,
        test_y,
        scaling,
    })
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
    let history = Fit::<BATCH>::new(settings.epochs)
        .seed(settings.fit_seed)
        .l2(settings.l2)
        .early_stopping(EarlyStopping::new(settings.patience))
        .run_with(
            &mut net,
            &mut adam,
            &CrossEntropy,
            DataSet::new(&data.train_x, &data.train_y),
            Some(DataSet::new(&data.validation_x, &data.validation_y)),
            callback,
        )?;
    Ok((net, history))
}
