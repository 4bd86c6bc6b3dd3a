//! Post-training quantization (`constnet::quant::quantize`): the digits MLP (04_digits'
//! settings, with ReLU: tanh has no int8 form) and the digits CNN of the examples, trained
//! with fixed seeds (the CNN for at most 20 epochs) and calibrated on the training rows, keep
//! their test accuracy in int8 within half a point; BatchNorms and ReLU layers fold into the
//! layer before them; residual blocks and ResNet-8 quantize (ResNet-8 to the type
//! `tflite::to_rust` gives LiteRT's int8 file, on a 512 KiB stack) and stay within a few
//! output steps of the float outputs; misplaced layers are refused by name; and
//! `quant::to_rust` writes networks that compile (`generated/ptq_*.rs`, checked fresh) and
//! equal the in-memory ones.
//!
//! About 20 s in a debug build, mostly the two trainings; the figures are printed
//! (`cargo test --test ptq -- --nocapture`).

#[path = "../examples/common/mod.rs"]
mod common;

use core::any::TypeId;

use constnet::init::{self, Init};
use constnet::quant::{
    F32Tensor, Int8Add, Int8Dense, Int8Layer, Quantize, QuantizeError, activation_range, quantize,
    to_rust,
};
use constnet::{
    ActivationLayer, ActivationMap, AvgPool2d, BatchNorm, BatchNorm2d, Conv2d, Dense,
    DepthwiseConv2d, Flatten, GlobalAvgPool2d, Identity, Layer, MaxPool2d, Padded, Params, Relu,
    Relu6, Residual, Same, Skip, seq,
};

use common::digits;
use common::digits_cnn::{self, Images};

/// The int8 network's test accuracy: inputs quantized with its input quantization, the class
/// the largest int8 logit (the first of equal ones).
fn int8_accuracy<N, X>(net: &N, inputs: &[X], labels: &[usize]) -> f64
where
    N: Int8Layer<Input = X::Int8>,
    X: F32Tensor,
    N::Output: AsRef<[i8]>,
{
    let q = net.input_quantization();
    let correct = inputs
        .iter()
        .zip(labels)
        .filter(|(x, label)| {
            let y = net.forward(&x.quantize(q).unwrap());
            let y = y.as_ref();
            let best = (0..y.len()).fold(0, |b, i| if y[i] > y[b] { i } else { b });
            best == **label
        })
        .count();
    correct as f64 / labels.len() as f64
}

fn same_type<A: 'static, B: 'static>() -> bool {
    TypeId::of::<A>() == TypeId::of::<B>()
}

#[test]
fn the_digits_mlp_keeps_its_accuracy_in_int8() {
    let data = digits::load().unwrap();
    let (net, _) =
        digits::train_as::<digits::ReluNet, _>(&data, &digits::SETTINGS, &mut ()).unwrap();
    let int8 = quantize(&net, &data.train_x).unwrap();
    assert!(same_type::<
        <digits::ReluNet as Quantize>::Int8,
        constnet::int8_seq![Int8Dense<64, 32>, Int8Dense<32, 10>],
    >());
    let f32_accuracy = constnet::fit::accuracy(&net, &data.test_x, &data.test_y);
    let int8_accuracy = int8_accuracy(&*int8, &data.test_x, &data.test_y);
    println!("digits MLP: f32 test accuracy {f32_accuracy:.4}, int8 {int8_accuracy:.4}");
    assert!(f32_accuracy > 0.95, "f32 {f32_accuracy}");
    assert!(
        (int8_accuracy - f32_accuracy).abs() <= 0.005,
        "f32 {f32_accuracy:.4}, int8 {int8_accuracy:.4}"
    );
}

