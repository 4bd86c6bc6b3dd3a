//! Loads networks trained by PyTorch from safetensors files (`tests/fixtures/`) into typed
//! constnet networks and prints their predictions beside PyTorch's own outputs.
//!
//! `iris_4_16_3_relu_f32` is `nn.Sequential(Linear(4, 16), ReLU(), Linear(16, 3))`;
//! `iris_4_16bn_3_relu_f32` adds a `BatchNorm1d(16)` (running statistics, evaluated in
//! inference mode). Their keys (`0.weight`, ..., `3.bias`) map onto the layers in order.
//!
//! `cargo run --release --features safetensors --example 09_from_pytorch`

use std::path::PathBuf;
use std::process::ExitCode;

use constnet::{ActivationLayer, BatchNorm, Dense, Layer, Relu, Zeros, seq};

type Iris = seq![Dense<4, 16, Relu>, Dense<16, 3>];
type IrisBn = seq![Dense<4, 16>, BatchNorm<16>, ActivationLayer<Relu, 16>, Dense<16, 3>];

/// One line of an expected file: the input and PyTorch's output.
type Row = ([f32; 4], [f64; 3]);

/// Reads `NAME.expected.txt`: per line the input, ` | `, PyTorch's output.
fn expected(dir: &std::path::Path, name: &str) -> Result<Vec<Row>, String> {
    let path = dir.join(format!("{name}.expected.txt"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let bad = || format!("{}: bad line {line:?}", path.display());
            let (x, y) = line.split_once(" | ").ok_or_else(bad)?;
            let x: Vec<f32> = x
                .split_whitespace()
                .map(|v| v.parse().map_err(|_| bad()))
                .collect::<Result<_, _>>()?;
            let y: Vec<f64> = y
                .split_whitespace()
                .map(|v| v.parse().map_err(|_| bad()))
                .collect::<Result<_, _>>()?;
            Ok((
                x.try_into().map_err(|_| bad())?,
                y.try_into().map_err(|_| bad())?,
            ))
        })
        .collect()
}

/// Loads `name` into `net`, prints five predictions beside PyTorch's and returns the worst
/// relative difference over every row.
fn compare<N: Layer<Input = [f32; 4], Output = [f32; 3]> + constnet::Named>(
    dir: &std::path::Path,
    name: &str,
    net: &mut N,
) -> Result<f64, String> {
    let path = dir.join(format!("{name}.safetensors"));
    constnet::safetensors::load_file(net, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    let rows = expected(dir, name)?;
    println!("{name}: {} rows", rows.len());
    println!("  {:<24} {:<36} PyTorch", "input (cm)", "constnet");
    let mut worst = 0.0f64;
    for (i, (x, want)) in rows.iter().enumerate() {
        let y = net.forward(x);
        for (got, want) in y.iter().zip(want) {
            worst = worst.max((*got as f64 - want).abs() / want.abs().max(1.0));
        }
        if i < 5 {
            let ours: Vec<String> = y.iter().map(|v| format!("{v:>10.5}")).collect();
            let theirs: Vec<String> = want.iter().map(|v| format!("{v:>10.5}")).collect();
            println!(
                "  {:<24} {:<36} {}",
                format!("{x:?}"),
                ours.join(" "),
                theirs.join(" ")
            );
        }
    }
    println!("  worst relative difference over all rows: {worst:.2e}\n");
    Ok(worst)
}

fn run() -> Result<(), String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let plain = compare(&dir, "iris_4_16_3_relu_f32", &mut Iris::zeros())?;
    let with_bn = compare(&dir, "iris_4_16bn_3_relu_f32", &mut IrisBn::zeros())?;
    if plain.max(with_bn) > 1e-5 {
        return Err("constnet and PyTorch differ by more than 1e-5".into());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("09_from_pytorch: {e}");
            ExitCode::FAILURE
        }
    }
}
