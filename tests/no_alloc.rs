//! Hot paths allocate nothing: forward, forward_train, backward (single and batched) and every
//! optimizer step run under a counting global allocator that counts this thread's allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use constnet::loss::{CrossEntropy, Loss, Mse};
use constnet::optim::*;
use constnet::*;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns how many allocations this thread made inside it.
fn allocations_in(f: impl FnOnce()) -> usize {
    // The kernel choice is made once per process, on the first call (reading the
    // `CONSTNET_PORTABLE` variable allocates); an application makes it at start-up the same
    // way, before its real-time work.
    constnet::simd_level();
    let before = ALLOCATIONS.with(|a| a.get());
    f();
    ALLOCATIONS.with(|a| a.get()) - before
}

#[test]
fn the_counter_sees_allocations() {
    // The instrument itself must be able to fail.
    let n = allocations_in(|| {
        let v = std::hint::black_box(vec![1u8; 64]);
        drop(v);
    });
    assert!(n >= 1);
}

type Net = seq![Dense<8, 16, Relu>, Dense<16, 16, Tanh>, Dense<16, 4>];

fn net() -> Net {
    let mut net = Net::zeros();
    for (t, tensor) in net.tensors_mut().enumerate() {
        for (i, v) in tensor.iter_mut().enumerate() {
            *v = ((t * 31 + i * 7) % 13) as f32 / 13.0 - 0.5;
        }
    }
    net
}

#[test]
fn single_sample_forward_and_backward_allocate_nothing() {
    let net = net();
    let mut grads = Net::zeros();
    let mut ctx = TrainCtx::new(1);
    let x = [0.5f32; 8];
    let n = allocations_in(|| {
        let y = net.forward(&x);
        let (y2, cache) = net.forward_train(&x, &mut ctx);
        let mut dy = [0.0f32; 4];
        let _ = Mse.loss(&y2, &[0.0; 4], &mut dy);
        let dx = net.backward(&cache, &dy, &mut grads);
        net.backward_params(&cache, &dy, &mut grads);
        std::hint::black_box((y, dx));
    });
    assert_eq!(n, 0, "single-sample hot path allocated {n} times");
}

#[test]
fn batched_forward_and_backward_allocate_nothing() {
    let mut net = net();
    let mut grads = Net::zeros();
    let mut ctx = TrainCtx::new(1);
    let x = [[0.25f32; 8]; 16];
    let targets = [2usize; 16];
    let mut cache = <Net as Layer>::BatchCache::<16>::zeros();
    let mut y = [[0.0f32; 4]; 16];
    let mut dy = [[0.0f32; 4]; 16];
    let mut dx = [[0.0f32; 8]; 16];
    let n = allocations_in(|| {
        net.forward_batch(&x, &mut y, &mut cache);
        net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
        let _ = CrossEntropy.loss_batch(&y, &targets, &mut dy);
        net.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut grads);
        net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
        net.backward_batch_params(&x, &y, &mut cache, &dy, &mut grads);
        grads.fill_zero();
    });
    assert_eq!(n, 0, "batched hot path allocated {n} times");
}