#[test]
fn the_digits_cnn_keeps_its_accuracy_in_int8() {
    let data = digits::load().unwrap();
    let images = Images::of(&data);
    let (net, _) = digits_cnn::train(&data, &images, 20, &mut ()).unwrap();
    let int8 = quantize(&*net, &images.train).unwrap();
    let f32_accuracy = constnet::fit::accuracy(&*net, &images.test, &data.test_y);
    let int8_accuracy = int8_accuracy(&*int8, &images.test, &data.test_y);
    println!("digits CNN: f32 test accuracy {f32_accuracy:.4}, int8 {int8_accuracy:.4}");
    assert!(f32_accuracy > 0.95, "f32 {f32_accuracy}");
    assert!(
        (int8_accuracy - f32_accuracy).abs() <= 0.005,
        "f32 {f32_accuracy:.4}, int8 {int8_accuracy:.4}"
    );
}

/// A generator of small integers (xorshift).
struct Numbers(u64);

impl Numbers {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value in `[-1, 1)`.
    fn uniform(&mut self) -> f32 {
        (self.next() % 2000) as f32 / 1000.0 - 1.0
    }

    /// `k / denominator` with `k` in `-limit..=limit`.
    fn dyadic(&mut self, limit: u64, denominator: f32) -> f32 {
        ((self.next() % (2 * limit + 1)) as f32 - limit as f32) / denominator
    }
}

/// The largest difference between the dequantized int8 output and the float one, in output
/// steps, over `inputs`.
fn worst_steps<N, I>(net: &N, int8: &I, inputs: &[N::Input]) -> f32
where
    N: Layer,
    N::Input: F32Tensor,
    N::Output: F32Tensor,
    I: Int8Layer<Input = <N::Input as F32Tensor>::Int8, Output = <N::Output as F32Tensor>::Int8>,
    <N::Output as F32Tensor>::Int8: constnet::quant::Int8Tensor,
{
    use constnet::quant::Int8Tensor;
    let (qi, qo) = (int8.input_quantization(), int8.output_quantization());
    let mut worst = 0.0f32;
    for x in inputs {
        let expected = net.forward(x);
        let got = int8.forward(&x.quantize(qi).unwrap());
        for (&e, &g) in expected.values().iter().zip(got.values()) {
            worst = worst.max((qo.dequantize(g) - e).abs() / qo.scale);
        }
    }
    worst
}

#[test]
fn a_batch_norm_folds_into_the_dense_before_it() {
    type Net = seq![Dense<6, 5>, BatchNorm<5>];
    let mut net: Net = init::seeded(Init::PyTorchDefault, 3);
    net.second = BatchNorm::from_parts(
        [1.5, -0.5, 0.8, 2.0, 0.1],
        [0.3, -1.0, 0.0, 0.5, 2.0],
        [0.2, -0.4, 1.0, -2.0, 0.05],
        [0.5, 2.0, 0.01, 4.0, 1.0],
    );
    assert!(same_type::<<Net as Quantize>::Int8, Int8Dense<6, 5>>());
    let mut numbers = Numbers(7);
    let inputs: Vec<[f32; 6]> = (0..400)
        .map(|_| core::array::from_fn(|_| 2.0 * numbers.uniform()))
        .collect();
    let int8 = quantize(&net, &inputs).unwrap();
    let steps = worst_steps(&net, &*int8, &inputs);
    println!("Dense + BatchNorm: worst error {steps:.2} output steps");
    assert!(steps <= 1.5, "{steps} steps");

    // With a ReLU layer after the norm, folded into the clamp; then another Dense.
    type Deeper = seq![Dense<6, 5>, BatchNorm<5>, ActivationLayer<Relu, 5>, Dense<5, 3>];
    let mut deeper: Deeper = init::seeded(Init::PyTorchDefault, 4);
    deeper.second.first = net.second;
    assert!(same_type::<
        <Deeper as Quantize>::Int8,
        constnet::int8_seq![Int8Dense<6, 5>, Int8Dense<5, 3>],
    >());
    let int8 = quantize(&deeper, &inputs).unwrap();
    let first = &int8.first;
    assert_eq!(
        first.range()[0] as i32,
        first.output_quantization().zero_point
    );
    let steps = worst_steps(&deeper, &*int8, &inputs);
    println!("Dense + BatchNorm + ReLU + Dense: worst error {steps:.2} output steps");
    assert!(steps <= 3.0, "{steps} steps");
}

