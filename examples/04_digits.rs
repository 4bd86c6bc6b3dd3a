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
//! The data preparation, the network and its settings are in `common/digits.rs`, which
//! `tests/fit_quality.rs` trains too.
//!
//! `cargo run --release --example 04_digits`

mod common;

use std::process::ExitCode;

use constnet::Params;
use constnet::fit::{self, FitError};

use common::digits::{self, CLASSES, MINIMUM_ACCURACY, NET_NAME, Net, SETTINGS};
use common::plot::training_curves;
use common::progress::EpochBar;

fn run() -> Result<(), String> {
    let data = digits::load()?;
    println!(
        "digits: {} training, {} validation and {} test images of 8×8 pixels, from examples/data/digits.csv",
        data.train_y.len(),
        data.validation_y.len(),
        data.test_y.len()
    );
    let test_images = &data.test_x;
    let test_labels = &data.test_y;

    let settings = SETTINGS;
    println!(
        "network: {NET_NAME}, {} parameters; Adam lr {}, \
         batches of {}, at most {} epochs, early stopping after {}",
        Net::PARAM_COUNT,
        settings.learning_rate,
        digits::BATCH,
        settings.epochs,
        settings.patience
    );

    let (net, history) = digits::train(&data, &settings, &mut EpochBar::new())
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
        &format!("digits: {NET_NAME}"),
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