#[test]
fn conv1d_streaming_and_windowed_passes_allocate_nothing() {
    // Depthwise-then-pointwise, dilation 2: a history of 4 frames for the first layer.
    type Depthwise = Conv1d<8, 8, 3, 20, 16, Relu, f32, 1, 0, 2, 8, 1>;
    type Pointwise = Conv1d<8, 4, 1, 16, 16, Tanh>;
    let mut first = Depthwise::zeros();
    let mut second = Pointwise::zeros();
    for (t, tensor) in first.tensors_mut().chain(second.tensors_mut()).enumerate() {
        for (i, v) in tensor.iter_mut().enumerate() {
            *v = ((t * 31 + i * 7) % 13) as f32 / 13.0 - 0.5;
        }
    }
    let mut history = Conv1dStream::<8, 4>::new();
    let mut pointwise = Conv1dStream::<8, 0>::new();
    let frames = [[0.25f32; 8]; 64];
    let mut hidden = [[0.0f32; 8]; 64];
    let mut out = [[0.0f32; 4]; 64];
    let n = allocations_in(|| {
        for (x, y) in frames.iter().zip(out.iter_mut()) {
            *y = second.step(&mut pointwise, &first.step(&mut history, x));
        }
        first.step_block(&mut history, &frames, &mut hidden);
        second.step_block(&mut pointwise, &hidden, &mut out);
        history.reset();
        std::hint::black_box(&out);
    });
    assert_eq!(n, 0, "streaming Conv1d allocated {n} times");
    let net = constnet::Chain::new(first, second);
    let mut grads = constnet::Chain::new(Depthwise::zeros(), Pointwise::zeros());
    let x = [[0.5f32; 8]; 20];
    let mut ctx = TrainCtx::new(1);
    let n = allocations_in(|| {
        let y = net.forward(&x);
        let (_, cache) = net.forward_train(&x, &mut ctx);
        let dx = net.backward(&cache, &y, &mut grads);
        std::hint::black_box((y, dx));
    });
    assert_eq!(n, 0, "windowed Conv1d allocated {n} times");
}

fn steps_allocate_nothing<O: Optimizer<Net>>(mut optimizer: O, name: &str) {
    let mut net = net();
    let mut grads = net;
    let n = allocations_in(|| {
        for _ in 0..3 {
            optimizer.step(&mut net, &grads);
        }
        let _ = clip_grad_norm(&mut grads, 0.5);
        clip_grad_value(&mut grads, 0.1);
    });
    assert_eq!(n, 0, "{name}: optimizer step allocated {n} times");
}

#[test]
fn optimizer_steps_allocate_nothing() {
    steps_allocate_nothing(
        Sgd::<Net>::new(SgdConfig::new().lr(0.1).momentum(0.9).nesterov(true)),
        "sgd",
    );
    steps_allocate_nothing(
        Adagrad::<Net>::new(AdagradConfig::new().lr_decay(0.1)),
        "adagrad",
    );
    steps_allocate_nothing(
        RmsProp::<Net>::new(RmsPropConfig::new().centered(true).momentum(0.5)),
        "rmsprop",
    );
    steps_allocate_nothing(Adam::<Net>::new(AdamConfig::new()), "adam");
    steps_allocate_nothing(Adam::<Net>::amsgrad(AdamConfig::new()), "adam amsgrad");
    steps_allocate_nothing(AdamW::<Net>::amsgrad(AdamConfig::new()), "adamw amsgrad");
    steps_allocate_nothing(AdamW::<Net>::new(AdamConfig::adamw()), "adamw");
    steps_allocate_nothing(Adamax::<Net>::new(AdamaxConfig::new()), "adamax");
    steps_allocate_nothing(NAdam::<Net>::new(NAdamConfig::new()), "nadam");
}

#[test]
fn schedules_and_penalties_allocate_nothing() {
    let net = net();
    let mut grads = Net::zeros();
    let mut cosine = CosineAnnealingLr::new(10, 0.0);
    let mut warmup = LinearWarmup::new(0.1, 3).followed_by(StepLr::new(2, 0.5));
    let n = allocations_in(|| {
        let mut lr = cosine.start(0.1) + warmup.start(0.1);
        for _ in 0..5 {
            lr += cosine.step(0.1) + warmup.step(0.1);
        }
        lr += l1_penalty(&net, &mut grads, 1e-4) + l2_penalty(&net, &mut grads, 1e-4);
        std::hint::black_box(lr);
    });
    assert_eq!(n, 0, "schedules/penalties allocated {n} times");
}

type NormNet = seq![
    Dense<8, 16, Identity>,
    layers::BatchNorm<16>,
    layers::ActivationLayer<Gelu, 16>,
    Dense<16, 16, Identity>,
    layers::LayerNorm<16>,
    Dense<16, 4, Softmax>
];