#[test]
fn a_batch_norm_2d_and_relu_fold_into_the_convolution_before_them() {
    type Net = seq![
        Conv2d<2, 3, 3, 3, 5, 5, 5, 5, Identity, f32, Padded<1, 1>>,
        BatchNorm2d<3, 5, 5>,
        ActivationMap<Relu, [[[f32; 3]; 5]; 5]>
    ];
    let mut net: Net = init::seeded(Init::PyTorchDefault, 5);
    *net.second.first = BatchNorm::from_parts(
        [1.2, 0.0, -0.7],
        [0.1, 0.4, 0.2],
        [0.3, -0.1, 0.5],
        [0.2, 1.0, 3.0],
    );
    assert!(same_type::<
        <Net as Quantize>::Int8,
        constnet::quant::Int8Conv2d<2, 3, 3, 3, 5, 5, 5, 5, Padded<1, 1>>,
    >());
    let mut numbers = Numbers(11);
    let inputs: Vec<[[[f32; 2]; 5]; 5]> = (0..100)
        .map(|_| {
            core::array::from_fn(|_| {
                core::array::from_fn(|_| [numbers.uniform(), numbers.uniform()])
            })
        })
        .collect();
    let int8 = quantize(&net, &inputs).unwrap();
    let steps = worst_steps(&net, &*int8, &inputs);
    println!("Conv2d + BatchNorm2d + ReLU: worst error {steps:.2} output steps");
    assert!(steps <= 1.5, "{steps} steps");
}

type Block1 = Residual<
    seq![
        Conv2d<4, 4, 3, 3, 6, 6, 6, 6, Relu, f32, Padded<1, 1>>,
        Conv2d<4, 4, 3, 3, 6, 6, 6, 6, Identity, f32, Padded<1, 1>>
    ],
    Skip<[[[f32; 4]; 6]; 6]>,
    Relu,
>;
type Block2 = Residual<
    seq![
        Conv2d<4, 8, 3, 3, 6, 6, 3, 3, Relu, f32, Same<2, 2>>,
        Conv2d<8, 8, 3, 3, 3, 3, 3, 3, Identity, f32, Same>
    ],
    Conv2d<4, 8, 1, 1, 6, 6, 3, 3, Identity, f32, Same<2, 2>>,
    Relu,
>;
type ResNet = seq![
    Conv2d<1, 4, 3, 3, 6, 6, 6, 6, Relu, f32, Padded<1, 1>>,
    Block1,
    Block2,
    GlobalAvgPool2d<8, 3, 3>,
    Dense<8, 3>
];

#[test]
fn residual_blocks_quantize_with_their_additions_calibrated() {
    let net: Box<ResNet> = init::boxed(Init::PyTorchDefault, 9);
    let mut numbers = Numbers(13);
    let inputs: Vec<[[[f32; 1]; 6]; 6]> = (0..200)
        .map(|_| core::array::from_fn(|_| core::array::from_fn(|_| [numbers.uniform()])))
        .collect();
    let int8 = quantize(&*net, &inputs).unwrap();
    // The first block: the shortcut reads (and writes) the block's input quantization, the
    // addition reads the shortcut first, then the body, and writes its own.
    let block = &int8.second.first;
    let input = int8.first.output_quantization();
    assert!(block.shortcut.input_quantization().same_as(input));
    assert_eq!(
        block.add,
        Int8Add::from_scales(
            input,
            block.body.output_quantization(),
            block.add.output,
            activation_range(constnet::quant::FusedActivation::Relu, block.add.output),
        )
    );
    assert_eq!(block.add.range[0] as i32, block.add.output.zero_point);
    let steps = worst_steps(&*net, &*int8, &inputs);
    println!("ResNet with two residual blocks: worst error {steps:.2} output steps");
    assert!(steps <= 4.0, "{steps} steps");
}

