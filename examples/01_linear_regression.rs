//! Fits `y = 3x + 2 + noise` with one `Dense<1, 1>` and plain full-batch gradient descent,
//! and recovers the slope and intercept.
//!
//! `cargo run --release --example 01_linear_regression`

use constnet::loss::{Loss, Mse};
use constnet::optim::{Optimizer, Sgd, SgdConfig};
use constnet::{Dense, Identity, Layer, Params, TrainCtx, Zeros};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};

const SAMPLES: usize = 64;
type Model = Dense<1, 1, Identity, f64>;

fn main() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let noise = Normal::new(0.0, 0.1).unwrap();
    let x: [[f64; 1]; SAMPLES] = core::array::from_fn(|_| [rng.random::<f64>() * 4.0 - 2.0]);
    let y: [[f64; 1]; SAMPLES] =
        core::array::from_fn(|i| [3.0 * x[i][0] + 2.0 + noise.sample(&mut rng)]);

    let mut model = Model::zeros();
    let mut grads = Model::zeros();
    let mut optimizer = Sgd::<Model>::new(SgdConfig::new().lr(0.1));
    let mut cache = <Model as Layer>::BatchCache::<SAMPLES>::zeros();
    let (mut prediction, mut dy) = ([[0.0; 1]; SAMPLES], [[0.0; 1]; SAMPLES]);
    let mut ctx = TrainCtx::new(0);
    let mut loss = f64::NAN;
    for epoch in 0..200 {
        grads.fill_zero();
        model.forward_train_batch(&x, &mut prediction, &mut cache, &mut ctx);
        loss = Mse.loss_batch(&prediction, &y, &mut dy);
        model.backward_batch_params(&x, &prediction, &mut cache, &dy, &mut grads);
        optimizer.step(&mut model, &grads);
        if epoch % 50 == 0 {
            println!("epoch {epoch:3}: mse {loss:.5}");
        }
    }
    let (slope, intercept) = (model.weight(0, 0), model.bias()[0]);
    println!(
        "final mse {loss:.5}: y = {slope:.3}·x + {intercept:.3} (true: y = 3·x + 2, noise σ = 0.1)"
    );
    assert!(
        (slope - 3.0).abs() < 0.05 && (intercept - 2.0).abs() < 0.05,
        "did not recover the line"
    );
}