#[test]
fn norm_and_activation_layers_allocate_nothing() {
    let mut net = NormNet::zeros();
    constnet::init::init(
        &mut net,
        constnet::init::Init::PyTorchDefault,
        &mut constnet::init::rng_from_seed(5),
    );
    let mut grads = NormNet::zeros();
    let mut ctx = TrainCtx::new(1);
    let x: [[f32; 8]; 8] =
        core::array::from_fn(|b| core::array::from_fn(|i| (b * 8 + i) as f32 / 64.0));
    let mut cache = <NormNet as Layer>::BatchCache::<8>::zeros();
    let (mut y, mut dy, mut dx) = ([[0.0f32; 4]; 8], [[0.0f32; 4]; 8], [[0.0f32; 8]; 8]);
    let n = allocations_in(|| {
        net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
        let _ = Mse.loss_batch(&y, &[[0.25; 4]; 8], &mut dy);
        net.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut grads);
        net.forward_batch(&x, &mut y, &mut cache);
        std::hint::black_box(net.forward(&x[0]));
    });
    assert_eq!(n, 0, "norm/activation layers allocated {n} times");
}

#[test]
fn saving_and_loading_through_slices_allocate_nothing() {
    use constnet::io::{self, Checkpoint};
    let mut model = net();
    let mut adam = Adam::<Net>::new(AdamConfig::new());
    let mut schedule = StepLr::new(2, 0.5);
    let (mut ctx, mut step) = (TrainCtx::new(3), 7u64);
    let mut buf = [0u8; 8192];
    let n = allocations_in(|| {
        let len = io::write_to(&model, &mut buf).unwrap();
        let mut copy = Net::zeros();
        io::read_from(&mut copy, &buf[..len]).unwrap();
        assert!(copy == model);
        // Errors are built without allocating too.
        let err = io::read_from(&mut copy, &buf[..len - 1]).unwrap_err();
        assert!(matches!(err, io::Error::Truncated { .. }));
        let mut checkpoint = Checkpoint {
            model: &mut model,
            optimizer: &mut adam,
            schedule: &mut schedule,
            ctx: &mut ctx,
            step: &mut step,
        };
        let len = checkpoint.write_to(&mut buf).unwrap();
        checkpoint.read_from(&buf[..len]).unwrap();
    });
    assert_eq!(n, 0);
}

#[test]
fn a_guarded_step_allocates_nothing_even_on_a_short_batch() {
    use constnet::fit::{Clip, StepScratch, StepSettings, guarded_step};
    let mut model = net();
    let mut adam = Adam::<Net>::boxed(AdamConfig::new());
    let mut scratch = constnet::zeroed_box::<StepScratch<Net, 4, 8>>();
    let x: [[f32; 8]; 8] = core::array::from_fn(|b| core::array::from_fn(|i| (b + i) as f32 / 9.0));
    let targets = [2usize; 8];
    let settings = StepSettings {
        l1: 1e-4,
        l2: 1e-4,
        clip: Clip::Norm(1.0),
    };
    let mut ctx = TrainCtx::new(0);
    let n = allocations_in(|| {
        for rows in [8, 5, 1] {
            guarded_step(
                &mut model,
                &mut *adam,
                &CrossEntropy,
                &settings,
                &x,
                &targets,
                rows,
                &mut scratch,
                &mut ctx,
            )
            .unwrap();
        }
    });
    assert_eq!(n, 0, "guarded_step allocated {n} times");
}

