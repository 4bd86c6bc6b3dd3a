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

use constnet::Layer;
use constnet::init::{self, Init};

use crate::naive::cnn::{self, Op, Tensor, ToNaive};

#[path = "mlperf_types.rs"]
mod types;
pub use types::{Ad, Kws, ResNet8, Vww};

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
