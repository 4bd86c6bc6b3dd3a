//! 2-D layers: `Conv2d` (padding, SAME, stride, dilation, groups, depthwise, no bias),
//! `MaxPool2d`, `AvgPool2d`, `GlobalAvgPool2d` and `BatchNorm2d` pass the finite-difference
//! check, SAME padding puts the odd extra row at the bottom, and a small CNN trains.

use constnet::init::{self, Init};
use constnet::loss::{CrossEntropy, Loss};
use constnet::optim::{Adam, AdamConfig, Optimizer};
use constnet::testing::{GradCheckConfig, grad_check, grad_check_batch};
use constnet::{
    AvgPool2d, BatchNorm2d, Conv2d, Dense, DepthwiseConv2d, Flatten, GlobalAvgPool2d, Identity,
    Layer, MaxPool2d, NoBias, Padded, Params, Relu, Same, Tanh, TrainCtx, Valid, Zeros, seq,
};

fn image<const C: usize, const W: usize, const H: usize>(seed: u64) -> [[[f64; C]; W]; H] {
    core::array::from_fn(|i| {
        core::array::from_fn(|j| {
            core::array::from_fn(|c| {
                let n = (seed * 7919 + (i * 131 + j * 17 + c) as u64) * 2654435761;
                ((n >> 8) % 2000) as f64 / 1000.0 - 1.0
            })
        })
    })
}