#[test]
fn a_fit_run_allocates_only_before_its_first_epoch() {
    use constnet::fit::{DataSet, EarlyStopping, Fit, ReduceLrOnPlateau};
    let inputs: Vec<[f32; 8]> = (0..45)
        .map(|b| core::array::from_fn(|i| ((b * 7 + i * 3) % 11) as f32 / 11.0))
        .collect();
    let labels: Vec<usize> = (0..45).map(|b| b % 4).collect();
    // Allocations of a whole run, as a function of its number of epochs: with everything
    // turned on (validation, early stopping with restore, plateau, a schedule, clipping), the
    // count must not grow with the epochs (37 training samples: 4 full batches and a short
    // one per epoch).
    let run = |epochs: usize| {
        let mut model = net();
        let mut adam = Adam::<Net>::boxed(AdamConfig::new().lr(1e-3));
        let mut schedule = StepLr::new(2, 0.9);
        allocations_in(|| {
            let history = Fit::<8>::new(epochs)
                .early_stopping(EarlyStopping::new(1000))
                .reduce_lr_on_plateau(ReduceLrOnPlateau::new().patience(1))
                .schedule(&mut schedule, constnet::fit::ScheduleInterval::Step)
                .clip(constnet::fit::Clip::Norm(1.0))
                .run(
                    &mut model,
                    &mut *adam,
                    &CrossEntropy,
                    DataSet::new(&inputs[..37], &labels[..37]),
                    Some(DataSet::new(&inputs[37..], &labels[37..])),
                )
                .unwrap();
            assert_eq!(history.epochs.len(), epochs);
            drop(history);
        })
    };
    let (one, six) = (run(1), run(6));
    assert!(one > 0, "the run's set-up allocates its buffers");
    assert_eq!(one, six, "1 epoch: {one} allocations, 6 epochs: {six}");
}

#[test]
fn recurrent_streaming_and_bptt_steps_allocate_nothing() {
    type Rnn = seq![GruSequence<1, 8, 16>, Dense<8, 1>];
    type Lstm16 = seq![LstmSequence<1, 8, 16>, Dense<8, 1>];
    let gru: Rnn = init::seeded(init::Init::PyTorchDefault, 1);
    let lstm: Lstm16 = init::seeded(init::Init::PyTorchDefault, 2);
    let mut voices = [GruState::zeros(); 2];
    let mut lstm_state = LstmState::zeros();
    let buffer = [[0.25f32]; 64];
    let mut out = [[0.0f32; 8]; 64];
    let n = allocations_in(|| {
        for (i, x) in buffer.iter().enumerate() {
            let h = gru.first.cell.step(&mut voices[i % 2], x);
            std::hint::black_box(gru.second.forward(&h));
        }
        gru.first.cell.process(&mut voices[0], &buffer, &mut out);
        lstm.first.cell.process(&mut lstm_state, &buffer, &mut out);
    });
    assert_eq!(n, 0, "streaming allocated");

    // Whole chains through `Stream`, frame by frame and by buffers, a large LSTM too.
    type Wide = seq![Conv1d<1, 16, 3, 34, 32, Tanh>, LstmSequence<16, 128, 32>, Dense<128, 1>];
    let wide: Box<Wide> = init::boxed(init::Init::PyTorchDefault, 3);
    let mut gru_state = <Rnn as Stream>::State::zeros();
    let mut wide_state = <Wide as Stream>::State::zeros();
    let mut y = [[0.0f32; 1]; 64];
    let n = allocations_in(|| {
        for x in &buffer {
            std::hint::black_box(gru.step(&mut gru_state, x));
            std::hint::black_box(wide.step(&mut wide_state, x));
        }
        gru.process(&mut gru_state, &buffer, &mut y);
        wide.process(&mut wide_state, &buffer, &mut y);
    });
    assert_eq!(n, 0, "streaming a chain allocated");

    // The batched BPTT at batches below, at and above the 16 lanes of its reductions, and
    // a wide LSTM (AVX-512 steps where the CPU has them) at batch 32.
    fn bptt_steps<M, const S: usize, const IN: usize, const B: usize>(mut net: M, name: &str)
    where
        M: Layer<Input = [[f32; IN]; S], Output = [f32; 1], Scalar = f32> + Copy,
        M::BatchCache<B>: constnet::ZeroBits,
    {
        let mut grads = M::zeros();
        let mut adam = Adam::<M>::new(AdamConfig::new());
        let mut cache = constnet::zeroed_box::<M::BatchCache<B>>();
        let mut x = constnet::zeroed_box::<[[[f32; IN]; S]; B]>();
        for (b, xb) in x.iter_mut().enumerate() {
            for (t, xt) in xb.iter_mut().enumerate() {
                xt.fill(((b * 3 + t) % 7) as f32 * 0.1 - 0.3);
            }
        }
        let t = [[1.0f32]; B];
        let (mut y, mut dy) = ([[0.0f32; 1]; B], [[0.0f32; 1]; B]);
        let mut ctx = TrainCtx::new(0);
        let n = allocations_in(|| {
            for _ in 0..3 {
                grads.fill_zero();
                net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
                Mse.loss_batch(&y, &t, &mut dy);
                net.backward_batch_params(&x, &y, &mut cache, &dy, &mut grads);
                adam.step(&mut net, &grads);
            }
        });
        assert_eq!(n, 0, "{name}: a BPTT step at batch {B} allocated");
        assert!(
            y.iter().all(|v| v[0].is_finite()),
            "{name}: trained to a finite output"
        );
    }
    bptt_steps::<_, 16, 1, 4>(gru, "GRU");
    bptt_steps::<_, 16, 1, 16>(gru, "GRU");
    bptt_steps::<_, 16, 1, 21>(gru, "GRU");
    bptt_steps::<_, 16, 1, 4>(lstm, "LSTM");
    bptt_steps::<_, 16, 1, 16>(lstm, "LSTM");
    type WideLstm = seq![LstmSequence<16, 64, 32>, Dense<64, 1>];
    let wide_lstm: Box<WideLstm> = init::boxed(init::Init::PyTorchDefault, 4);
    bptt_steps::<_, 32, 16, 32>(*wide_lstm, "LSTM 16-64");
}

