//! Classifies handwritten digits: the real 8×8 digits data set shipped in
//! `examples/data/digits.csv` (1,797 images; see `examples/data/README.md` for its origin and
//! license). The first 1,293 rows train, the next 144 validate (early stopping), the last 360
//! test.
//!
//! A `Dense<64, 32, Tanh>` then `Dense<32, 10>` network (f32, PyTorch's default
//! initialization) trains with cross-entropy on class indices and Adam, batches of 32, through
//! `constnet::fit::Fit`: shuffled every epoch, the short last batch kept, early stopping on the
//! validation loss with the best epoch's parameters restored. It prints each epoch, the
//! confusion matrix on the test set, writes the loss and accuracy curves as an SVG under
//! `target/`, and ends with three lines for scripts: `test_accuracy`, `train_seconds` (the
//! wall time of the training steps alone) and `train_us_per_step`.
//!
//! `cargo run --release --example 04_digits`

mod common;

use std::process::ExitCode;

use constnet::fit::{self, DataSet, EarlyStopping, Fit, FitError};
use constnet::init::{self, Init};
use constnet::loss::CrossEntropy;
use constnet::optim::{Adam, AdamConfig};
use constnet::{Dense, Params, Tanh, seq};

use common::csv_data::{data_path, load_labelled};
use common::plot::training_curves;
use common::progress::EpochBar;

const PIXELS: usize = 64;
const CLASSES: usize = 10;
/// Rows 0..1293 train, 1293..1437 validate, 1437..1797 test.
const TRAIN_ROWS: usize = 1293;
const VALIDATION_ROWS: usize = 144;
const TEST_ROWS: usize = 360;
/// Pixels are integers 0..=16; they are divided by 16, into [0, 1].
const PIXEL_MAX: f32 = 16.0;

const BATCH: usize = 32;
const EPOCHS: usize = 40;
const LEARNING_RATE: f64 = 3e-3;
const PATIENCE: usize = 8;
const INIT_SEED: u64 = 1;
const FIT_SEED: u64 = 2;
/// The example fails below this test accuracy.
const MINIMUM_ACCURACY: f64 = 0.97;

type Net = seq![Dense<64, 32, Tanh>, Dense<32, 10>];

fn run() -> Result<(), String> {
    let path = data_path("digits.csv");
    let (mut images, labels) = load_labelled::<PIXELS>(&path, CLASSES)?;
    if images.len() != TRAIN_ROWS + VALIDATION_ROWS + TEST_ROWS {
        return Err(format!(
            "{}: expected {} data rows, found {}",
            path.display(),
            TRAIN_ROWS + VALIDATION_ROWS + TEST_ROWS,
            images.len()
        ));
    }
    for image in &mut images {
        for pixel in image.iter_mut() {
            *pixel /= PIXEL_MAX;
        }
    }
    let (train_images, rest) = images.split_at(TRAIN_ROWS);
    let (validation_images, test_images) = rest.split_at(VALIDATION_ROWS);
    let (train_labels, rest) = labels.split_at(TRAIN_ROWS);
    let (validation_labels, test_labels) = rest.split_at(VALIDATION_ROWS);
    println!(
        "digits: {} training, {} validation and {} test images of 8×8 pixels, from examples/data/digits.csv",
        train_labels.len(),
        validation_labels.len(),
        test_labels.len()
    );

    let mut net: Net = init::seeded(Init::PyTorchDefault, INIT_SEED);
    let mut adam = Adam::<Net>::new(AdamConfig::new().lr(LEARNING_RATE));
    println!(
        "network: Dense<64, 32, Tanh> -> Dense<32, 10>, {} parameters; Adam lr {LEARNING_RATE}, \
         batches of {BATCH}, at most {EPOCHS} epochs, early stopping after {PATIENCE}",
        Net::PARAM_COUNT
    );

    let history = Fit::<BATCH>::new(EPOCHS)
        .seed(FIT_SEED)
        .early_stopping(EarlyStopping::new(PATIENCE))
        .run_with(
            &mut net,
            &mut adam,
            &CrossEntropy,
            DataSet::new(train_images, train_labels),
            Some(DataSet::new(validation_images, validation_labels)),
            &mut EpochBar::new(),
        )
        .map_err(|error: FitError| error.to_string())?;

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
    match history.restored_epoch {
        Some(epoch) => println!(
            "kept epoch {epoch} (lowest validation loss){}",
            if history.stopped_early {
                ", stopped early"
            } else {
                ""
            }
        ),
        None => println!("kept the last epoch"),
    }

    let confusion = fit::confusion_matrix(&net, test_images, test_labels);
    let accuracy = fit::accuracy(&net, test_images, test_labels);
    println!("confusion matrix on the test set (rows: true digit, columns: predicted digit):");
    print!("     ");
    for predicted in 0..CLASSES {
        print!("{predicted:>4}");
    }
    println!();
    for (digit, row) in confusion.iter().enumerate() {
        print!("{digit:>4} ");
        for count in row {
            print!("{count:>4}");
        }
        println!();
    }
    let picture = training_curves(
        &history,
        "digits: Dense<64, 32, Tanh> -> Dense<32, 10>",
        "validation accuracy",
        |record| record.val_metrics.and_then(|m| m.accuracy()),
        "digits_training.svg",
    )?;
    println!("training curves: {}", picture.display());

    let seconds = history.train_seconds();
    println!("test_accuracy: {accuracy:.4}");
    println!("train_seconds: {seconds:.4}");
    println!(
        "train_us_per_step: {:.1}",
        seconds * 1e6 / history.steps() as f64
    );
    if accuracy < MINIMUM_ACCURACY {
        return Err(format!(
            "test accuracy {accuracy:.4} is below the expected minimum {MINIMUM_ACCURACY}"
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("04_digits: {message}");
            ExitCode::FAILURE
        }
    }
}