#[test]
fn depthwise_convolutions_quantize_with_their_batch_norms_folded() {
    // Depth multiplier 1 (stride 2, SAME) with a BatchNorm2d and a ReLU folded in.
    type Net = seq![
        DepthwiseConv2d<3, 3, 3, 7, 7, 4, 4, Identity, f32, Same<2, 2>>,
        BatchNorm2d<3, 4, 4>,
        ActivationMap<Relu, [[[f32; 3]; 4]; 4]>
    ];
    let mut net: Net = init::seeded(Init::PyTorchDefault, 6);
    *net.second.first = BatchNorm::from_parts(
        [1.5, -0.4, 0.8],
        [0.2, 0.1, -0.3],
        [0.1, -0.2, 0.3],
        [0.5, 2.0, 0.3],
    );
    assert!(same_type::<
        <Net as Quantize>::Int8,
        constnet::quant::Int8DepthwiseConv2d<3, 3, 3, 3, 7, 7, 4, 4, Same<2, 2>>,
    >());
    let inputs = uniform_images::<3, 7, 7>(13);
    let int8 = quantize(&net, &inputs).unwrap();
    let steps = worst_steps(&net, &*int8, &inputs);
    println!("depthwise + BatchNorm2d + ReLU: worst error {steps:.2} output steps");
    // Input rounding (half an input step through nine taps scaled by up to γ/σ ≈ 2.1), weight
    // and output rounding: about two steps; a misplaced tap costs hundreds.
    assert!(steps <= 2.5, "{steps} steps");
    // Depth multiplier 2 (`CG = 1`, six outputs from three channels), ReLU6, padding.
    type Multiplier = Conv2d<3, 6, 3, 3, 4, 4, 4, 4, Relu6, f32, Padded<1, 1>, 1>;
    let net: Multiplier = init::seeded(Init::PyTorchDefault, 7);
    let inputs = uniform_images::<3, 4, 4>(14);
    let int8 = quantize(&net, &inputs).unwrap();
    let steps = worst_steps(&net, &*int8, &inputs);
    println!("depth multiplier 2 + ReLU6: worst error {steps:.2} output steps");
    assert!(steps <= 2.0, "{steps} steps");
}

#[test]
fn grouped_convolutions_quantize() {
    // Two groups of two channels, six outputs (three per group), ReLU, padding 1.
    type Grouped = Conv2d<4, 6, 3, 3, 5, 5, 5, 5, Relu, f32, Padded<1, 1>, 2>;
    let net: Grouped = init::seeded(Init::PyTorchDefault, 8);
    let inputs = uniform_images::<4, 5, 5>(15);
    let int8 = quantize(&net, &inputs).unwrap();
    let steps = worst_steps(&net, &*int8, &inputs);
    println!("grouped convolution + ReLU: worst error {steps:.2} output steps");
    assert!(steps <= 2.0, "{steps} steps");
}

/// 100 images of values uniform in `[-1, 1)`.
fn uniform_images<const C: usize, const W: usize, const H: usize>(
    seed: u64,
) -> Vec<[[[f32; C]; W]; H]> {
    let mut numbers = Numbers(seed);
    (0..100)
        .map(|_| {
            core::array::from_fn(|_| {
                core::array::from_fn(|_| core::array::from_fn(|_| numbers.uniform()))
            })
        })
        .collect()
}

