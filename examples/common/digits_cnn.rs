//! The digits CNN, in one place for `examples/11_digits_cnn.rs`, `examples/14_quantize.rs` and
//! `tests/ptq.rs`: the 8×8 digits as single-channel images, the network (a 3×3 convolution of
//! 16 channels with padding 1 and ReLU, a 2×2 max pool, `Flatten` in PyTorch's channels-first
//! order, a dense layer of 10 logits) and its training (cross-entropy, Adam lr 3e-3, batches
//! of 32, early stopping on the validation loss, the best epoch kept).

use constnet::fit::{Callback, DataSet, EarlyStopping, Fit, FitError, History};
use constnet::init::{self, Init};
use constnet::loss::CrossEntropy;
use constnet::optim::{Adam, AdamConfig};
use constnet::{Conv2d, Dense, Flatten, MaxPool2d, Padded, Relu, seq};

use super::digits::{Data, PIXELS};

/// One 8×8 digit, channels-last with one channel.
pub type Image = [[[f32; 1]; 8]; 8];

pub type Cnn = seq![
    Conv2d<1, 16, 3, 3, 8, 8, 8, 8, Relu, f32, Padded<1, 1>>,
    MaxPool2d<16, 2, 2, 8, 8, 4, 4>,
    Flatten<[[[f32; 16]; 4]; 4], 256>,
    Dense<256, 10>
];
pub const CNN_NAME: &str =
    "Conv2d 3×3 1→16 (padding 1, ReLU) -> MaxPool2d 2×2 -> Flatten -> Dense<256, 10>";

pub const BATCH: usize = 32;
/// At most this many epochs (early stopping usually ends the run before).
pub const EPOCHS: usize = 40;

/// Rows of 64 pixels as 8×8 images.
pub fn images(rows: &[[f32; PIXELS]]) -> Vec<Image> {
    rows.iter()
        .map(|row| core::array::from_fn(|i| core::array::from_fn(|j| [row[8 * i + j]])))
        .collect()
}

/// The three parts of the digits data as images.
pub struct Images {
    pub train: Vec<Image>,
    pub validation: Vec<Image>,
    pub test: Vec<Image>,
}

impl Images {
    pub fn of(data: &Data) -> Images {
        Images {
            train: images(&data.train_x),
            validation: images(&data.validation_x),
            test: images(&data.test_x),
        }
    }
}

/// Trains a freshly initialized CNN (seeds 1 and 2) for at most `epochs` epochs; returns it
/// (with the best epoch's parameters) and the history.
pub fn train<C: Callback<Cnn> + ?Sized>(
    data: &Data,
    images: &Images,
    epochs: usize,
    callback: &mut C,
) -> Result<(Box<Cnn>, History), FitError> {
    let mut net: Box<Cnn> = init::boxed(Init::PyTorchDefault, 1);
    let mut adam = Adam::<Cnn>::boxed(AdamConfig::new().lr(3e-3));
    let history = Fit::<BATCH>::new(epochs)
        .seed(2)
        .early_stopping(EarlyStopping::new(8))
        .run_with(
            &mut *net,
            &mut *adam,
            &CrossEntropy,
            DataSet::new(&images.train, &data.train_y),
            Some(DataSet::new(&images.validation, &data.validation_y)),
            callback,
        )?;
    Ok((net, history))
}
