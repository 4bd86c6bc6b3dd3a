//! Trains an iris classifier and exports it for embedding: as Rust source (a `static` built
//! by `const fn`s, for `08_embed` and `tests/baked.rs`) and in constnet's own weight format.
//!
//! The network (`Dense<4, 16, Relu>`, `Dense<16, 3>`) learns from the 120 training rows of
//! `examples/data/iris.csv` (features standardized with the training rows' mean and population
//! standard deviation) with Adam and cross-entropy, then reports the test accuracy.
//!
//! By default the files go to `target/iris_export/` and the example says whether they equal
//! the committed ones in `examples/generated/` (training may differ by CPU and kernel; the
//! export of given weights never does). `--update` writes over the committed files.
//!
//! `cargo run --release --example 07_export [-- --update]`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use constnet::init::{self, Init};
use constnet::io::rust_source::to_rust;
use constnet::loss::{CrossEntropy, Loss};
use constnet::optim::{Adam, AdamConfig, Optimizer};
use constnet::{Dense, Layer, Params, Relu, TrainCtx, Zeros, seq};
use rand::RngExt;

type IrisNet = seq![Dense<4, 16, Relu>, Dense<16, 3>];

const TRAIN_ROWS: usize = 120;
const BATCH: usize = 8;
const EPOCHS: usize = 150;
const SEED: u64 = 7;
/// The example fails below this test accuracy (it reaches about 0.97).
const MINIMUM_ACCURACY: f64 = 0.9;

/// Rows of `examples/data/iris.csv`: four features and the class.
fn load_iris(path: &Path) -> Result<Vec<([f32; 4], usize)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .skip(1)
        .enumerate()
        .map(|(i, line)| {
            let fields: Vec<&str> = line.split(',').collect();
            let bad = || {
                format!(
                    "{}: line {}: expected 4 numbers and a class",
                    path.display(),
                    i + 2
                )
            };
            if fields.len() != 5 {
                return Err(bad());
            }
            let mut x = [0.0f32; 4];
            for (v, f) in x.iter_mut().zip(&fields) {
                *v = f.trim().parse().map_err(|_| bad())?;
            }
            let class = fields[4].trim().parse().map_err(|_| bad())?;
            Ok((x, class))
        })
        .collect()
}

/// Mean and population standard deviation of each feature over `rows`.
fn scaling(rows: &[([f32; 4], usize)]) -> ([f32; 4], [f32; 4]) {
    let n = rows.len() as f64;
    let mut mean = [0.0f32; 4];
    let mut std = [0.0f32; 4];
    for j in 0..4 {
        let m = rows.iter().map(|(x, _)| x[j] as f64).sum::<f64>() / n;
        let var = rows
            .iter()
            .map(|(x, _)| (x[j] as f64 - m).powi(2))
            .sum::<f64>()
            / n;
        mean[j] = m as f32;
        std[j] = var.sqrt() as f32;
    }
    (mean, std)
}

fn argmax(y: &[f32; 3]) -> usize {
    (0..3).fold(0, |best, i| if y[i] > y[best] { i } else { best })
}

fn run() -> Result<(), String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let rows = load_iris(&root.join("examples/data/iris.csv"))?;
    let (train, test) = rows.split_at(TRAIN_ROWS);
    let (mean, std) = scaling(train);
    let standardize =
        |x: &[f32; 4]| -> [f32; 4] { core::array::from_fn(|j| (x[j] - mean[j]) / std[j]) };
    let train: Vec<([f32; 4], usize)> = train.iter().map(|(x, c)| (standardize(x), *c)).collect();

    let mut net: IrisNet = init::seeded(Init::PyTorchDefault, SEED);
    let mut grads = IrisNet::zeros();
    let mut adam = Adam::<IrisNet>::new(AdamConfig::new().lr(1e-2));
    let mut ctx = TrainCtx::new(SEED);
    let mut cache = <IrisNet as Layer>::BatchCache::<BATCH>::zeros();
    let (mut x, mut t) = ([[0.0f32; 4]; BATCH], [0usize; BATCH]);
    let (mut y, mut dy) = ([[0.0f32; 3]; BATCH], [[0.0f32; 3]; BATCH]);
    let mut loss = 0.0;
    for _ in 0..EPOCHS {
        for _ in 0..TRAIN_ROWS / BATCH {
            for b in 0..BATCH {
                let (xi, ti) = train[ctx.rng().random_range(0..TRAIN_ROWS)];
                x[b] = xi;
                t[b] = ti;
            }
            grads.fill_zero();
            net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
            loss = CrossEntropy.loss_batch(&y, &t, &mut dy);
            net.backward_batch_params(&x, &y, &mut cache, &dy, &mut grads);
            adam.step(&mut net, &grads);
        }
    }
    let correct = test
        .iter()
        .filter(|(x, c)| argmax(&net.forward(&standardize(x))) == *c)
        .count();
    let accuracy = correct as f64 / test.len() as f64;
    println!(
        "trained {EPOCHS} epochs: last batch loss {loss:.4}, test accuracy {accuracy:.3} ({correct}/{})",
        test.len()
    );
    if accuracy < MINIMUM_ACCURACY {
        return Err(format!(
            "test accuracy {accuracy:.3} is below {MINIMUM_ACCURACY}"
        ));
    }

    let source = to_rust(&net, "NET", "IrisNet");
    let scaling_source = format!(
        "// Generated by examples/07_export.rs: the training rows' feature mean and standard deviation.\n\
         pub const MEAN: [f32; 4] = {mean:?};\npub const STD: [f32; 4] = {std:?};\n"
    );
    let weights = constnet::io::to_bytes(&net).map_err(|e| e.to_string())?;
    let committed = root.join("examples/generated");
    let out = if std::env::args().any(|a| a == "--update") {
        committed.clone()
    } else {
        root.join("target/iris_export")
    };
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let files: [(&str, &[u8]); 3] = [
        ("iris_net.rs", source.as_bytes()),
        ("iris_scaling.rs", scaling_source.as_bytes()),
        ("iris_net.cnet", &weights),
    ];
    for (name, bytes) in files {
        let path = out.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let same = std::fs::read(committed.join(name)).is_ok_and(|c| c == bytes);
        println!(
            "wrote {} ({} bytes){}",
            path.display(),
            bytes.len(),
            if out == committed {
                ""
            } else if same {
                ", the same as the committed file"
            } else {
                ", differs from the committed file (another CPU or kernel trains differently)"
            }
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("07_export: {e}");
            ExitCode::FAILURE
        }
    }
}
