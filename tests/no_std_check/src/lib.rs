//! A `no_std`, allocation-free static library that uses constnet for inference, a training
//! step with Adam, and loading a network from a byte slice. That it links at all is the
//! test: see `Cargo.toml`.
#![no_std]

use constnet::init::{self, Init};
use constnet::loss::Mse;
use constnet::loss::{CrossEntropy, Loss};
use constnet::optim::{Adam, AdamConfig, Optimizer};
use constnet::{
    Conv1d, Conv1dStream, Conv2d, Dense, Flatten, GruSequence, GruState, Layer, MaxPool2d, Padded, Relu, Tanh,
    TrainCtx, Zeros, io, seq,
};

type IrisNet = seq![Dense<4, 16, Relu>, Dense<16, 3>];

// The int8 digits CNN written by `tflite::to_rust` (TensorFlow Lite's integer arithmetic).
#[allow(dead_code)]
mod cnn {
    include!("../../generated/digits_cnn_dw_int8.rs");
}

/// The first test row of `tests/fixtures/tflite/digits_cnn_dw_int8.expected.txt` and the
/// output of TensorFlow Lite's reference kernels for it.
const DIGIT: [i8; 64] = [-128, -128, -112, 95, 127, 127, 111, -112, -128, -128, 47, 95, -1, 79, 47, -128, -128, -128, 111, -32, -128, 95, -80, -128, -128, -128, -48, -112, -48, 79, -112, -128, -128, -128, -128, 79, 127, 127, 15, -128, -128, -128, -96, 127, 111, 15, -112, -128, -128, -128, -128, 47, 15, -128, -128, -128, -128, -128, -80, 127, -96, -128, -128, -128];
const DIGIT_LOGITS: [i8; 10] = [-8, 3, 30, 11, 48, -54, -70, 89, 31, 17];

// The network baked into the binary by `examples/10_export.rs`, and the same weights in
// constnet's own format.
include!("../../../examples/generated/iris_net.rs");
static WEIGHTS: &[u8] = include_bytes!("../../../examples/generated/iris_net.cnet");

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

/// Runs constnet without `std` or `alloc` and returns a status: 0 when every step agrees,
/// a positive code naming the first step that did not.
///
/// 1: loading the own-format weights from a byte slice failed; 2: the loaded network
/// differs from the baked one; 3: a training step with Adam did not lower the loss; 4: the
/// trained network did not round-trip through a stack buffer; 5: streaming a GRU state
/// through silence left it nonzero or not finite; 6: a BPTT step with Adam on a GRU + Dense
/// did not lower the loss; 7: a causal convolution streamed differently from its window; 8:
/// the int8 digits CNN (generated from a TensorFlow Lite file) differed from TensorFlow
/// Lite's output.
#[unsafe(no_mangle)]
pub extern "C" fn constnet_no_std_check(seed: u64) -> u32 {
    // Load from a byte slice, and compare with the baked network by inference.
    let mut loaded = IrisNet::zeros();
    if io::read_from(&mut loaded, WEIGHTS).is_err() {
        return 1;
    }
    let x = [[0.5f32, -1.0, 1.0, 0.25]; 4];
    if loaded.forward(&x[0]) != NET.forward(&x[0]) {
        return 2;
    }
    // One training step with Adam from a seeded network, on a batch of four.
    let mut net: IrisNet = init::seeded(Init::PyTorchDefault, seed);
    let mut grads = IrisNet::zeros();
    let mut adam = Adam::<IrisNet>::new(AdamConfig::new().lr(1e-2));
    let mut cache = <IrisNet as Layer>::BatchCache::<4>::zeros();
    let mut ctx = TrainCtx::new(seed);
    let (mut y, mut dy) = ([[0.0f32; 3]; 4], [[0.0f32; 3]; 4]);
    let targets = [0usize, 1, 2, 1];
    net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
    let before = CrossEntropy.loss_batch(&y, &targets, &mut dy);
    net.backward_batch_params(&x, &y, &mut cache, &dy, &mut grads);
    adam.step(&mut net, &grads);
    net.forward_batch(&x, &mut y, &mut cache);
    if CrossEntropy.loss_batch(&y, &targets, &mut dy) >= before {
        return 3;
    }
    // Save into and load from a stack buffer.
    let mut buf = [0u8; 1024];
    let mut copy = IrisNet::zeros();
    match io::write_to(&net, &mut buf) {
        Ok(len) if io::read_from(&mut copy, &buf[..len]).is_ok() && copy == net => {}
        _ => return 4,
    }
    recurrent(seed)
}

type Rnn = seq![GruSequence<1, 8, 8>, Dense<8, 1>];

