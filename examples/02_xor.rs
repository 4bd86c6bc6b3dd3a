//! Learns XOR, the classic problem no single linear layer can solve, with a small two-layer
//! network: `Dense<2, 8, Tanh>` then `Dense<8, 1>` producing a logit, trained on the full batch
//! of the 4 points with binary cross-entropy on logits and Adam.
//!
//! `cargo run --release --example 02_xor`

use constnet::init::{self, Init};
use constnet::loss::{BceWithLogits, Loss};
use constnet::optim::{Adam, AdamConfig, Optimizer};
use constnet::{Dense, Identity, Layer, Params, Tanh, TrainCtx, Zeros, seq};

type Net = seq![Dense<2, 8, Tanh, f32>, Dense<8, 1, Identity, f32>];

const INPUTS: [[f32; 2]; 4] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
const TARGETS: [[f32; 1]; 4] = [[0.0], [1.0], [1.0], [0.0]];
const STEPS: usize = 1000;

fn sigmoid(logit: f32) -> f32 {
    1.0 / (1.0 + (-logit).exp())
}

fn main() {
    let mut net: Net = init::seeded(Init::XavierUniform, 42);
    let mut grads = Net::zeros();
    let mut optimizer = Adam::<Net>::new(AdamConfig::new().lr(0.05));
    let mut cache = <Net as Layer>::BatchCache::<4>::zeros();
    let (mut logits, mut dlogits) = ([[0.0; 1]; 4], [[0.0; 1]; 4]);
    let mut ctx = TrainCtx::new(0);
    let mut loss = f32::NAN;
    for step in 0..STEPS {
        grads.fill_zero();
        net.forward_train_batch(&INPUTS, &mut logits, &mut cache, &mut ctx);
        loss = BceWithLogits.loss_batch(&logits, &TARGETS, &mut dlogits);
        net.backward_batch_params(&INPUTS, &logits, &mut cache, &dlogits, &mut grads);
        optimizer.step(&mut net, &grads);
        if step % 200 == 0 {
            println!("step {step:4}: bce {loss:.5}");
        }
    }
    println!("final bce after {STEPS} steps: {loss:.5}");

    let mut all_correct = true;
    for (x, [target]) in INPUTS.iter().zip(TARGETS) {
        let [logit] = net.forward(x);
        let probability = sigmoid(logit);
        let predicted = if probability > 0.5 { 1.0 } else { 0.0 };
        all_correct &= predicted == target;
        println!(
            "{} xor {} -> p(1) = {probability:.4} (predicted {predicted}, target {target})",
            x[0], x[1]
        );
    }
    assert!(all_correct, "XOR was not learned: a point is misclassified");
}