#[test]
fn what_has_no_int8_form_is_refused_by_name() {
    // A BatchNorm after a ReLU cannot be folded.
    type AfterRelu = seq![Dense<4, 4, Relu>, BatchNorm<4>];
    let net: AfterRelu = init::seeded(Init::PyTorchDefault, 1);
    let error = quantize(&net, &[[0.5; 4]]).unwrap_err();
    assert!(
        matches!(
            error,
            QuantizeError::Unsupported {
                layer: 1,
                name: "BatchNorm",
                ..
            }
        ),
        "{error}"
    );
    println!("{error}");
    // A Flatten that no Dense follows.
    type Flat = seq![Conv2d<1, 2, 1, 1, 2, 2, 2, 2>, Flatten<[[[f32; 2]; 2]; 2], 8>];
    let net: Flat = init::seeded(Init::PyTorchDefault, 1);
    let error = quantize(&net, &[[[[1.0]; 2]; 2]]).unwrap_err();
    assert!(
        matches!(
            error,
            QuantizeError::Unsupported {
                name: "Flatten",
                ..
            }
        ),
        "{error}"
    );
    // An average pool that averages padding.
    type Padding = AvgPool2d<1, 2, 2, 3, 3, 2, 2, f32, Padded<1, 1, 2, 2>>;
    let error = quantize(&Padding::new(), &[[[[1.0]; 3]; 3]]).unwrap_err();
    assert!(
        matches!(
            error,
            QuantizeError::Unsupported {
                name: "AvgPool2d",
                ..
            }
        ),
        "{error}"
    );
    // NaN in a calibration input, no calibration.
    type Small = Dense<2, 2>;
    let net: Small = init::seeded(Init::PyTorchDefault, 1);
    assert_eq!(
        quantize(&net, &[[f32::NAN, 0.0]]).unwrap_err(),
        QuantizeError::NotFinite {
            layer: None,
            name: "input"
        }
    );
    assert_eq!(
        quantize(&net, &[]).unwrap_err(),
        QuantizeError::NoCalibration
    );
}

// Two small networks whose float arithmetic is exact (dyadic weights and inputs), so their
// calibration, and so their int8 form and its source, are the same bits on every instruction
// set.

type Small = seq![
    Conv2d<2, 4, 3, 3, 6, 6, 6, 6, Identity, f32, Padded<1, 1>>,
    BatchNorm2d<4, 6, 6>,
    ActivationMap<Relu, [[[f32; 4]; 6]; 6]>,
    MaxPool2d<4, 2, 2, 6, 6, 3, 3>,
    DepthwiseConv2d<4, 3, 3, 3, 3, 3, 3, Relu, f32, Padded<1, 1>>,
    Residual<Conv2d<4, 4, 3, 3, 3, 3, 3, 3, Identity, f32, Padded<1, 1>>, Skip<[[[f32; 4]; 3]; 3]>, Relu>,
    Flatten<[[[f32; 4]; 3]; 3], 36>,
    Dense<36, 8, Relu6>,
    Dense<8, 3>
];
type Int8Small = <Small as Quantize>::Int8;

type Pooled = seq![
    Conv2d<1, 4, 3, 3, 8, 8, 4, 4, Relu, f32, Same<2, 2>>,
    AvgPool2d<4, 2, 2, 4, 4, 2, 2>,
    Residual<Conv2d<4, 8, 1, 1, 2, 2, 2, 2, Relu>, Conv2d<4, 8, 1, 1, 2, 2, 2, 2>, Identity>,
    GlobalAvgPool2d<8, 2, 2>,
    Dense<8, 4>,
    BatchNorm<4>,
    ActivationLayer<Relu, 4>,
    Dense<4, 2>
];
type Int8Pooled = <Pooled as Quantize>::Int8;

mod generated {
    use super::{Int8Pooled, Int8Small};
    include!("generated/ptq_small_int8.rs");
    include!("generated/ptq_pooled_int8.rs");
}

/// Every parameter `k / 4` with `k` in `-2..=2`; norms with running variance 0.25 and `eps`
/// 0, so every float product and sum is exact.
fn dyadic<N: Params<Scalar = f32>>(seed: u64) -> Box<N> {
    let mut net = N::boxed_zeros();
    let mut numbers = Numbers(seed);
    for tensor in net.tensors_mut() {
        for v in tensor {
            *v = numbers.dyadic(2, 4.0);
        }
    }
    net
}

fn exact_norm<const N: usize>(norm: &mut BatchNorm<N>, numbers: &mut Numbers) {
    *norm = BatchNorm::from_parts(
        norm.weight,
        norm.bias,
        core::array::from_fn(|_| numbers.dyadic(4, 8.0)),
        [0.25; N],
    )
    .with_eps(0.0);
}

fn small() -> Box<Small> {
    let mut net = dyadic::<Small>(28);
    exact_norm(&mut net.second.first, &mut Numbers(22));
    net
}

