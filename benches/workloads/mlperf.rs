//! The four MLPerf Tiny reference models as typed constnet networks, in their inference form
//! (each BatchNorm folded into the convolution or dense layer before it, its ReLU fused), with
//! the naive reference of each (`benches/naive/cnn.rs`) built from the same weights.
//!
//! - **KWS**: DS-CNN on 49×10×1 MFCCs: conv 10×4 stride 2 (SAME) → 64, then 4 × [depthwise
//!   3×3 + pointwise 1×1, 64 channels], global average pool, dense 64 → 12; ReLU.
//! - **RESNET8**: 32×32×3: conv 3×3 → 16, three residual stages (16, 32, 64 filters; stages
//!   2 and 3 stride 2 with a 1×1 projection shortcut), global average pool, dense 64 → 10.
//! - **VWW**: MobileNetV1 0.25 on 96×96×3: conv 3×3 stride 2 → 8, 13 depthwise-separable
//!   blocks (8 → 256 channels), global average pool, dense 256 → 2; ReLU6.
//! - **AD**: the anomaly-detection autoencoder 640 → 128×4 → 8 → 128×4 → 640, ReLU.
//!
//! Weights are seeded (He uniform); the figures are latencies, not accuracies.

use constnet::init::{self, Init};
use constnet::{
    Conv2d, Dense, DepthwiseConv2d, GlobalAvgPool2d, Layer, Relu, Relu6, Residual, Same, Skip, seq,
};

use crate::naive::cnn::{self, Op, Tensor, ToNaive};

/// A pointwise (1×1) convolution of a `H × W` image with activation `A`.
type Pointwise<const CI: usize, const CO: usize, const H: usize, const W: usize, A> =
    Conv2d<CI, CO, 1, 1, H, W, H, W, A>;

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

/// A model, its naive twin, one seeded input and the multiply-adds of a forward pass.
pub struct TinyModel<N: Layer> {
    pub net: Box<N>,
    pub naive: Vec<Op>,
    pub input: Box<N::Input>,
    /// The input in the naive reference's (channels-first) layout and shape.
    pub naive_input: Vec<f32>,
    pub naive_shape: [usize; 3],
    pub macs: usize,
}

/// Seeded values in [−1, 1].
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

impl<N: Layer<Scalar = f32> + ToNaive> TinyModel<N> {
    /// A model whose input is a `C`-channel `H × W` image.
    pub fn image<const C: usize, const H: usize, const W: usize>(seed: u64) -> Self
    where
        N: Layer<Input = [[[f32; C]; W]; H]>,
    {
        let net: Box<N> = init::boxed(Init::HeUniform, seed);
        let mut naive = Vec::new();
        net.ops(&mut naive);
        let v = values(C * H * W, seed + 1);
        let mut input = Box::new([[[0.0f32; C]; W]; H]);
        for (i, row) in input.iter_mut().enumerate() {
            for (j, pixel) in row.iter_mut().enumerate() {
                for (c, value) in pixel.iter_mut().enumerate() {
                    *value = v[(c * H + i) * W + j];
                }
            }
        }
        TinyModel {
            macs: cnn::macs(&naive),
            net,
            naive,
            input,
            naive_input: v,
            naive_shape: [C, H, W],
        }
    }

    /// A model whose input is a vector of `I` values.
    pub fn vector<const I: usize>(seed: u64) -> Self
    where
        N: Layer<Input = [f32; I]>,
    {
        let net: Box<N> = init::boxed(Init::HeUniform, seed);
        let mut naive = Vec::new();
        net.ops(&mut naive);
        let v = values(I, seed + 1);
        TinyModel {
            macs: cnn::macs(&naive),
            net,
            naive,
            input: Box::new(core::array::from_fn(|i| v[i])),
            naive_input: v,
            naive_shape: [I, 1, 1],
        }
    }
}

impl<N: Layer> TinyModel<N> {
    /// The naive reference's output on the model's input.
    pub fn reference(&self) -> Vec<f32> {
        cnn::forward(
            &self.naive,
            Tensor {
                values: self.naive_input.clone(),
                shape: self.naive_shape,
            },
        )
        .values
    }
}

/// The four models, seeded.
pub fn kws() -> TinyModel<Kws> {
    TinyModel::image::<1, 49, 10>(41)
}
pub fn resnet8() -> TinyModel<ResNet8> {
    TinyModel::image::<3, 32, 32>(42)
}
pub fn vww() -> TinyModel<Vww> {
    TinyModel::image::<3, 96, 96>(43)
}
pub fn ad() -> TinyModel<Ad> {
    TinyModel::vector::<640>(44)
}
