//! Turns a TensorFlow Lite int8 model into a Rust module in one command: the typed network,
//! a `static` with the weights baked in, and `forward_flat`.
//!
//! ```sh
//! cargo run --features tflite --example 13_tflite_to_rust -- model.tflite MODEL Model > src/model.rs
//! ```
//! Without arguments it converts the int8 digits CNN in `tests/fixtures/tflite/` and runs the
//! generated network's twin (loaded with `tflite::load_into`) on the file's test rows.

use constnet::layers::{Same, Valid};
use constnet::quant::{
    Int8Conv2d, Int8Dense, Int8DepthwiseConv2d, Int8GlobalAvgPool2d, Int8Layer, Int8MaxPool2d,
    boxed_zeros,
};
use constnet::{int8_seq, tflite};

type Cnn = int8_seq![
    Int8Conv2d<1, 8, 3, 3, 8, 8, 8, 8, Same>,
    Int8DepthwiseConv2d<8, 8, 3, 3, 8, 8, 8, 8, Same>,
    Int8Conv2d<8, 16, 1, 1, 8, 8, 8, 8, Valid>,
    Int8MaxPool2d<16, 2, 2, 8, 8, 4, 4, Valid<2, 2>>,
    Int8Conv2d<16, 16, 3, 3, 4, 4, 1, 1, Valid<2, 2>>,
    Int8GlobalAvgPool2d<16, 1, 1>,
    Int8Dense<16, 10>,
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [path, static_name, type_name] = args.as_slice() {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        match tflite::to_rust(&bytes, static_name, type_name) {
            Ok(source) => print!("{source}"),
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tflite");
    let bytes = std::fs::read(format!("{dir}/digits_cnn_dw_int8.tflite")).unwrap();
    let source = tflite::to_rust(&bytes, "DIGITS_CNN", "DigitsCnn").unwrap();
    println!(
        "generated source: {} lines, {} bytes",
        source.lines().count(),
        source.len()
    );
    for line in source.lines().take(10) {
        println!("  {line}");
    }
    let mut net = boxed_zeros::<Cnn>();
    tflite::load_into(&mut *net, &bytes).unwrap();
    let text = std::fs::read_to_string(format!("{dir}/digits_cnn_dw_int8.expected.txt")).unwrap();
    let (mut rows, mut equal, mut correct) = (0, 0, 0);
    let digits = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/data/digits.csv"
    ))
    .unwrap();
    let labels: Vec<usize> = digits
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().trim().parse().unwrap())
        .collect();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (input, output) = line.split_once('|').unwrap();
        let x: Vec<i8> = input
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        let expected: Vec<i8> = output
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        let mut image = [[[0i8; 1]; 8]; 8];
        for (pixel, &v) in image.as_flattened_mut().iter_mut().zip(&x) {
            pixel[0] = v;
        }
        let y = net.forward(&image);
        equal += (y[..] == expected[..]) as usize;
        let class = (0..10).rev().max_by_key(|&k| y[k]).unwrap(); // the first maximum, as argmax
        correct += (class == labels[1437 + rows]) as usize;
        rows += 1;
    }
    println!("rows: {rows}, equal to TensorFlow Lite's reference kernels: {equal}");
    println!("int8 test_accuracy: {:.4}", correct as f64 / rows as f64);
}
