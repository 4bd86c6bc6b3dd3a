//! The MLPerf Tiny models and M, int8 files converted by TensorFlow Lite (random weights, from
//! the project's peer benchmarks), loaded into constnet's typed int8 networks: each output
//! equals LiteRT's reference kernels on seeded random inputs (`benches/data/mlperf_int8/`,
//! written by `tests/python/mlperf_int8_expected.py`). Covers KWS's 10×4 stride-2 SAME
//! convolution and depthwise blocks, ResNet-8's projection shortcuts, MobileNetV1's strided
//! depthwise convolutions and the autoencoder's ten fully connected layers.
#![cfg(feature = "tflite")]

#[path = "../benches/workloads/mlperf_int8.rs"]
mod mlperf_int8;

use constnet::quant::{Int8Tensor, boxed_zeros};
use mlperf_int8::*;

fn check<L>(name: &str)
where
    L: constnet::tflite::FromTflite,
    L::Input: Int8Tensor,
    L::Output: Int8Tensor,
{
    let net = load::<L>(name);
    net.check(0).unwrap();
    check_rows(&*net, &format!("{DIR}/{name}_int8.expected.txt"));
    // After `use_fixed_point`, what TensorFlow Lite Micro computes (written by
    // `tests/python/tflm_expected.py`; AD's differs from LiteRT's reference in 230 values).
    let mut micro = net;
    micro.use_fixed_point();
    check_rows(&*micro, &format!("{DIR}/{name}_int8.tflm.txt"));
}

/// Every row of `file` (three): the network's output for its input.
fn check_rows<L>(net: &L, file: &str)
where
    L: constnet::tflite::FromTflite,
    L::Input: Int8Tensor,
    L::Output: Int8Tensor,
{
    let text = std::fs::read_to_string(file).unwrap();
    let mut x = boxed_zeros::<L::Input>();
    let mut y = boxed_zeros::<L::Output>();
    let mut scratch = boxed_zeros::<L::Scratch>();
    let mut rows = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (input, output) = line.split_once('|').unwrap();
        let input: Vec<i8> = input
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        let expected: Vec<i8> = output
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        x.values_mut().copy_from_slice(&input);
        net.forward_into(&x, &mut y, &mut scratch);
        assert_eq!(y.values(), &expected[..], "{file} row {rows}");
        rows += 1;
    }
    assert_eq!(rows, 3);
}

#[test]
fn m_int8_equals_tflite_reference() {
    check::<MInt8>("M");
}

#[test]
fn ad_int8_equals_tflite_reference() {
    check::<AdInt8>("ad");
}

#[test]
fn kws_int8_equals_tflite_reference() {
    check::<KwsInt8>("kws");
}

#[test]
fn resnet8_int8_equals_tflite_reference() {
    check::<ResNet8Int8>("resnet8");
}

#[test]
fn vww_int8_equals_tflite_reference() {
    check::<VwwInt8>("vww");
}

/// Loaded, written by `tflite::to_bytes` and read back: the same network, and written again
/// the same bytes.
fn round_trips<L>(name: &str)
where
    L: constnet::tflite::FromTflite + constnet::tflite::ToTflite + PartialEq,
    L::Input: Int8Tensor,
{
    let net = load::<L>(name);
    let bytes = constnet::tflite::to_bytes(&*net).unwrap();
    keep_written(name, &bytes);
    let mut back = boxed_zeros::<L>();
    constnet::tflite::load_into(&mut *back, &bytes).unwrap();
    assert!(*back == *net, "{name}: read back differs");
    assert!(
        constnet::tflite::to_bytes(&*back).unwrap() == bytes,
        "{name}: written twice differs"
    );
}

#[test]
fn mlperf_models_written_as_tflite_read_back_equal() {
    round_trips::<MInt8>("M");
    round_trips::<AdInt8>("ad");
    round_trips::<KwsInt8>("kws");
    round_trips::<ResNet8Int8>("resnet8");
    round_trips::<VwwInt8>("vww");
}

/// Keeps the written file in `target/tmp/written_tflite/` for
/// `tests/python/check_written_tflite.py`, which runs it in LiteRT.
fn keep_written(name: &str, bytes: &[u8]) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("written_tflite");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.tflite")), bytes).unwrap();
}