#[test]
fn a_cnn_training_step_and_inference_allocate_nothing() {
    // Conv2d, BatchNorm2d, ActivationMap, a residual block, pooling, Flatten and Dense.
    type Cnn = seq![
        Conv2d<1, 4, 3, 3, 8, 8, 8, 8, Identity, f32, NoBias<Padded<1, 1>>>,
        BatchNorm2d<4, 8, 8>,
        ActivationMap<Relu, [[[f32; 4]; 8]; 8]>,
        Residual<
            seq![
                Conv2d<4, 4, 3, 3, 8, 8, 8, 8, Relu, f32, Same>,
                DepthwiseConv2d<4, 3, 3, 8, 8, 8, 8, Identity, f32, Padded<1, 1>>
            ],
            Skip<[[[f32; 4]; 8]; 8]>,
            Relu,
        >,
        MaxPool2d<4, 2, 2, 8, 8, 4, 4>,
        Flatten<[[[f32; 4]; 4]; 4], 64>,
        Dense<64, 10>
    ];
    const B: usize = 8;
    let mut net: Box<Cnn> = init::boxed(init::Init::HeUniform, 1);
    let mut grads = Cnn::boxed_zeros();
    let mut adam = Adam::<Cnn>::boxed(AdamConfig::new());
    let mut cache = Box::new(<Cnn as Layer>::BatchCache::<B>::zeros());
    let x: Box<[[[[f32; 1]; 8]; 8]; B]> = Box::new(core::array::from_fn(|b| {
        core::array::from_fn(|i| {
            core::array::from_fn(|j| [((b * 64 + i * 8 + j) % 7) as f32 / 7.0])
        })
    }));
    let labels: [usize; B] = core::array::from_fn(|b| b % 10);
    let (mut y, mut dy) = ([[0.0f32; 10]; B], [[0.0f32; 10]; B]);
    let mut ctx = TrainCtx::new(0);
    let n = allocations_in(|| {
        for _ in 0..3 {
            grads.fill_zero();
            net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
            CrossEntropy.loss_batch(&y, &labels, &mut dy);
            net.backward_batch_params(&x, &y, &mut cache, &dy, &mut grads);
            adam.step(&mut net, &grads);
        }
        net.forward_batch(&x, &mut y, &mut cache);
        std::hint::black_box(net.forward(&x[0]));
    });
    assert_eq!(n, 0, "a CNN step allocated {n} times");
}

