//! Int8 models converted by TensorFlow Lite, loaded into typed int8 networks: every output
//! equals what LiteRT's reference kernels computed, exactly.
#![cfg(feature = "tflite")]

use constnet::int8_seq;
use constnet::layers::{Same, Valid};
use constnet::quant::{
    Image, Int8AvgPool2d, Int8Conv2d, Int8Dense, Int8DepthwiseConv2d, Int8GlobalAvgPool2d,
    Int8MaxPool2d, Int8Reshape, Int8Residual, Int8Skip, Int8Tensor,
};
use constnet::{Zeros, tflite};

type Mlp = int8_seq![Int8Dense<64, 32>, Int8Dense<32, 10>];

type Cnn = int8_seq![
    Int8Conv2d<1, 8, 3, 3, 8, 8, 8, 8, Same>,
    Int8DepthwiseConv2d<8, 8, 3, 3, 8, 8, 8, 8, Same>,
    Int8Conv2d<8, 16, 1, 1, 8, 8, 8, 8, Valid>,
    Int8MaxPool2d<16, 2, 2, 8, 8, 4, 4, Valid<2, 2>>,
    Int8Conv2d<16, 16, 3, 3, 4, 4, 1, 1, Valid<2, 2>>,
    Int8GlobalAvgPool2d<16, 1, 1>,
    Int8Dense<16, 10>,
];

type Block = Int8Residual<
    int8_seq![Int8Conv2d<8, 8, 3, 3, 8, 8, 8, 8, Same>, Int8Conv2d<8, 8, 3, 3, 8, 8, 8, 8, Same>],
    Int8Skip<Image<8, 8, 8>>,
>;

type ResNet = int8_seq![
    Int8Conv2d<1, 8, 3, 3, 8, 8, 8, 8, Same>,
    Block,
    Int8AvgPool2d<8, 2, 2, 8, 8, 4, 4, Valid<2, 2>>,
    Int8Reshape<Image<8, 4, 4>, 128>,
    Int8Dense<128, 10>,
];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/tflite/{name}.tflite",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// `(input, expected output)` rows of a fixture's expected file.
fn expected(name: &str) -> Vec<(Vec<i8>, Vec<i8>)> {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/tflite/{name}.expected.txt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let numbers = |s: &str| {
        s.split_whitespace()
            .map(|v| v.parse::<i8>().unwrap())
            .collect::<Vec<_>>()
    };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (input, output) = l.split_once('|').unwrap();
            (numbers(input), numbers(output))
        })
        .collect()
}

/// Loads `name` into a zero network of type `L` and checks every row.
fn reproduces<L>(name: &str) -> Box<L>
where
    L: tflite::FromTflite,
    L::Input: Int8Tensor,
    L::Output: Int8Tensor,
{
    let mut net: Box<L> = Box::new(L::zeros());
    tflite::load_into(&mut *net, &fixture(name)).unwrap();
    net.check(0).unwrap();
    let rows = expected(name);
    assert_eq!(rows.len(), 360);
    let mut wrong = 0;
    for (i, (input, output)) in rows.iter().enumerate() {
        let mut x = L::Input::zeros();
        x.values_mut().copy_from_slice(input);
        let y = net.forward(&x);
        if y.values() != &output[..] {
            wrong += 1;
            if wrong < 4 {
                eprintln!("{name} row {i}: {:?} expected {:?}", y.values(), output);
            }
        }
    }
    assert_eq!(
        wrong, 0,
        "{name}: {wrong} of 360 rows differ from TensorFlow Lite's reference kernels"
    );
    net
}

#[test]
fn mlp_reproduces_tflite_reference_exactly() {
    reproduces::<Mlp>("digits_mlp_64_32_10_int8");
}

#[test]
fn depthwise_cnn_reproduces_tflite_reference_exactly() {
    reproduces::<Cnn>("digits_cnn_dw_int8");
}

#[test]
fn residual_cnn_reproduces_tflite_reference_exactly() {
    reproduces::<ResNet>("digits_resnet_int8");
}