fn pooled() -> Box<Pooled> {
    let mut net = dyadic::<Pooled>(23);
    exact_norm(
        &mut net.second.second.second.second.second.first,
        &mut Numbers(24),
    );
    net
}

/// Images of `m / 4` with `m` in `-8..=8`.
fn images<const C: usize, const W: usize, const H: usize>(seed: u64) -> Vec<[[[f32; C]; W]; H]> {
    let mut numbers = Numbers(seed);
    (0..64)
        .map(|_| {
            core::array::from_fn(|_| {
                core::array::from_fn(|_| core::array::from_fn(|_| numbers.dyadic(8, 4.0)))
            })
        })
        .collect()
}

/// Whether the test writes the generated files instead of checking them.
fn writing() -> bool {
    std::env::var_os("CONSTNET_WRITE_GENERATED").is_some()
}

/// `to_rust`'s text for `int8` is the checked-in file `name` (written instead when
/// [`writing`]).
fn is_fresh<N: Int8Layer + constnet::io::rust_source::RustSource>(
    int8: &N,
    name: &str,
    static_name: &str,
    type_name: &str,
) {
    let fresh = to_rust(int8, static_name, type_name);
    let path = format!("{}/tests/generated/{name}", env!("CARGO_MANIFEST_DIR"));
    if writing() {
        std::fs::write(&path, &fresh).unwrap();
        println!("wrote {path}");
        return;
    }
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        fresh == saved,
        "{path} is stale: regenerate with `CONSTNET_WRITE_GENERATED=1 cargo test --test ptq generated`, then run the test again"
    );
}

#[test]
fn generated_sources_compile_to_the_quantized_networks() {
    let small_images = images::<2, 6, 6>(31);
    let small = quantize(&*small(), &small_images).unwrap();
    is_fresh(&*small, "ptq_small_int8.rs", "SMALL", "Int8Small");
    let pooled_images = images::<1, 8, 8>(32);
    let pooled = quantize(&*pooled(), &pooled_images).unwrap();
    is_fresh(&*pooled, "ptq_pooled_int8.rs", "POOLED", "Int8Pooled");
    if writing() {
        return; // the statics compiled in are the old ones
    }

    assert_eq!(*small, generated::SMALL);
    let q = small.input_quantization();
    for x in &small_images {
        let x = x.quantize(q).unwrap();
        assert_eq!(generated::SMALL.forward(&x), small.forward(&x));
    }
    assert_eq!(*pooled, generated::POOLED);
    let q = pooled.input_quantization();
    for x in &pooled_images {
        let x = x.quantize(q).unwrap();
        assert_eq!(generated::POOLED.forward(&x), pooled.forward(&x));
    }
}

#[test]
fn the_small_networks_compute_their_float_functions() {
    let small_images = images::<2, 6, 6>(31);
    let net = small();
    let int8 = quantize(&*net, &small_images).unwrap();
    let steps = worst_steps(&*net, &*int8, &small_images);
    println!("small CNN: worst error {steps:.2} output steps");
    assert!(steps <= 4.0, "{steps}");
    let pooled_images = images::<1, 8, 8>(32);
    let net = pooled();
    let int8 = quantize(&*net, &pooled_images).unwrap();
    let steps = worst_steps(&*net, &*int8, &pooled_images);
    println!("pooled CNN: worst error {steps:.2} output steps");
    assert!(steps <= 4.0, "{steps}");
}

/// The MLPerf Tiny models in their float inference form, and the int8 types
/// `tflite::to_rust` writes for LiteRT's int8 files of them.
#[allow(dead_code)]
#[path = "../benches/workloads/mlperf_types.rs"]
mod mlperf;
#[path = "../benches/workloads/mlperf_int8.rs"]
mod mlperf_int8;

