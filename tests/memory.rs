//! The memory table in `src/memory.rs` (what a firmware author budgets) is computed here
//! from `size_of`, so it cannot go stale: if a type's size changes, this test fails and
//! prints the new table to paste. The table is x86-64's.
#![cfg(target_arch = "x86_64")]

use core::mem::size_of;

use constnet::optim::{Adagrad, Adam, AdamAmsGrad, AdamW, Adamax, NAdam, RmsProp, Sgd};
use constnet::{Dense, GruSequence, Layer, Relu, Tanh, seq};

type T = seq![Dense<2, 16, Tanh>, Dense<16, 16, Tanh>, Dense<16, 1>];
type S = seq![Dense<16, 64, Relu>, Dense<64, 64, Relu>, Dense<64, 8>];
type Digits = seq![Dense<64, 32, Tanh>, Dense<32, 10>];
type Gru8 = seq![GruSequence<1, 8, 32>, Dense<8, 1>];

/// The MLPerf Tiny models of the benchmarks (inference form).
#[allow(dead_code)]
#[path = "../benches/workloads/mlperf_types.rs"]
mod mlperf;

/// `examples/11_digits_cnn.rs`'s network.
type DigitsCnn = seq![
    constnet::Conv2d<1, 16, 3, 3, 8, 8, 8, 8, Relu, f32, constnet::Padded<1, 1>>,
    constnet::MaxPool2d<16, 2, 2, 8, 8, 4, 4>,
    constnet::Flatten<[[[f32; 16]; 4]; 4], 256>,
    Dense<256, 10>
];

/// The sizes of a convolutional network's values, in the second table's order.
fn cnn_sizes<N: Layer + Clone + core::fmt::Debug>() -> Vec<usize> {
    vec![
        size_of::<N>(),
        size_of::<Adam<N>>(),
        size_of::<N::Cache>(),
        size_of::<N::BatchCache<1>>(),
        size_of::<N::BatchCache<32>>(),
    ]
}

fn cnn_table() -> String {
    let columns = [
        cnn_sizes::<DigitsCnn>(),
        cnn_sizes::<mlperf::Kws>(),
        cnn_sizes::<mlperf::ResNet8>(),
        cnn_sizes::<mlperf::Vww>(),
        cnn_sizes::<mlperf::Ad>(),
    ];
    let rows = [
        "model (= gradients)",
        "`Adam<Net>`",
        "`Cache` (one sample)",
        "`BatchCache<1>`",
        "`BatchCache<32>`",
    ];
    let mut out = String::from(
        "//! | bytes | digits CNN | KWS | RESNET8 | VWW | AD |\n//! |---|---:|---:|---:|---:|---:|\n",
    );
    for (i, row) in rows.iter().enumerate() {
        out += &format!(
            "//! | {row} | {} | {} | {} | {} | {} |\n",
            columns[0][i], columns[1][i], columns[2][i], columns[3][i], columns[4][i]
        );
    }
    out
}

#[test]
fn the_cnn_memory_table_is_current() {
    let docs = include_str!("../src/memory.rs");
    let want = cnn_table();
    assert!(
        docs.contains(&want),
        "src/memory.rs has a stale CNN table; the current one is:\n{want}"
    );
}

/// The sizes of one network's values, in table order.
fn sizes<N: Layer + Clone + core::fmt::Debug>() -> Vec<usize> {
    vec![
        size_of::<N>(),
        size_of::<N>(),
        size_of::<Sgd<N>>(),
        size_of::<Adagrad<N>>(),
        size_of::<RmsProp<N>>(),
        size_of::<Adam<N>>(),
        size_of::<AdamAmsGrad<N>>(),
        size_of::<AdamW<N>>(),
        size_of::<Adamax<N>>(),
        size_of::<NAdam<N>>(),
        size_of::<N::Cache>(),
        size_of::<N::BatchCache<1>>(),
        size_of::<N::BatchCache<32>>(),
        size_of::<N::BatchCache<256>>(),
    ]
}

const ROWS: [&str; 14] = [
    "model",
    "gradients (`Net`)",
    "`Sgd<Net>`",
    "`Adagrad<Net>`",
    "`RmsProp<Net>`",
    "`Adam<Net>`",
    "`AdamAmsGrad<Net>`",
    "`AdamW<Net>`",
    "`Adamax<Net>`",
    "`NAdam<Net>`",
    "`Cache` (one sample)",
    "`BatchCache<1>`",
    "`BatchCache<32>`",
    "`BatchCache<256>`",
];

fn table() -> String {
    let columns = [
        sizes::<T>(),
        sizes::<S>(),
        sizes::<Digits>(),
        sizes::<Gru8>(),
    ];
    let mut out = String::from(
        "//! | bytes | T (2-16-16-1) | S (16-64-64-8) | digits (64-32-10) | GRU8 (GRU 1-8 over 32 steps, 8-1) |\n//! |---|---:|---:|---:|---:|\n",
    );
    for (i, row) in ROWS.iter().enumerate() {
        out += &format!(
            "//! | {row} | {} | {} | {} | {} |\n",
            columns[0][i], columns[1][i], columns[2][i], columns[3][i]
        );
    }
    out
}

#[test]
fn the_memory_table_is_current() {
    let docs = include_str!("../src/memory.rs");
    let want = table();
    assert!(
        docs.contains(&want),
        "src/memory.rs has a stale table; the current one is:\n{want}"
    );
}

#[test]
fn streaming_states_are_their_scalars() {
    // What src/memory.rs says of the states a streaming caller owns.
    assert_eq!(size_of::<constnet::GruState<8>>(), 32);
    assert_eq!(size_of::<constnet::LstmState<16>>(), 2 * 16 * 4);
}

/// The int8 networks of the benchmarks (`tflite::to_rust`'s types).
#[path = "../benches/workloads/mlperf_int8.rs"]
mod mlperf_int8;

/// The int8 digits CNN generated from `tests/fixtures/tflite/digits_cnn_dw_int8.tflite`.
#[allow(dead_code)]
mod digits_int8 {
    include!("generated/digits_cnn_dw_int8.rs");
}

fn int8_sizes<N: constnet::quant::Int8Layer>() -> Vec<usize> {
    vec![
        size_of::<N>(),
        size_of::<N::Scratch>(),
        size_of::<N::Input>() + size_of::<N::Output>(),
    ]
}

fn int8_table() -> String {
    let columns = [
        int8_sizes::<digits_int8::Cnn>(),
        int8_sizes::<mlperf_int8::MInt8>(),
        int8_sizes::<mlperf_int8::KwsInt8>(),
        int8_sizes::<mlperf_int8::ResNet8Int8>(),
        int8_sizes::<mlperf_int8::VwwInt8>(),
        int8_sizes::<mlperf_int8::AdInt8>(),
    ];
    let rows = [
        "int8 model",
        "`Scratch` (tensors between layers)",
        "input + output",
    ];
    let mut out = String::from(
        "//! | bytes | digits CNN (dw) | M | KWS | RESNET8 | VWW | AD |\n//! |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for (i, row) in rows.iter().enumerate() {
        out += &format!("//! | {row} |");
        for c in &columns {
            out += &format!(" {} |", c[i]);
        }
        out += "\n";
    }
    out
}

#[test]
fn the_int8_memory_table_is_current() {
    let docs = include_str!("../src/memory.rs");
    let want = int8_table();
    assert!(
        docs.contains(&want),
        "src/memory.rs has a stale int8 table; the current one is:\n{want}"
    );
}
