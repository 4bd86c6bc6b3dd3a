//! Data-parallel training: the same bits whatever the thread count, the same gradients as one
//! big batch (up to summation order), running statistics from every chunk, and a clear error
//! for a batch of the wrong size. (`data_parallel_alloc.rs` checks that steps allocate
//! nothing.)

use constnet::init::{self, Init};
use constnet::layers::BatchNorm;
use constnet::loss::{CrossEntropy, Loss, Mse};
use constnet::optim::{Adam, AdamConfig, Optimizer};
use constnet::parallel::{DataParallel, ParallelError};
use constnet::{Dense, Identity, Layer, Params, Relu, Tanh, TrainCtx, Zeros, seq};

type Net = seq![Dense<6, 24, Tanh>, Dense<24, 16, Relu>, Dense<16, 3, Identity>];
const CHUNKS: usize = 4;
const C: usize = 8;

fn data() -> (Vec<[f32; 6]>, Vec<[f32; 3]>, Vec<usize>) {
    let x: Vec<[f32; 6]> = (0..CHUNKS * C)
        .map(|b| core::array::from_fn(|i| ((b * 37 + i * 11) % 29) as f32 / 29.0 - 0.5))
        .collect();
    let t = x.iter().map(|r| [r[0] - r[1], r[2] * r[3], 0.25]).collect();
    let classes = (0..CHUNKS * C).map(|b| (b * 7) % 3).collect();
    (x, t, classes)
}

/// Five Adam steps on `threads` threads; the model's bits and the losses.
fn train(threads: usize) -> (Vec<u32>, Vec<f32>) {
    let (x, t, _) = data();
    let mut net: Net = init::seeded(Init::XavierUniform, 3);
    let mut adam = Adam::<Net>::new(AdamConfig::new().lr(0.01));
    let losses = DataParallel::<Net, Mse, 3, C>::run(&mut net, Mse, CHUNKS, threads, 0, |dp| {
        (0..5)
            .map(|_| dp.step(&x, &t, &mut adam).unwrap())
            .collect()
    });
    let bits = net.tensors().flatten().map(|v| v.to_bits()).collect();
    (bits, losses)
}

#[test]
fn the_result_is_bit_identical_whatever_the_thread_count() {
    let one = train(1);
    assert!(one.1[4] < one.1[0], "training lowers the loss: {:?}", one.1);
    for threads in [2, 3, 4, 7] {
        assert_eq!(train(threads), one, "{threads} threads differ from one");
    }
}

#[test]
fn gradients_match_one_big_batch() {
    let (x, t, _) = data();
    let net: Net = init::seeded(Init::XavierUniform, 3);
    // One batch of 32 through the plain batched API.
    let xb: [[f32; 6]; 32] = core::array::from_fn(|b| x[b]);
    let tb: [[f32; 3]; 32] = core::array::from_fn(|b| t[b]);
    let mut whole = net;
    let mut cache = <Net as Layer>::BatchCache::<32>::zeros();
    let (mut y, mut dy) = ([[0.0f32; 3]; 32], [[0.0f32; 3]; 32]);
    whole.forward_train_batch(&xb, &mut y, &mut cache, &mut TrainCtx::new(0));
    let want_loss = Mse.loss_batch(&y, &tb, &mut dy);
    let mut want = Net::zeros();
    whole.backward_batch_params(&xb, &y, &mut cache, &dy, &mut want);
    // The same batch in 4 chunks on 2 threads, with a do-nothing optimizer.
    struct Keep;
    impl Optimizer<Net> for Keep {
        fn step(&mut self, _: &mut Net, _: &Net) {}
        fn lr(&self) -> f64 {
            0.0
        }
        fn set_lr(&mut self, _: f64) {}
    }
    let mut model = net;
    DataParallel::<Net, Mse, 3, C>::run(&mut model, Mse, CHUNKS, 2, 0, |dp| {
        let loss = dp.step(&x, &t, &mut Keep).unwrap();
        assert!(
            (loss - want_loss).abs() <= 1e-6 * want_loss.abs(),
            "{loss} vs {want_loss}"
        );
        dp.inspect_grads(|grads| {
            for (got, want) in grads.tensors().flatten().zip(want.tensors().flatten()) {
                assert!(
                    (got - want).abs() <= 1e-6 * want.abs().max(1e-3),
                    "{got} vs {want}"
                );
            }
        });
    });
    assert_eq!(model, net, "the do-nothing optimizer left the model alone");
}

#[test]
fn batch_norm_running_statistics_come_from_every_chunk_in_order() {
    type Normed = seq![Dense<6, 8, Identity>, BatchNorm<8>, Dense<8, 3, Identity>];
    let (x, _, classes) = data();
    let run = |threads| {
        let mut net: Normed = init::seeded(Init::HeUniform, 5);
        let mut adam = Adam::<Normed>::new(AdamConfig::new());
        DataParallel::<Normed, CrossEntropy, 3, C>::run(
            &mut net,
            CrossEntropy,
            CHUNKS,
            threads,
            0,
            |dp| {
                for _ in 0..3 {
                    dp.step(&x, &classes, &mut adam).unwrap();
                }
            },
        );
        net
    };
    let one = run(1);
    assert_ne!(
        one.second.first.running_mean(),
        &[0.0; 8],
        "running mean moved"
    );
    let two = run(2);
    let bits = |n: &Normed| {
        n.second
            .first
            .running_var()
            .iter()
            .chain(n.second.first.running_mean())
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&one), bits(&two));
}

#[test]
fn a_batch_of_the_wrong_size_is_an_error() {
    let (x, t, _) = data();
    let mut net: Net = init::seeded(Init::XavierUniform, 3);
    let before = net;
    let mut adam = Adam::<Net>::new(AdamConfig::new());
    let err = DataParallel::<Net, Mse, 3, C>::run(&mut net, Mse, CHUNKS, 2, 0, |dp| {
        dp.step(&x[..31], &t[..31], &mut adam).unwrap_err()
    });
    assert_eq!(
        err,
        ParallelError::BatchSize {
            expected: 32,
            inputs: 31,
            targets: 31
        }
    );
    assert!(err.to_string().contains("expected 32 rows"));
    assert_eq!(net, before, "the model is untouched");
}
