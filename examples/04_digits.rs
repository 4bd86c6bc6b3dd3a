//! Classifies handwritten digits: the real 8×8 digits data set shipped in
//! `examples/data/digits.csv`
//! (1437 training images, 360 test images; see `examples/data/README.md` for its origin and license).
//!
//! A `Dense<64, 32, Tanh>` then `Dense<32, 10>` network (f32, PyTorch's default
//! initialization) is trained with cross-entropy on class indices and Adam, on shuffled
//! mini-batches of a compile-time size. Each epoch prints the training loss and the test
//! accuracy; at the end, the confusion matrix on the test set.
//!
//! `cargo run --release --example 04_digits`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use constnet::init::{self, Init};
use constnet::loss::{CrossEntropy, Loss};
use constnet::optim::{Adam, AdamConfig, Optimizer};
use constnet::{Dense, Layer, Params, Tanh, TrainCtx, Zeros, seq};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;

const PIXELS: usize = 64;
const CLASSES: usize = 10;
/// The first `TRAIN_ROWS` data rows are the training set, the rest the test set.
const TRAIN_ROWS: usize = 1437;
const TOTAL_ROWS: usize = 1797;
/// The largest pixel value: pixels are divided by it, into [0, 1].
const PIXEL_MAX: u8 = 16;

const BATCH: usize = 32;
const EPOCHS: usize = 25;
const LEARNING_RATE: f64 = 1e-2;
const INIT_SEED: u64 = 1;
const SHUFFLE_SEED: u64 = 2;
/// The example fails below this test accuracy (it reaches about 0.97–0.99).
const MINIMUM_ACCURACY: f64 = 0.90;

type Net = seq![Dense<64, 32, Tanh>, Dense<32, 10>];

/// Images (pixels scaled to [0, 1]) and their digits.
struct DataSet {
    images: Vec<[f32; PIXELS]>,
    labels: Vec<usize>,
}

/// Parses one data row (`p0,...,p63,label`); `line_number` counts from 1, the header included.
fn parse_row(line: &str, line_number: usize) -> Result<([f32; PIXELS], usize), String> {
    let fields: Vec<&str> = line.split(',').collect();
    if fields.len() != PIXELS + 1 {
        return Err(format!(
            "line {line_number}: expected {} comma-separated values, found {}",
            PIXELS + 1,
            fields.len()
        ));
    }
    let mut image = [0.0f32; PIXELS];
    for (column, (pixel, field)) in image.iter_mut().zip(&fields).enumerate() {
        match field.trim().parse::<u8>() {
            Ok(value) if value <= PIXEL_MAX => *pixel = f32::from(value) / f32::from(PIXEL_MAX),
            _ => {
                return Err(format!(
                    "line {line_number}: pixel p{column} is {field:?}, not an integer 0..={PIXEL_MAX}"
                ));
            }
        }
    }
    let label_field = fields[PIXELS].trim();
    match label_field.parse::<usize>() {
        Ok(label) if label < CLASSES => Ok((image, label)),
        _ => Err(format!(
            "line {line_number}: label is {label_field:?}, not a digit 0..={}",
            CLASSES - 1
        )),
    }
}

/// Reads the whole CSV file: a header line, then `TOTAL_ROWS` rows.
fn load_digits(path: &Path) -> Result<DataSet, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let mut lines = text.lines();
    match lines.next() {
        Some(header) if header.starts_with("p0,") && header.trim_end().ends_with(",label") => {}
        _ => return Err("line 1: expected the header `p0,p1,...,p63,label`".to_string()),
    }
    let mut data = DataSet {
        images: Vec::with_capacity(TOTAL_ROWS),
        labels: Vec::with_capacity(TOTAL_ROWS),
    };
    for (index, line) in lines.enumerate() {
        let (image, label) = parse_row(line, index + 2)?;
        data.images.push(image);
        data.labels.push(label);
    }
    if data.labels.len() != TOTAL_ROWS {
        return Err(format!(
            "expected {TOTAL_ROWS} data rows, found {}",
            data.labels.len()
        ));
    }
    Ok(data)
}

/// The index of the largest logit.
fn argmax(logits: &[f32; CLASSES]) -> usize {
    let mut best = 0;
    for (class, &logit) in logits.iter().enumerate() {
        if logit > logits[best] {
            best = class;
        }
    }
    best
}

