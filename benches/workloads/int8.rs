//! Int8 twins of the workloads for `perf_report`: M's shapes (784-128-10, ReLU) as an int8
//! network with TensorFlow Lite's arithmetic, weights drawn from a seeded generator (the time
//! depends on the shapes only), requantized with the fixed-point multipliers TensorFlow Lite
//! Micro uses (LiteRT's reference FULLY_CONNECTED rounds an f64 product instead, which
//! constnet emulates with integers at a higher cost).

use constnet::int8_seq;
use constnet::quant::{FusedActivation, Int8Dense, Quantization, activation_range, boxed_zeros};

/// M in int8.
pub type MInt8 = int8_seq![Int8Dense<784, 128>, Int8Dense<128, 10>];

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn int8(&mut self) -> i8 {
        self.next() as i8
    }
}

fn dense<const IN: usize, const OUT: usize>(
    rng: &mut XorShift,
    input: Quantization,
    output: Quantization,
    activation: FusedActivation,
) -> Box<Int8Dense<IN, OUT>> {
    let mut weights = boxed_zeros::<[[i8; IN]; OUT]>();
    for w in weights.as_flattened_mut() {
        *w = rng.int8() / 2;
    }
    let bias = core::array::from_fn(|_| (rng.next() % 2001) as i32 - 1000);
    let scales = [0.01 / IN as f32; 1];
    Box::new(
        Int8Dense::from_scales(
            *weights,
            bias,
            input,
            &scales,
            output,
            activation_range(activation, output),
        )
        .to_fixed_point(),
    )
}

/// M in int8, seeded.
pub fn m_int8(seed: u64) -> Box<MInt8> {
    let mut rng = XorShift(seed | 1);
    let input = Quantization::new(1.0 / 255.0, -128);
    let hidden = Quantization::new(0.05, -128);
    let output = Quantization::new(0.1, 0);
    let first = dense::<784, 128>(&mut rng, input, hidden, FusedActivation::Relu);
    let second = dense::<128, 10>(&mut rng, hidden, output, FusedActivation::None);
    let mut net = boxed_zeros::<MInt8>();
    net.first = *first;
    net.second = *second;
    net
}

/// Seeded int8 inputs of M.
pub fn m_int8_inputs(count: usize, seed: u64) -> Vec<[i8; 784]> {
    let mut rng = XorShift(seed | 1);
    (0..count)
        .map(|_| core::array::from_fn(|_| rng.int8()))
        .collect()
}
