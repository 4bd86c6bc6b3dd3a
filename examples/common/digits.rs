//! The digits task, in one place for `examples/04_digits.rs` and `tests/fit_quality.rs`: the
//! split of `examples/data/digits.csv`, the pixel scaling, the network and its training
//! settings.
//!
//! Split (the rows are already shuffled, see `examples/data/README.md`): rows 0..1293 train,
//! 1293..1437 validate (early stopping), 1437..1797 test. Pixels (integers 0..=16) are divided
//! by 16, into [0, 1].

use constnet::fit::{Callback, DataSet, EarlyStopping, Fit, FitError, History};
use constnet::init::{self, Init};
use constnet::loss::CrossEntropy;
use constnet::optim::{Adam, AdamConfig};
use constnet::{Dense, Layer, Params, Relu, Tanh, seq};

use super::csv_data::{data_path, load_labelled};

pub const PIXELS: usize = 64;
pub const CLASSES: usize = 10;
/// Rows 0..1293 train, 1293..1437 validate, 1437..1797 test.
pub const TRAIN_ROWS: usize = 1293;
pub const VALIDATION_ROWS: usize = 144;
pub const TEST_ROWS: usize = 360;
/// Pixels are integers 0..=16; they are divided by 16, into [0, 1].
const PIXEL_MAX: f32 = 16.0;
pub const BATCH: usize = 32;
/// The example and the test fail below this test accuracy.
pub const MINIMUM_ACCURACY: f64 = 0.97;

/// 64 pixels → 32 tanh units → 10 logits (cross-entropy on class indices).
pub type Net = seq![Dense<64, 32, Tanh>, Dense<32, 10>];
pub const NET_NAME: &str = "Dense<64, 32, Tanh> -> Dense<32, 10>";

/// The same network with ReLU, which has an int8 form (`tests/ptq.rs` quantizes it; tanh has
/// none).
pub type ReluNet = seq![Dense<64, 32, Relu>, Dense<32, 10>];

/// What a run can change without changing the types.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub epochs: usize,
    pub learning_rate: f64,
    /// Early stopping: epochs without a lower validation loss before the run ends.
    pub patience: usize,
    pub init_seed: u64,
    pub fit_seed: u64,
}

/// The settings of the example and the test.
pub const SETTINGS: Settings = Settings {
    epochs: 40,
    learning_rate: 3e-3,
    patience: 8,
    init_seed: 1,
    fit_seed: 2,
};

/// The three parts of the data set, scaled.
pub struct Data {
    pub train_x: Vec<[f32; PIXELS]>,
    pub train_y: Vec<usize>,
    pub validation_x: Vec<[f32; PIXELS]>,
    pub validation_y: Vec<usize>,
    pub test_x: Vec<[f32; PIXELS]>,
    pub test_y: Vec<usize>,
}

/// Reads `examples/data/digits.csv`, scales the pixels and splits it.
pub fn load() -> Result<Data, String> {
    let path = data_path("digits.csv");
    let (mut images, mut labels) = load_labelled::<PIXELS>(&path, CLASSES)?;
    let rows = TRAIN_ROWS + VALIDATION_ROWS + TEST_ROWS;
    if images.len() != rows {
        return Err(format!(
            "{}: expected {rows} data rows, found {}",
            path.display(),
            images.len()
        ));
    }
    for image in &mut images {
        for pixel in image.iter_mut() {
            *pixel /= PIXEL_MAX;
        }
    }
    let test_x = images.split_off(TRAIN_ROWS + VALIDATION_ROWS);
    let validation_x = images.split_off(TRAIN_ROWS);
    let test_y = labels.split_off(TRAIN_ROWS + VALIDATION_ROWS);
    let validation_y = labels.split_off(TRAIN_ROWS);
    Ok(Data {
        train_x: images,
        train_y: labels,
        validation_x,
        validation_y,
        test_x,
        test_y,
    })
}

/// Trains a freshly initialized network; returns it (with the best epoch's parameters) and
/// the history.
pub fn train<C: Callback<Net> + ?Sized>(
    data: &Data,
    settings: &Settings,
    callback: &mut C,
) -> Result<(Net, History), FitError> {
    train_as(data, settings, callback)
}

/// [`train`] for another network of the same input and output, such as [`ReluNet`].
pub fn train_as<M, C>(
    data: &Data,
    settings: &Settings,
    callback: &mut C,
) -> Result<(M, History), FitError>
where
    M: Layer<Input = [f32; PIXELS], Output = [f32; CLASSES]> + Params<Scalar = f32> + Copy,
    C: Callback<M> + ?Sized,
{
    let mut net: M = init::seeded(Init::PyTorchDefault, settings.init_seed);
    let mut adam = Adam::<M>::new(AdamConfig::new().lr(settings.learning_rate));
    let history = Fit::<BATCH>::new(settings.epochs)
        .seed(settings.fit_seed)
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