/// Large products allocate nothing either (the `matrixmultiply` feature, which allocates its
/// packing buffers, is opt-in): M (784-128-10) trained with Adam at batches 32 and 256, and
/// a batch of 256 through inference.
#[cfg(not(feature = "matrixmultiply"))]
#[test]
fn large_products_allocate_nothing() {
    type M = seq![Dense<784, 128, Relu>, Dense<128, 10>];
    fn steps<const B: usize>(net: &mut M, adam: &mut Adam<M>) -> usize {
        let mut grads = M::boxed_zeros();
        let mut cache = zeroed_box::<<M as Layer>::BatchCache<B>>();
        let mut x = zeroed_box::<[[f32; 784]; B]>();
        for (b, row) in x.iter_mut().enumerate() {
            for (i, v) in row.iter_mut().enumerate() {
                *v = ((b * 784 + i) % 13) as f32 / 13.0;
            }
        }
        let mut labels = zeroed_box::<[usize; B]>();
        for (b, label) in labels.iter_mut().enumerate() {
            *label = b % 10;
        }
        let mut y = zeroed_box::<[[f32; 10]; B]>();
        let mut dy = zeroed_box::<[[f32; 10]; B]>();
        let mut ctx = TrainCtx::new(0);
        allocations_in(|| {
            for _ in 0..5 {
                grads.fill_zero();
                net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
                CrossEntropy.loss_batch(&y, &labels, &mut dy);
                net.backward_batch_params(&x, &y, &mut cache, &dy, &mut grads);
                adam.step(net, &grads);
            }
            for _ in 0..5 {
                net.forward_batch(&x, &mut y, &mut cache);
            }
        })
    }
    let mut net: Box<M> = init::boxed(init::Init::HeUniform, 1);
    let mut adam = Adam::<M>::boxed(AdamConfig::new());
    assert_eq!(steps::<32>(&mut net, &mut adam), 0, "batch 32 allocated");
    assert_eq!(steps::<256>(&mut net, &mut adam), 0, "batch 256 allocated");
}

/// The int8 networks of the benchmarks (their types; zero weights run the same code).
#[path = "../benches/workloads/mlperf_int8.rs"]
mod mlperf_int8;

/// Int8 networks generated from TensorFlow Lite files (real weights, LiteRT's exact scales).
#[allow(dead_code)]
mod digits_mlp_int8 {
    include!("generated/digits_mlp_64_32_10_int8.rs");
}
#[allow(dead_code)]
mod digits_resnet_int8 {
    include!("generated/digits_resnet_int8.rs");
}

#[test]
fn int8_forward_passes_allocate_nothing() {
    use constnet::quant::{Int8Layer, boxed_zeros};
    fn forward<L: Int8Layer>() -> usize {
        let net = boxed_zeros::<L>();
        let x = boxed_zeros::<L::Input>();
        let mut y = boxed_zeros::<L::Output>();
        let mut scratch = boxed_zeros::<L::Scratch>();
        allocations_in(|| {
            for _ in 0..2 {
                net.forward_into(&x, &mut y, &mut scratch);
            }
        })
    }
    assert_eq!(forward::<mlperf_int8::MInt8>(), 0, "M");
    assert_eq!(forward::<mlperf_int8::AdInt8>(), 0, "AD");
    assert_eq!(forward::<mlperf_int8::KwsInt8>(), 0, "KWS");
    assert_eq!(forward::<mlperf_int8::ResNet8Int8>(), 0, "ResNet-8");
    assert_eq!(forward::<mlperf_int8::VwwInt8>(), 0, "VWW");
    let mut logits = [0i8; 10];
    let n = allocations_in(|| {
        digits_mlp_int8::forward_flat(&digits_mlp_int8::MLP, &[3; 64], &mut logits);
        digits_resnet_int8::forward_flat(&digits_resnet_int8::RESNET, &[-5; 64], &mut logits);
    });
    assert_eq!(n, 0, "generated forward_flat");
}