/// The test set's confusion matrix (`[true digit][predicted digit]`) and accuracy.
fn evaluate(
    net: &Net,
    images: &[[f32; PIXELS]],
    labels: &[usize],
) -> ([[u32; CLASSES]; CLASSES], f64) {
    let mut confusion = [[0u32; CLASSES]; CLASSES];
    let mut correct = 0usize;
    for (image, &label) in images.iter().zip(labels) {
        let predicted = argmax(&net.forward(image));
        confusion[label][predicted] += 1;
        correct += usize::from(predicted == label);
    }
    (confusion, correct as f64 / labels.len() as f64)
}

/// `[#####.....]`: `done` of `total` steps, `width` characters wide.
fn progress_bar(done: usize, total: usize, width: usize) -> String {
    let filled = done * width / total;
    format!("[{}{}]", "#".repeat(filled), ".".repeat(width - filled))
}

fn run() -> Result<(), String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/data/digits.csv");
    let data = load_digits(&path)?;
    let (train_images, test_images) = data.images.split_at(TRAIN_ROWS);
    let (train_labels, test_labels) = data.labels.split_at(TRAIN_ROWS);
    println!(
        "digits: {} training and {} test images of 8×8 pixels, from {}",
        train_labels.len(),
        test_labels.len(),
        path.display()
    );

    let mut net: Net = init::seeded(Init::PyTorchDefault, INIT_SEED);
    let mut grads = Net::zeros();
    let mut optimizer = Adam::<Net>::new(AdamConfig::new().lr(LEARNING_RATE));
    let mut cache = <Net as Layer>::BatchCache::<BATCH>::zeros();
    let mut batch_images = [[0.0f32; PIXELS]; BATCH];
    let mut batch_labels = [0usize; BATCH];
    let mut logits = [[0.0f32; CLASSES]; BATCH];
    let mut dlogits = [[0.0f32; CLASSES]; BATCH];
    let mut ctx = TrainCtx::new(0);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(SHUFFLE_SEED);
    let mut order: Vec<usize> = (0..TRAIN_ROWS).collect();
    println!(
        "network: Dense<64, 32, Tanh> -> Dense<32, 10>, {} parameters; Adam lr {LEARNING_RATE}, \
         batches of {BATCH}",
        Net::PARAM_COUNT
    );

    let mut accuracy = 0.0;
    let mut confusion = [[0u32; CLASSES]; CLASSES];
    for epoch in 1..=EPOCHS {
        order.shuffle(&mut rng);
        let mut loss_sum = 0.0f64;
        let mut batches = 0usize;
        // `chunks_exact` drops the last partial batch (1437 = 44·32 + 29): each epoch skips
        // 29 different images, since the order is reshuffled every epoch.
        for (batch_index, indices) in order.chunks_exact(BATCH).enumerate() {
            for (slot, &index) in indices.iter().enumerate() {
                batch_images[slot] = train_images[index];
                batch_labels[slot] = train_labels[index];
            }
            grads.fill_zero();
            net.forward_train_batch(&batch_images, &mut logits, &mut cache, &mut ctx);
            let loss = CrossEntropy.loss_batch(&logits, &batch_labels, &mut dlogits);
            if !loss.is_finite() {
                return Err(format!(
                    "training diverged: loss {loss} at epoch {epoch}, batch {batch_index}"
                ));
            }
            net.backward_batch_params(&batch_images, &logits, &mut cache, &dlogits, &mut grads);
            optimizer.step(&mut net, &grads);
            loss_sum += f64::from(loss);
            batches += 1;
        }
        (confusion, accuracy) = evaluate(&net, test_images, test_labels);
        println!(
            "{} epoch {epoch:2}/{EPOCHS}: train loss {:.4}, test accuracy {:.4}",
            progress_bar(epoch, EPOCHS, EPOCHS),
            loss_sum / batches as f64,
            accuracy
        );
    }

    let correct: u32 = (0..CLASSES).map(|digit| confusion[digit][digit]).sum();
    println!(
        "\nfinal test accuracy: {accuracy:.4} ({correct}/{} images)",
        test_labels.len()
    );
    println!("confusion matrix (rows: true digit, columns: predicted digit):");
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
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
