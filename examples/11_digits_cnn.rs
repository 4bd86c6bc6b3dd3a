//! A convolutional digit classifier: the 8×8 digits of `examples/data/digits.csv` (the split
//! of `04_digits`: 1,293 rows train, 144 validate, 360 test) as 8×8 single-channel images,
//! through a 3×3 convolution of 16 channels (padding 1, ReLU), a 2×2 max pool, `Flatten` (in
//! PyTorch's channels-first order) and a dense layer of 10 logits, trained with cross-entropy
//! and Adam through `constnet::fit::Fit` (batches of 32, early stopping on the validation
//! loss, the best epoch kept).
//!
//! Ends with `test_accuracy` (a fraction; the example fails below 0.983, 354 of the 360 test
//! rows), `train_seconds` (the training steps alone) and `train_us_per_step`.
//!
//! `cargo run --release --example 11_digits_cnn`

mod common;

use std::process::ExitCode;

use constnet::fit::{self, DataSet, EarlyStopping, Fit};
use constnet::init::{self, Init};
use constnet::loss::CrossEntropy;
use constnet::optim::{Adam, AdamConfig};
use constnet::{Conv2d, Dense, Flatten, MaxPool2d, Padded, Params, Relu, seq};

use common::digits;
use common::progress::EpochBar;

/// One 8×8 digit, channels-last with one channel.
type Image = [[[f32; 1]; 8]; 8];

type Cnn = seq![
    Conv2d<1, 16, 3, 3, 8, 8, 8, 8, Relu, f32, Padded<1, 1>>,
    MaxPool2d<16, 2, 2, 8, 8, 4, 4>,
    Flatten<[[[f32; 16]; 4]; 4], 256>,
    Dense<256, 10>
];

const MINIMUM_ACCURACY: f64 = 0.983;
const BATCH: usize = 32;

fn images(rows: &[[f32; 64]]) -> Vec<Image> {
    rows.iter()
        .map(|row| core::array::from_fn(|i| core::array::from_fn(|j| [row[8 * i + j]])))
        .collect()
}

fn run() -> Result<f64, String> {
    let data = digits::load()?;
    let (train_x, validation_x, test_x) = (
        images(&data.train_x),
        images(&data.validation_x),
        images(&data.test_x),
    );
    println!(
        "digits as 8×8 images: {} training, {} validation, {} test",
        train_x.len(),
        validation_x.len(),
        test_x.len()
    );
    println!(
        "network: Conv2d 3×3 1→16 (padding 1, ReLU) -> MaxPool2d 2×2 -> Flatten -> Dense<256, 10>, {} parameters",
        Cnn::PARAM_COUNT
    );
    let mut net: Box<Cnn> = init::boxed(Init::PyTorchDefault, 1);
    let mut adam = Adam::<Cnn>::boxed(AdamConfig::new().lr(3e-3));
    let history = Fit::<BATCH>::new(40)
        .seed(2)
        .early_stopping(EarlyStopping::new(8))
        .run_with(
            &mut *net,
            &mut *adam,
            &CrossEntropy,
            DataSet::new(&train_x, &data.train_y),
            Some(DataSet::new(&validation_x, &data.validation_y)),
            &mut EpochBar::new(),
        )
        .map_err(|e| e.to_string())?;
    for record in &history.epochs {
        println!(
            "epoch {:2}: train loss {:.4} {}, validation loss {:.4} {}",
            record.epoch,
            record.train_loss,
            record.train_metrics,
            record.val_loss.unwrap_or(f64::NAN),
            record.val_metrics.map_or(String::new(), |m| m.to_string()),
        );
    }
    if let Some(epoch) = history.restored_epoch {
        println!("kept epoch {epoch} (lowest validation loss)");
    }
    let accuracy = fit::accuracy(&*net, &test_x, &data.test_y);
    println!("test_accuracy: {accuracy:.4}");
    println!("train_seconds: {:.3}", history.train_seconds());
    println!(
        "train_us_per_step: {:.1}",
        history.train_seconds() * 1e6 / history.steps() as f64
    );
    Ok(accuracy)
}

fn main() -> ExitCode {
    match run() {
        Ok(accuracy) if accuracy >= MINIMUM_ACCURACY => ExitCode::SUCCESS,
        Ok(accuracy) => {
            eprintln!("test accuracy {accuracy:.4} is below {MINIMUM_ACCURACY}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
