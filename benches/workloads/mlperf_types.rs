//! The four MLPerf Tiny reference models as typed constnet networks, in their inference form
//! (each BatchNorm folded into the layer before it, its activation fused). Shared by
//! `benches/workloads/mlperf.rs` (the benchmarks) and `tests/memory.rs` (their sizes).

use constnet::{
    Conv2d, Dense, DepthwiseConv2d, GlobalAvgPool2d, Relu, Relu6, Residual, Same, Skip, seq,
};

/// A pointwise (1×1) convolution of a `H × W` image with activation `A` (`padding="same"`
/// as in the Keras models, which for 1×1 pads nothing).
type Pointwise<const CI: usize, const CO: usize, const H: usize, const W: usize, A> =
    Conv2d<CI, CO, 1, 1, H, W, H, W, A, f32, Same>;

/// A 3×3 depthwise convolution, SAME padding, stride `S`, ReLU6.
type Depthwise<
    const C: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
    const S: usize,
> = DepthwiseConv2d<C, 3, 3, H, W, HO, WO, Relu6, f32, Same<S, S>>;

/// KWS: DS-CNN.
pub type Kws = seq![
    Conv2d<1, 64, 10, 4, 49, 10, 25, 5, Relu, f32, Same<2, 2>>,
    DepthwiseConv2d<64, 3, 3, 25, 5, 25, 5, Relu, f32, Same>,
    Pointwise<64, 64, 25, 5, Relu>,
    DepthwiseConv2d<64, 3, 3, 25, 5, 25, 5, Relu, f32, Same>,
    Pointwise<64, 64, 25, 5, Relu>,
    DepthwiseConv2d<64, 3, 3, 25, 5, 25, 5, Relu, f32, Same>,
    Pointwise<64, 64, 25, 5, Relu>,
    DepthwiseConv2d<64, 3, 3, 25, 5, 25, 5, Relu, f32, Same>,
    Pointwise<64, 64, 25, 5, Relu>,
    GlobalAvgPool2d<64, 25, 5>,
    Dense<64, 12>
];

/// A 3×3 convolution, SAME padding, stride `S`, activation `A`.
type Conv3<
    const CI: usize,
    const CO: usize,
    const H: usize,
    const W: usize,
    const HO: usize,
    const WO: usize,
    const S: usize,
    A,
> = Conv2d<CI, CO, 3, 3, H, W, HO, WO, A, f32, Same<S, S>>;

/// ResNet-8.
pub type ResNet8 = seq![
    Conv3<3, 16, 32, 32, 32, 32, 1, Relu>,
    Residual<
        seq![Conv3<16, 16, 32, 32, 32, 32, 1, Relu>, Conv3<16, 16, 32, 32, 32, 32, 1, constnet::Identity>],
        Skip<[[[f32; 16]; 32]; 32]>,
        Relu,
    >,
    Residual<
        seq![Conv3<16, 32, 32, 32, 16, 16, 2, Relu>, Conv3<32, 32, 16, 16, 16, 16, 1, constnet::Identity>],
        Conv2d<16, 32, 1, 1, 32, 32, 16, 16, constnet::Identity, f32, Same<2, 2>>,
        Relu,
    >,
    Residual<
        seq![Conv3<32, 64, 16, 16, 8, 8, 2, Relu>, Conv3<64, 64, 8, 8, 8, 8, 1, constnet::Identity>],
        Conv2d<32, 64, 1, 1, 16, 16, 8, 8, constnet::Identity, f32, Same<2, 2>>,
        Relu,
    >,
    GlobalAvgPool2d<64, 8, 8>,
    Dense<64, 10>
];

/// VWW: MobileNetV1 with width multiplier 0.25.
pub type Vww = seq![
    Conv3<3, 8, 96, 96, 48, 48, 2, Relu6>,
    Depthwise<8, 48, 48, 48, 48, 1>,
    Pointwise<8, 16, 48, 48, Relu6>,
    Depthwise<16, 48, 48, 24, 24, 2>,
    Pointwise<16, 32, 24, 24, Relu6>,
    Depthwise<32, 24, 24, 24, 24, 1>,
    Pointwise<32, 32, 24, 24, Relu6>,
    Depthwise<32, 24, 24, 12, 12, 2>,
    Pointwise<32, 64, 12, 12, Relu6>,
    Depthwise<64, 12, 12, 12, 12, 1>,
    Pointwise<64, 64, 12, 12, Relu6>,
    Depthwise<64, 12, 12, 6, 6, 2>,
    Pointwise<64, 128, 6, 6, Relu6>,
    Depthwise<128, 6, 6, 6, 6, 1>,
    Pointwise<128, 128, 6, 6, Relu6>,
    Depthwise<128, 6, 6, 6, 6, 1>,
    Pointwise<128, 128, 6, 6, Relu6>,
    Depthwise<128, 6, 6, 6, 6, 1>,
    Pointwise<128, 128, 6, 6, Relu6>,
    Depthwise<128, 6, 6, 6, 6, 1>,
    Pointwise<128, 128, 6, 6, Relu6>,
    Depthwise<128, 6, 6, 6, 6, 1>,
    Pointwise<128, 128, 6, 6, Relu6>,
    Depthwise<128, 6, 6, 3, 3, 2>,
    Pointwise<128, 256, 3, 3, Relu6>,
    Depthwise<256, 3, 3, 3, 3, 1>,
    Pointwise<256, 256, 3, 3, Relu6>,
    GlobalAvgPool2d<256, 3, 3>,
    Dense<256, 2>
];

/// AD: the anomaly-detection autoencoder.
pub type Ad = seq![
    Dense<640, 128, Relu>,
    Dense<128, 128, Relu>,
    Dense<128, 128, Relu>,
    Dense<128, 128, Relu>,
    Dense<128, 8, Relu>,
    Dense<8, 128, Relu>,
    Dense<128, 128, Relu>,
    Dense<128, 128, Relu>,
    Dense<128, 128, Relu>,
    Dense<128, 640>
];