#[test]
fn resnet8_quantizes_to_the_type_tensorflow_lite_gives_it_on_a_small_stack() {
    assert!(same_type::<
        <mlperf::ResNet8 as Quantize>::Int8,
        mlperf_int8::ResNet8Int8,
    >());
    assert!(same_type::<
        <mlperf::Ad as Quantize>::Int8,
        mlperf_int8::AdInt8,
    >());
    // The depthwise-separable models too.
    assert!(same_type::<
        <mlperf::Kws as Quantize>::Int8,
        mlperf_int8::KwsInt8,
    >());
    assert!(same_type::<
        <mlperf::Vww as Quantize>::Int8,
        mlperf_int8::VwwInt8,
    >());
    let net: Box<mlperf::ResNet8> = init::boxed(Init::PyTorchDefault, 17);
    let mut numbers = Numbers(19);
    let inputs: Vec<[[[f32; 3]; 32]; 32]> = (0..3)
        .map(|_| {
            core::array::from_fn(|_| {
                core::array::from_fn(|_| core::array::from_fn(|_| numbers.uniform()))
            })
        })
        .collect();
    let expected: Vec<[f32; 10]> = inputs.iter().map(|x| net.forward(x)).collect();
    // Calibration, the int8 network (built on the heap) and its forward into boxed buffers
    // need no more than 512 KiB of stack, even in a debug build.
    let (outputs, scale) = std::thread::Builder::new()
        .stack_size(512 << 10)
        .spawn(move || {
            let int8 = quantize(&*net, &inputs).unwrap();
            let q = int8.input_quantization();
            let mut scratch =
                constnet::quant::boxed_zeros::<<mlperf_int8::ResNet8Int8 as Int8Layer>::Scratch>();
            let mut y = [0i8; 10];
            let out = int8.output_quantization();
            let outputs: Vec<[f32; 10]> = inputs
                .iter()
                .map(|x| {
                    int8.forward_into(&x.quantize(q).unwrap(), &mut y, &mut scratch);
                    y.map(|v| out.dequantize(v))
                })
                .collect();
            (outputs, out.scale)
        })
        .unwrap()
        .join()
        .unwrap();
    for (got, expected) in outputs.iter().zip(&expected) {
        let steps = (0..10)
            .map(|k| (got[k] - expected[k]).abs() / scale)
            .fold(0.0f32, f32::max);
        println!("ResNet-8: worst error {steps:.2} output steps");
        assert!(steps <= 4.0, "{steps} steps");
    }
}

/// Quantized, written by `tflite::to_bytes` and read back by `tflite::load_into`: the same
/// network (PyTorch-style padding written as the SAME it equals, BatchNorms folded, residual
/// additions, average and global pools, depthwise convolutions with a depth multiplier).
#[cfg(feature = "tflite")]
#[test]
fn quantized_networks_written_as_tflite_read_back_equal() {
    use constnet::quant::{Int8Tensor, boxed_zeros};
    use constnet::tflite::{self, FromTflite, ToTflite};
    fn round_trip<N: FromTflite + ToTflite + PartialEq>(int8: &N)
    where
        N::Input: Int8Tensor,
    {
        let bytes = tflite::to_bytes(int8).unwrap();
        let mut back = boxed_zeros::<N>();
        tflite::load_into(&mut *back, &bytes).unwrap();
        assert!(*back == *int8);
    }
    round_trip(&*quantize(&*small(), &images::<2, 6, 6>(31)).unwrap());
    round_trip(&*quantize(&*pooled(), &images::<1, 8, 8>(32)).unwrap());
    let resnet: Box<ResNet> = init::boxed(Init::PyTorchDefault, 9);
    round_trip(&*quantize(&*resnet, &images::<1, 6, 6>(33)).unwrap());
    type Multiplier = Conv2d<3, 6, 3, 3, 4, 4, 4, 4, Relu6, f32, Padded<1, 1>, 1>;
    let net: Multiplier = init::seeded(Init::PyTorchDefault, 7);
    round_trip(&*quantize(&net, &uniform_images::<3, 4, 4>(14)).unwrap());
    type Grouped = Conv2d<4, 6, 3, 3, 5, 5, 5, 5, Relu, f32, Padded<1, 1>, 2>;
    let net: Grouped = init::seeded(Init::PyTorchDefault, 8);
    round_trip(&*quantize(&net, &uniform_images::<4, 5, 5>(15)).unwrap());
}