/// Streaming and a BPTT step on a GRU (codes 5 and 6).
fn recurrent(seed: u64) -> u32 {
    let mut rnn: Rnn = init::seeded(Init::PyTorchDefault, seed);
    // Streaming: two voices, one loud and one silent after an impulse.
    let mut voices = [GruState::zeros(); 2];
    let mut last = [0.0f32; 8];
    for t in 0..2000 {
        let loud = [if t % 2 == 0 { 0.9 } else { -0.9 }];
        last = rnn.first.cell.step(&mut voices[0], &loud);
        rnn.first
            .cell
            .step(&mut voices[1], &[if t == 0 { 1.0 } else { 0.0 }]);
    }
    if last
        .iter()
        .chain(&voices[1].h)
        .any(|v| !v.is_finite() || v.is_subnormal())
    {
        return 5;
    }
    let x = [[[0.5f32]; 8], [[-0.5f32]; 8]];
    let t = [[1.0f32], [-1.0f32]];
    let mut grads = Rnn::zeros();
    let mut adam = Adam::<Rnn>::new(AdamConfig::new().lr(1e-2));
    let mut cache = <Rnn as Layer>::BatchCache::<2>::zeros();
    let (mut y, mut dy) = ([[0.0f32; 1]; 2], [[0.0f32; 1]; 2]);
    let mut ctx = TrainCtx::new(seed);
    rnn.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
    let before = Mse.loss_batch(&y, &t, &mut dy);
    rnn.backward_batch_params(&x, &y, &mut cache, &dy, &mut grads);
    adam.step(&mut rnn, &grads);
    rnn.forward_batch(&x, &mut y, &mut cache);
    if Mse.loss_batch(&y, &t, &mut dy) >= before {
        return 6;
    }
    convolution(seed)
}

/// A causal dilated convolution streamed frame by frame equals the windowed layer on the
/// same signal with its history's zeros in front (code 7).
fn convolution(seed: u64) -> u32 {
    // Streaming form: kernel 3, dilation 2 (history of 4 frames).
    type Streamed = Conv1d<2, 3, 3, 8, 4, Tanh, f32, 1, 0, 2>;
    // The same weights over a window of 4 zero frames then 8 signal frames.
    type Windowed = Conv1d<2, 3, 3, 12, 8, Tanh, f32, 1, 0, 2>;
    let streamed: Streamed = init::seeded(Init::PyTorchDefault, seed);
    let windowed = Windowed::from_pytorch(streamed.weights(), *streamed.bias());
    let signal: [[f32; 2]; 8] = core::array::from_fn(|t| [t as f32 * 0.25 - 1.0, 0.5]);
    let mut stream = Conv1dStream::<2, 4>::new();
    let mut window = [[0.0f32; 2]; 12];
    window[4..].copy_from_slice(&signal);
    let whole = windowed.forward(&window);
    for (frame, expected) in signal.iter().zip(&whole) {
        if streamed.step(&mut stream, frame) != *expected {
            return 7;
        }
    }
    int8_digits()
}

/// The int8 digits CNN on a test row equals TensorFlow Lite's output (code 8).
fn int8_digits() -> u32 {
    let mut logits = [0i8; 10];
    cnn::forward_flat(&cnn::CNN, &DIGIT, &mut logits);
    if logits != DIGIT_LOGITS {
        return 8;
    }
    0
}

/// The int8 digits CNN alone (for the code-size figure): the sum of its logits on a row
/// derived from `seed`.
#[unsafe(no_mangle)]
pub extern "C" fn constnet_int8_digits(seed: u64) -> i32 {
    let input: [i8; 64] = core::array::from_fn(|i| (seed as i8).wrapping_add(DIGIT[i]));
    let mut logits = [0i8; 10];
    cnn::forward_flat(&cnn::CNN, &input, &mut logits);
    logits.iter().map(|&v| v as i32).sum()
}

/// The f32 digits CNN of `examples/11_digits_cnn.rs` alone (for the code-size figure: its
/// forward code, the weights zero and opaque to the optimizer), the sum of its logits.
#[unsafe(no_mangle)]
pub extern "C" fn constnet_f32_digits(seed: u64) -> f32 {
    type Cnn = seq![
        Conv2d<1, 16, 3, 3, 8, 8, 8, 8, Relu, f32, Padded<1, 1>>,
        MaxPool2d<16, 2, 2, 8, 8, 4, 4>,
        Flatten<[[[f32; 16]; 4]; 4], 256>,
        Dense<256, 10>
    ];
    let net = core::hint::black_box(Cnn::zeros());
    let input: [[[f32; 1]; 8]; 8] =
        core::array::from_fn(|i| core::array::from_fn(|j| [(seed as f32) * DIGIT[8 * i + j] as f32]));
    net.forward(&input).iter().sum()
}
