//! The MLPerf Tiny models and M in int8 as typed networks (the types `tflite::to_rust` writes
//! for the int8 files in `benches/data/mlperf_int8/`), loaded from those files with
//! `tflite::load_into` (feature `tflite`).

#![allow(dead_code)]

use constnet::int8_seq;
use constnet::layers::Same;
use constnet::quant::{
    Image, Int8Conv2d, Int8Dense, Int8DepthwiseConv2d, Int8GlobalAvgPool2d, Int8Residual, Int8Skip,
};

/// M (784-128-10) in int8.
pub type MInt8 = int8_seq![Int8Dense<784, 128>, Int8Dense<128, 10>];

/// Keyword spotting DS-CNN in int8.
pub type KwsInt8 = int8_seq![
    Int8Conv2d<1, 64, 10, 4, 49, 10, 25, 5, Same<2, 2>>,
    Int8DepthwiseConv2d<64, 64, 3, 3, 25, 5, 25, 5, Same>,
    Int8Conv2d<64, 64, 1, 1, 25, 5, 25, 5, Same>,
    Int8DepthwiseConv2d<64, 64, 3, 3, 25, 5, 25, 5, Same>,
    Int8Conv2d<64, 64, 1, 1, 25, 5, 25, 5, Same>,
    Int8DepthwiseConv2d<64, 64, 3, 3, 25, 5, 25, 5, Same>,
    Int8Conv2d<64, 64, 1, 1, 25, 5, 25, 5, Same>,
    Int8DepthwiseConv2d<64, 64, 3, 3, 25, 5, 25, 5, Same>,
    Int8Conv2d<64, 64, 1, 1, 25, 5, 25, 5, Same>,
    Int8GlobalAvgPool2d<64, 25, 5>,
    Int8Dense<64, 12>,
];

/// ResNet-8 in int8 (projection shortcuts on stages 2 and 3).
pub type ResNet8Int8 = int8_seq![
    Int8Conv2d<3, 16, 3, 3, 32, 32, 32, 32, Same>,
    Int8Residual<
        int8_seq![Int8Conv2d<16, 16, 3, 3, 32, 32, 32, 32, Same>, Int8Conv2d<16, 16, 3, 3, 32, 32, 32, 32, Same>],
        Int8Skip<Image<16, 32, 32>>,
    >,
    Int8Residual<
        int8_seq![Int8Conv2d<16, 32, 3, 3, 32, 32, 16, 16, Same<2, 2>>, Int8Conv2d<32, 32, 3, 3, 16, 16, 16, 16, Same>],
        Int8Conv2d<16, 32, 1, 1, 32, 32, 16, 16, Same<2, 2>>,
    >,
    Int8Residual<
        int8_seq![Int8Conv2d<32, 64, 3, 3, 16, 16, 8, 8, Same<2, 2>>, Int8Conv2d<64, 64, 3, 3, 8, 8, 8, 8, Same>],
        Int8Conv2d<32, 64, 1, 1, 16, 16, 8, 8, Same<2, 2>>,
    >,
    Int8GlobalAvgPool2d<64, 8, 8>,
    Int8Dense<64, 10>,
];

/// Visual wake words MobileNetV1 0.25 in int8: 13 depthwise-separable blocks (depthwise 3×3
/// at stride 1 or 2, then pointwise), flat as `tflite::to_rust` writes it.
pub type VwwInt8 = int8_seq![
    Int8Conv2d<3, 8, 3, 3, 96, 96, 48, 48, Same<2, 2>>,
    Int8DepthwiseConv2d<8, 8, 3, 3, 48, 48, 48, 48, Same>,
    Int8Conv2d<8, 16, 1, 1, 48, 48, 48, 48, Same>,
    Int8DepthwiseConv2d<16, 16, 3, 3, 48, 48, 24, 24, Same<2, 2>>,
    Int8Conv2d<16, 32, 1, 1, 24, 24, 24, 24, Same>,
    Int8DepthwiseConv2d<32, 32, 3, 3, 24, 24, 24, 24, Same>,
    Int8Conv2d<32, 32, 1, 1, 24, 24, 24, 24, Same>,
    Int8DepthwiseConv2d<32, 32, 3, 3, 24, 24, 12, 12, Same<2, 2>>,
    Int8Conv2d<32, 64, 1, 1, 12, 12, 12, 12, Same>,
    Int8DepthwiseConv2d<64, 64, 3, 3, 12, 12, 12, 12, Same>,
    Int8Conv2d<64, 64, 1, 1, 12, 12, 12, 12, Same>,
    Int8DepthwiseConv2d<64, 64, 3, 3, 12, 12, 6, 6, Same<2, 2>>,
    Int8Conv2d<64, 128, 1, 1, 6, 6, 6, 6, Same>,
    Int8DepthwiseConv2d<128, 128, 3, 3, 6, 6, 6, 6, Same>,
    Int8Conv2d<128, 128, 1, 1, 6, 6, 6, 6, Same>,
    Int8DepthwiseConv2d<128, 128, 3, 3, 6, 6, 6, 6, Same>,
    Int8Conv2d<128, 128, 1, 1, 6, 6, 6, 6, Same>,
    Int8DepthwiseConv2d<128, 128, 3, 3, 6, 6, 6, 6, Same>,
    Int8Conv2d<128, 128, 1, 1, 6, 6, 6, 6, Same>,
    Int8DepthwiseConv2d<128, 128, 3, 3, 6, 6, 6, 6, Same>,
    Int8Conv2d<128, 128, 1, 1, 6, 6, 6, 6, Same>,
    Int8DepthwiseConv2d<128, 128, 3, 3, 6, 6, 6, 6, Same>,
    Int8Conv2d<128, 128, 1, 1, 6, 6, 6, 6, Same>,
    Int8DepthwiseConv2d<128, 128, 3, 3, 6, 6, 3, 3, Same<2, 2>>,
    Int8Conv2d<128, 256, 1, 1, 3, 3, 3, 3, Same>,
    Int8DepthwiseConv2d<256, 256, 3, 3, 3, 3, 3, 3, Same>,
    Int8Conv2d<256, 256, 1, 1, 3, 3, 3, 3, Same>,
    Int8GlobalAvgPool2d<256, 3, 3>,
    Int8Dense<256, 2>,
];

/// The anomaly-detection autoencoder in int8.
pub type AdInt8 = int8_seq![
    Int8Dense<640, 128>,
    Int8Dense<128, 128>,
    Int8Dense<128, 128>,
    Int8Dense<128, 128>,
    Int8Dense<128, 8>,
    Int8Dense<8, 128>,
    Int8Dense<128, 128>,
    Int8Dense<128, 128>,
    Int8Dense<128, 128>,
    Int8Dense<128, 640>,
];

/// The folder of the int8 files.
pub const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/data/mlperf_int8");

/// `NAME_int8.tflite` loaded into a boxed network of type `L`.
#[cfg(feature = "tflite")]
pub fn load<L: constnet::tflite::FromTflite>(name: &str) -> Box<L> {
    let bytes = std::fs::read(format!("{DIR}/{name}_int8.tflite")).unwrap();
    let mut net = constnet::quant::boxed_zeros::<L>();
    constnet::tflite::load_into(&mut *net, &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    net
}
