//! Shape adapters: `Flatten`, `GlobalAvgPool1d`, `GlobalMaxPool1d` and `LastFrame` pass the
//! finite-difference check; a TCN classifier (dilated convolutions, pooling, a dense head)
//! trains through `Fit`; and one trained on windows with `LastFrame` streams with the bits of
//! its windowed forward.

use constnet::fit::{DataSet, Fit};
use constnet::init::{self, Init};
use constnet::loss::CrossEntropy;
use constnet::optim::{Adam, AdamConfig};
use constnet::testing::{GradCheckConfig, grad_check, grad_check_batch};
use constnet::{
    Conv1d, Dense, Flatten, GlobalAvgPool1d, GlobalMaxPool1d, LastFrame, Layer, Relu, Stream, Tanh,
    Zeros, seq,
};

fn values<const N: usize>(seed: u64) -> [f64; N] {
    core::array::from_fn(|i| {
        (((i as u64 + 1) * 2654435761 + seed * 40503) % 1000) as f64 / 500.0 - 1.0
    })
}

fn frames<const C: usize, const L: usize>(seed: u64) -> [[f64; C]; L] {
    core::array::from_fn(|t| values::<C>(seed * 131 + t as u64))
}

#[test]
fn the_adapters_pass_the_gradient_check() {
    let config = GradCheckConfig::default();
    let x = frames::<3, 5>(1);
    grad_check(&Flatten::<[[f64; 3]; 5], 15>::new(), &x, config).unwrap();
    grad_check(&GlobalAvgPool1d::<3, 5, f64>::new(), &x, config).unwrap();
    grad_check(&GlobalMaxPool1d::<3, 5, f64>::new(), &x, config).unwrap();
    grad_check(&LastFrame::<3, 5, f64>::new(), &x, config).unwrap();
    let image: [[[f64; 2]; 4]; 3] = core::array::from_fn(|i| frames::<2, 4>(7 + i as u64));
    grad_check(&Flatten::<[[[f64; 2]; 4]; 3], 24>::new(), &image, config).unwrap();
    grad_check_batch(
        &GlobalMaxPool1d::<3, 5, f64>::new(),
        &[x, frames(2)],
        config,
    )
    .unwrap();
}

#[test]
fn flatten_follows_pytorch_channels_first_order() {
    // An image [H = 2][W = 3][C = 2]: PyTorch's flatten of [C][H][W] is channel by channel.
    let image: [[[f32; 2]; 3]; 2] = core::array::from_fn(|i| {
        core::array::from_fn(|j| core::array::from_fn(|c| (100 * c + 10 * i + j) as f32))
    });
    let flat = Flatten::<[[[f32; 2]; 3]; 2], 12>::new().forward(&image);
    assert_eq!(
        flat,
        [
            0.0, 1.0, 2.0, 10.0, 11.0, 12.0, 100.0, 101.0, 102.0, 110.0, 111.0, 112.0
        ]
    );
    let back = Flatten::<[[[f32; 2]; 3]; 2], 12>::new().backward(&(), &flat, &mut Zeros::zeros());
    assert_eq!(back, image, "backward is the inverse permutation");
}

/// Windows of 32 samples of a noisy sine, class 0 slow (period 16–24 samples), class 1 fast
/// (period 5–8): seeded.
fn tcn_data(n: usize, seed: u64) -> (Vec<[[f32; 1]; 32]>, Vec<usize>) {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for i in 0..n {
        let class = i % 2;
        let period = if class == 0 {
            16.0 + 8.0 * uniform()
        } else {
            5.0 + 3.0 * uniform()
        };
        let phase = uniform() * core::f32::consts::TAU;
        xs.push(core::array::from_fn(|t| {
            [
                (core::f32::consts::TAU * t as f32 / period + phase).sin()
                    + 0.3 * (uniform() - 0.5),
            ]
        }));
        ys.push(class);
    }
    (xs, ys)
}

#[test]
fn a_tcn_classifier_trains_through_fit() {
    type Tcn = seq![
        Conv1d<1, 8, 3, 32, 30, Relu>,
        Conv1d<8, 8, 3, 30, 26, Relu, f32, 1, 0, 2>,
        GlobalAvgPool1d<8, 26>,
        Dense<8, 2>
    ];
    let (train_x, train_y) = tcn_data(256, 1);
    let (test_x, test_y) = tcn_data(128, 2);
    let mut net: Tcn = init::seeded(Init::PyTorchDefault, 3);
    let accuracy = |net: &Tcn| {
        let right = test_x
            .iter()
            .zip(&test_y)
            .filter(|&(x, &y)| {
                let logits = net.forward(x);
                usize::from(logits[1] > logits[0]) == y
            })
            .count();
        right as f64 / test_x.len() as f64
    };
    let before = accuracy(&net);
    let mut adam = Adam::<Tcn>::new(AdamConfig::new().lr(1e-2));
    let history = Fit::<16>::new(20)
        .seed(4)
        .run(
            &mut net,
            &mut adam,
            &CrossEntropy,
            DataSet::new(&train_x, &train_y),
            None,
        )
        .expect("finite losses");
    let (first, last) = (
        history.epochs[0].train_loss,
        history.last().unwrap().train_loss,
    );
    let after = accuracy(&net);
    assert!(last < 0.5 * first, "the loss falls: {first} -> {last}");
    assert!(
        after >= 0.9 && after > before,
        "accuracy {before} -> {after}"
    );
}

#[test]
fn a_tcn_trained_on_windows_streams_with_its_windowed_bits() {
    type Tcn = seq![
        Conv1d<1, 8, 3, 16, 14, Tanh>,
        Conv1d<8, 8, 3, 14, 10, Tanh, f32, 1, 0, 2>,
        LastFrame<8, 10>,
        Dense<8, 2>
    ];
    let net: Tcn = init::seeded(Init::PyTorchDefault, 5);
    let signal: Vec<[f32; 1]> = (0..300).map(|n| [((n as f32) * 0.21).sin()]).collect();
    let mut state = <Tcn as Stream>::State::zeros();
    for (t, x) in signal.iter().enumerate() {
        let streamed = net.step(&mut state, x);
        if t >= 15 {
            let window: [[f32; 1]; 16] = core::array::from_fn(|k| signal[t - 15 + k]);
            let windowed = net.forward(&window);
            assert_eq!(
                streamed.map(f32::to_bits),
                windowed.map(f32::to_bits),
                "sample {t}"
            );
        }
    }
}
