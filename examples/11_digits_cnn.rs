//! A convolutional digit classifier: the 8×8 digits of `examples/data/digits.csv` (the split
//! of `04_digits`: 1,293 rows train, 144 validate, 360 test) as 8×8 single-channel images,
//! through a 3×3 convolution of 16 channels (padding 1, ReLU), a 2×2 max pool, `Flatten` (in
//! PyTorch's channels-first order) and a dense layer of 10 logits, trained with cross-entropy
//! and Adam through `constnet::fit::Fit` (batches of 32, early stopping on the validation
//! loss, the best epoch kept).
//!
//! The data, the network and its training are in `common/digits_cnn.rs`, which
//! `14_quantize` and `tests/ptq.rs` train too.
//!
//! Ends with `test_accuracy` (a fraction; the example fails below 0.983, 354 of the 360 test
//! rows), `train_seconds` (the training steps alone) and `train_us_per_step`.
//!
//! `cargo run --release --example 11_digits_cnn`

mod common;

use std::process::ExitCode;

use constnet::Params;
use constnet::fit;

use common::digits;
use common::digits_cnn::{self, CNN_NAME, Cnn, Images};
use common::progress::EpochBar;

const MINIMUM_ACCURACY: f64 = 0.983;

fn run() -> Result<f64, String> {
    let data = digits::load()?;
    let images = Images::of(&data);
    println!(
        "digits as 8×8 images: {} training, {} validation, {} test",
        images.train.len(),
        images.validation.len(),
        images.test.len()
    );
    println!("network: {CNN_NAME}, {} parameters", Cnn::PARAM_COUNT);
    let (net, history) =
        digits_cnn::train(&data, &images, digits_cnn::EPOCHS, &mut EpochBar::new())
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
    let accuracy = fit::accuracy(&*net, &images.test, &data.test_y);
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
