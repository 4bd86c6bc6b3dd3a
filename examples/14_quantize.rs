//! Post-training quantization: the digits CNN of `11_digits_cnn` (3×3 convolution of 16
//! channels with ReLU, 2×2 max pool, `Flatten`, `Dense<256, 10>`) trained in `f32`, then
//! quantized to int8 with TensorFlow Lite's scheme by `constnet::quant::quantize`, calibrated
//! on the 1,293 training rows: per-channel int8 weights, int32 biases, int8 activations, the
//! `Flatten` turned into an NHWC reshape with the dense layer's columns reordered to match.
//!
//! Prints both test accuracies (`f32 test_accuracy`, `int8 test_accuracy`), the bytes of the
//! weights and biases and of the whole networks in memory, and writes the int8 network as
//! Rust source (a `static` built by `const fn`s: `constnet::quant::to_rust`) to
//! `target/constnet-examples/digits_cnn_int8.rs`. Include that file where
//! `type DigitsCnnInt8 = <Cnn as constnet::quant::Quantize>::Int8;` names its type, and the
//! network is in read-only memory, ready to run with integers only.
//!
//! With `--features tflite` it also writes the int8 network as a TensorFlow Lite model
//! (`constnet::tflite::to_bytes`) to `target/constnet-examples/digits_cnn_int8.tflite`, for
//! TensorFlow Lite Micro or LiteRT, with constnet's int8 outputs on the 360 test rows beside
//! it (`digits_cnn_int8.expected.txt`, `input | output` per row, and `digits_cnn_int8.tflm.txt`
//! after `use_fixed_point`), which `tests/python/check_written_tflite.py` compares with LiteRT's
//! and TensorFlow Lite Micro's.
//!
//! `cargo run --release --features tflite --example 14_quantize`

mod common;

use std::process::ExitCode;
use std::time::Instant;

use constnet::fit;
use constnet::quant::{self, F32Tensor, Int8Layer, Quantize};
use constnet::{Params, TensorKind};

use common::digits;
use common::digits_cnn::{self, CNN_NAME, Cnn, Images};
use common::plot::output_path;
use common::progress::EpochBar;

/// The int8 twin of the CNN: `Int8Conv2d`, `Int8MaxPool2d`, `Int8Reshape`, `Int8Dense`.
type DigitsCnnInt8 = <Cnn as Quantize>::Int8;

/// The test accuracy of the int8 network: each image quantized with the network's input
/// quantization, the class the largest int8 logit.
fn int8_accuracy(net: &DigitsCnnInt8, images: &[digits_cnn::Image], labels: &[usize]) -> f64 {
    let q = net.input_quantization();
    let correct = images
        .iter()
        .zip(labels)
        .filter(|(image, label)| {
            let logits = net.forward(&image.quantize(q).expect("pixels are finite"));
            let best = (0..logits.len()).fold(0, |b, i| if logits[i] > logits[b] { i } else { b });
            best == **label
        })
        .count();
    correct as f64 / labels.len() as f64
}

/// Writes the int8 network as a `.tflite` file, and its outputs on `images` beside it.
#[cfg(feature = "tflite")]
fn write_tflite(net: &DigitsCnnInt8, images: &[digits_cnn::Image]) -> Result<(), String> {
    use constnet::quant::Int8Tensor;
    use std::fmt::Write;
    let bytes = constnet::tflite::to_bytes(net).map_err(|e| e.to_string())?;
    let path = output_path("digits_cnn_int8.tflite");
    let q = net.input_quantization();
    // The outputs as LiteRT's reference kernels compute them, and (after `use_fixed_point`) as
    // TensorFlow Lite Micro does.
    let mut micro = Box::new(*net);
    micro.use_fixed_point();
    let mut rows = [
        String::from(
            "# constnet's int8 digits CNN (14_quantize) on the 360 test rows: input | output\n",
        ),
        String::from("# the same after use_fixed_point (TensorFlow Lite Micro's requantization)\n"),
    ];
    let join = |v: &[i8]| {
        v.iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    for image in images {
        let x = image.quantize(q).expect("pixels are finite");
        for (text, network) in rows.iter_mut().zip([net, &*micro]) {
            let y = network.forward(&x);
            let _ = writeln!(text, "{} | {}", join(x.values()), join(y.values()));
        }
    }
    let expected = output_path("digits_cnn_int8.expected.txt");
    let [reference, fixed_point] = rows;
    std::fs::write(&path, &bytes)
        .and_then(|()| std::fs::write(&expected, reference))
        .and_then(|()| std::fs::write(output_path("digits_cnn_int8.tflm.txt"), fixed_point))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!(
        "int8 TensorFlow Lite model: {} ({} bytes), outputs on the test rows: {}",
        path.display(),
        bytes.len(),
        expected.display()
    );
    Ok(())
}

#[cfg(not(feature = "tflite"))]
fn write_tflite(_: &DigitsCnnInt8, _: &[digits_cnn::Image]) -> Result<(), String> {
    println!("(with --features tflite, the int8 network is also written as a .tflite file)");
    Ok(())
}

fn run() -> Result<(), String> {
    let data = digits::load()?;
    let images = Images::of(&data);
    println!("network: {CNN_NAME}, {} parameters", Cnn::PARAM_COUNT);
    let (net, history) =
        digits_cnn::train(&data, &images, digits_cnn::EPOCHS, &mut EpochBar::new())
            .map_err(|e| e.to_string())?;
    if let Some(record) = history.kept() {
        println!(
            "trained {} epochs, kept epoch {}",
            history.epochs.len(),
            record.epoch
        );
    }

    let start = Instant::now();
    let int8 = quant::quantize(&*net, &images.train).map_err(|e| e.to_string())?;
    println!(
        "quantized in {:.1} ms, calibrated on {} training images; input quantization {:?}",
        start.elapsed().as_secs_f64() * 1e3,
        images.train.len(),
        int8.input_quantization()
    );

    let f32_accuracy = fit::accuracy(&*net, &images.test, &data.test_y);
    let int8_accuracy = int8_accuracy(&int8, &images.test, &data.test_y);

    // Every weight becomes one byte, every bias an int32.
    let int8_bytes: usize = Cnn::shapes()
        .map(|shape| match shape.kind {
            TensorKind::Bias => shape.len() * size_of::<i32>(),
            _ => shape.len(),
        })
        .sum();
    println!(
        "weight bytes: f32 {}, int8 {int8_bytes} (int8 weights, int32 biases)",
        Cnn::PARAM_COUNT * size_of::<f32>()
    );
    println!(
        "in memory: f32 network {} bytes, int8 network {} bytes (with its requantization and folded biases)",
        size_of::<Cnn>(),
        size_of::<DigitsCnnInt8>()
    );

    let source = quant::to_rust(&*int8, "DIGITS_CNN", "DigitsCnnInt8");
    let path = output_path("digits_cnn_int8.rs");
    std::fs::create_dir_all(path.parent().expect("a folder"))
        .and_then(|()| std::fs::write(&path, &source))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!(
        "int8 Rust source: {} ({} bytes)",
        path.display(),
        source.len()
    );

    write_tflite(&int8, &images.test)?;

    println!("f32 test_accuracy: {f32_accuracy:.4}");
    println!("int8 test_accuracy: {int8_accuracy:.4}");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("14_quantize: {error}");
            ExitCode::FAILURE
        }
    }
}