fn check<L>(layer: &L, seed: u64)
where
    L: Layer<Scalar = f64> + Clone,
    L::Input: constnet::testing::Scalars<f64>,
    L::Output: constnet::testing::Scalars<f64>,
    L::Input: ImageOf,
{
    let x = L::Input::make(seed);
    grad_check(layer, &x, GradCheckConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    grad_check_batch(
        layer,
        &[x, L::Input::make(seed + 1)],
        GradCheckConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

trait ImageOf {
    fn make(seed: u64) -> Self;
}

impl<const C: usize, const W: usize, const H: usize> ImageOf for [[[f64; C]; W]; H] {
    fn make(seed: u64) -> Self {
        image(seed)
    }
}

#[test]
fn convolutions_pass_the_gradient_check() {
    check(
        &init::seeded::<Conv2d<2, 3, 3, 3, 5, 6, 3, 4, Tanh, f64>>(Init::HeUniform, 1),
        1,
    );
    check(
        &init::seeded::<Conv2d<2, 3, 3, 2, 5, 6, 5, 7, Identity, f64, Padded<1, 1>>>(
            Init::HeUniform,
            2,
        ),
        2,
    );
    check(
        &init::seeded::<Conv2d<2, 4, 3, 3, 7, 6, 4, 3, Relu, f64, Padded<1, 1, 2, 2>>>(
            Init::HeUniform,
            3,
        ),
        3,
    );
    check(
        &init::seeded::<Conv2d<2, 2, 3, 3, 7, 7, 3, 3, Identity, f64, Valid<1, 1, 2, 2>>>(
            Init::HeUniform,
            4,
        ),
        4,
    );
    check(
        &init::seeded::<Conv2d<4, 6, 3, 3, 5, 5, 3, 3, Identity, f64, Valid, 2>>(
            Init::HeUniform,
            5,
        ),
        5,
    );
    check(
        &init::seeded::<DepthwiseConv2d<3, 3, 3, 5, 5, 5, 5, Tanh, f64, NoBias<Padded<1, 1>>>>(
            Init::HeUniform,
            6,
        ),
        6,
    );
    check(
        &init::seeded::<Conv2d<2, 3, 3, 3, 5, 6, 3, 3, Identity, f64, Same<2, 2>>>(
            Init::HeUniform,
            7,
        ),
        7,
    );
    check(
        &init::seeded::<Conv2d<3, 2, 10, 4, 12, 6, 7, 3, Identity, f64, Padded<5, 1, 2, 2>>>(
            Init::HeUniform,
            8,
        ),
        8,
    );
}

#[test]
fn pools_and_batch_norm_pass_the_gradient_check() {
    check(&MaxPool2d::<2, 2, 2, 4, 6, 2, 3, f64>::new(), 11);
    check(
        &MaxPool2d::<2, 3, 3, 5, 5, 3, 3, f64, Padded<1, 1, 2, 2>>::new(),
        12,
    );
    check(&AvgPool2d::<2, 2, 2, 4, 6, 2, 3, f64>::new(), 13);
    check(
        &AvgPool2d::<2, 3, 3, 4, 4, 4, 4, f64, Padded<1, 1>>::new(),
        14,
    );
    check(&GlobalAvgPool2d::<3, 3, 4, f64>::new(), 15);
    let mut norm = BatchNorm2d::<2, 3, 2, f64>::new();
    norm.weight = [0.7, -1.3];
    norm.bias = [0.1, 0.2];
    let x = [image::<2, 2, 3>(16), image(17)];
    grad_check_batch(&norm, &x, GradCheckConfig::default()).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn same_padding_puts_the_odd_row_and_column_at_the_bottom_and_right() {
    // 2×2 kernel, stride 1, SAME on 3×3: one padding row and column, at the bottom and right.
    let mut conv = Conv2d::<1, 1, 2, 2, 3, 3, 3, 3, Identity, f64, Same>::zeros();
    conv.set_weight(0, 0, 0, 0, 1.0); // the top-left tap reads the output's own pixel
    let x: [[[f64; 1]; 3]; 3] =
        core::array::from_fn(|i| core::array::from_fn(|j| [(3 * i + j) as f64]));
    assert_eq!(
        conv.forward(&x),
        x,
        "no padding before: output (i, j) reads input (i, j)"
    );
    // Stride 2 on 4×4 with a 3×3 kernel: output 2×2, padding 1 in all (needed 3 = 1 + 2? no:
    // (2 − 1)·2 + 3 − 4 = 1, so 0 above and 1 below).
    let mut strided = Conv2d::<1, 1, 3, 3, 4, 4, 2, 2, Identity, f64, Same<2, 2>>::zeros();
    strided.set_weight(0, 0, 0, 0, 1.0);
    let x: [[[f64; 1]; 4]; 4] =
        core::array::from_fn(|i| core::array::from_fn(|j| [(4 * i + j) as f64]));
    assert_eq!(strided.forward(&x), [[[0.0], [2.0]], [[8.0], [10.0]]]);
}

#[test]
fn a_small_cnn_trains() {
    type Cnn = seq![
        Conv2d<1, 4, 3, 3, 8, 8, 8, 8, Relu, f32, Padded<1, 1>>,
        MaxPool2d<4, 2, 2, 8, 8, 4, 4>,
        Flatten<[[[f32; 4]; 4]; 4], 64>,
        Dense<64, 2>
    ];
    // Class 0: a bright top half; class 1: a bright left half (with noise).
    let images: [[[[f32; 1]; 8]; 8]; 8] = core::array::from_fn(|n| {
        core::array::from_fn(|i| {
            core::array::from_fn(|j| {
                let bright = if n % 2 == 0 { i < 4 } else { j < 4 };
                let noise = (((n * 64 + i * 8 + j) * 2654435761) >> 10) % 100;
                [if bright { 1.0 } else { 0.0 } + noise as f32 / 500.0]
            })
        })
    });
    let labels: [usize; 8] = core::array::from_fn(|n| n % 2);
    let mut net: Cnn = init::seeded(Init::HeUniform, 9);
    let mut adam = Adam::<Cnn>::new(AdamConfig::new().lr(1e-2));
    let mut grads = Cnn::zeros();
    let mut cache = <Cnn as Layer>::BatchCache::<8>::zeros();
    let (mut y, mut dy) = ([[0.0; 2]; 8], [[0.0; 2]; 8]);
    let mut ctx = TrainCtx::new(0);
    let mut losses = Vec::new();
    for _ in 0..60 {
        grads.fill_zero();
        net.forward_train_batch(&images, &mut y, &mut cache, &mut ctx);
        losses.push(CrossEntropy.loss_batch(&y, &labels, &mut dy));
        net.backward_batch_params(&images, &y, &mut cache, &dy, &mut grads);
        adam.step(&mut net, &grads);
    }
    assert!(
        losses[59] < 0.1 * losses[0],
        "the loss falls: {} -> {}",
        losses[0],
        losses[59]
    );
}

#[test]
fn residual_blocks_pass_the_gradient_check() {
    use constnet::{ActivationMap, Residual, Skip};
    // ResNet's basic block with a projection shortcut (a strided 1×1 convolution and a
    // BatchNorm), batch statistics in training.
    type Projection = Residual<
        seq![
            Conv2d<2, 4, 3, 3, 6, 6, 3, 3, Identity, f64, NoBias<Padded<1, 1, 2, 2>>>,
            BatchNorm2d<4, 3, 3, f64>,
            ActivationMap<Relu, [[[f64; 4]; 3]; 3]>,
            Conv2d<4, 4, 3, 3, 3, 3, 3, 3, Identity, f64, NoBias<Padded<1, 1>>>,
            BatchNorm2d<4, 3, 3, f64>
        ],
        seq![
            Conv2d<2, 4, 1, 1, 6, 6, 3, 3, Identity, f64, NoBias<Valid<2, 2>>>,
            BatchNorm2d<4, 3, 3, f64>
        ],
        Relu,
    >;
    let block: Projection = init::seeded(Init::HeUniform, 21);
    let x = [image::<2, 6, 6>(22), image(23), image(24)];
    grad_check_batch(&block, &x, GradCheckConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    // And with the identity shortcut, inside a chain, single-sample.
    type Identity3 = Residual<
        seq![
            Conv2d<3, 3, 3, 3, 4, 4, 4, 4, Relu, f64, Padded<1, 1>>,
            Conv2d<3, 3, 3, 3, 4, 4, 4, 4, Identity, f64, Padded<1, 1>>
        ],
        Skip<[[[f64; 3]; 4]; 4]>,
        Tanh,
    >;
    let net: seq![Identity3, GlobalAvgPool2d<3, 4, 4, f64>, Dense<3, 2, Identity, f64>] =
        init::seeded(Init::HeUniform, 25);
    check(&net, 26);
    assert_eq!(
        <Projection as Params>::PARAM_COUNT,
        4 * 2 * 9 + 8 + 4 * 4 * 9 + 8 + 4 * 2 + 8,
        "conv1, bn1, conv2, bn2, down_conv, down_bn (no biases)"
    );
}
