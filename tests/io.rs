//! The own weight format and checkpoints: round trips (settings and buffers included), every
//! error named with the model untouched, crash-safe saving, and bit-identical resumption.

use constnet::init::{self, Init};
use constnet::io::rust_source::to_rust;
use constnet::io::{self, Checkpoint};
use constnet::loss::{CrossEntropy, Loss};
use constnet::optim::*;
use constnet::{
    ActivationLayer, BatchNorm, Dense, Dropout, Identity, Layer, LayerNorm, LeakyRelu, Relu,
    Softplus, Tanh, TrainCtx, Zeros, seq,
};
use rand::RngExt;

type Net = seq![
    Dense<4, 16, LeakyRelu>,
    BatchNorm<16>,
    ActivationLayer<Softplus, 16>,
    Dense<16, 8, Tanh>,
    LayerNorm<8>,
    Dense<8, 3>
];

/// A network whose every tensor, buffer and setting differs from the defaults.
fn unusual_net(seed: u64) -> Net {
    let mut net: Net = init::seeded(Init::HeNormal, seed);
    net.first.activation.negative_slope = 0.2 + seed as f64;
    let bn = &mut net.second.first;
    bn.set_running_mean([0.5; 16]);
    bn.set_running_var([2.5; 16]);
    bn.eps = 1e-3;
    bn.momentum = 0.25;
    bn.num_batches_tracked = 17 + seed;
    net.second.second.first.activation.beta = 2.0;
    net.second.second.second.second.first.eps = 1e-6;
    net
}

#[test]
fn model_round_trip_keeps_buffers_and_settings() {
    let net = unusual_net(1);
    let bytes = io::to_bytes(&net).unwrap();
    assert_eq!(bytes.len(), io::encoded_len(&net));
    let mut loaded = Net::zeros();
    io::read_from(&mut loaded, &bytes).unwrap();
    assert_eq!(loaded, net);
    // f64 too, into a slice without allocating.
    type Net64 =
        seq![Dense<3, 5, Relu, f64>, LayerNorm<5, f64>, Dense<5, 2, constnet::Identity, f64>];
    let net64: Net64 = init::seeded(Init::PyTorchDefault, 4);
    let mut buf = [0u8; 1024];
    let len = io::write_to(&net64, &mut buf).unwrap();
    let mut back = Net64::zeros();
    io::read_from(&mut back, &buf[..len]).unwrap();
    assert_eq!(back, net64);
    assert!(matches!(
        io::write_to(&net64, &mut buf[..len - 1]),
        Err(io::Error::BufferTooSmall { .. })
    ));
}

/// Loads `bytes` into a copy of `unusual_net(9)` and returns the error message, checking
/// that the model did not change.
fn load_error<M: constnet::Named + PartialEq + Copy + core::fmt::Debug>(
    model: M,
    bytes: &[u8],
) -> String {
    let mut target = model;
    let err = io::read_from(&mut target, bytes).unwrap_err().to_string();
    assert_eq!(target, model, "the model changed on error: {err}");
    err
}

/// Recomputes the checksum after an edit of the contents.
fn reseal(bytes: &mut [u8]) {
    let n = bytes.len() - 4;
    let crc = crc32(&bytes[..n]);
    bytes[n..].copy_from_slice(&crc.to_le_bytes());
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

#[test]
fn every_error_is_named_and_leaves_the_model_untouched() {
    let bytes = io::to_bytes(&unusual_net(1)).unwrap();
    let target = unusual_net(9);

    let mut wrong = bytes.clone();
    wrong[0] = b'X';
    assert_eq!(
        load_error(target, &wrong),
        "not a constnet file (wrong magic bytes)"
    );

    let mut wrong = bytes.clone();
    wrong[8] = 7;
    assert_eq!(
        load_error(target, &wrong),
        "unsupported format version 7 (this build reads version 1)"
    );

    let mut wrong = bytes.clone();
    wrong[10] = 2;
    assert_eq!(load_error(target, &wrong), "not a constnet model file");

    for cut in [3, 12, 40, bytes.len() / 2, bytes.len() - 1] {
        let err = load_error(target, &bytes[..cut]);
        assert!(err.starts_with("truncated file"), "{cut}: {err}");
    }

    let mut wrong = bytes.clone();
    let last_data = bytes.len() - 5;
    wrong[last_data] ^= 0x10;
    assert!(load_error(target, &wrong).starts_with("checksum mismatch"));

    let mut wrong = bytes.clone();
    wrong.push(0);
    assert_eq!(
        load_error(target, &wrong),
        "malformed header: bytes after the checksum"
    );

    // A well-formed file of another network: count, then name, then shape.
    let other: seq![Dense<4, 16>, Dense<16, 3>] = init::seeded(Init::HeUniform, 0);
    let err = load_error(target, &io::to_bytes(&other).unwrap());
    assert_eq!(err, "expected 19 tensors and settings, found 4 in the file");

    let wider: seq![Dense<4, 20>, Dense<20, 3>] = init::seeded(Init::HeUniform, 0);
    let err = load_error(other, &io::to_bytes(&wider).unwrap());
    assert_eq!(err, "0.weight: expected [16, 4] f32, found [20, 4] f32");

    let wider_out: seq![Dense<4, 16>, Dense<16, 4>] = init::seeded(Init::HeUniform, 0);
    let err = load_error(other, &io::to_bytes(&wider_out).unwrap());
    assert_eq!(err, "1.weight: expected [3, 16] f32, found [4, 16] f32");

    let renamed: seq![Dense<4, 16, Relu>, Dense<16, 3>] = init::seeded(Init::HeUniform, 0);
    let err = load_error(other, &io::to_bytes(&renamed).unwrap());
    assert_eq!(err, "expected 1.weight, found 2.weight");

    let double: seq![Dense<4, 16, constnet::Identity, f64>, Dense<16, 3, constnet::Identity, f64>] =
        init::seeded(Init::HeUniform, 0);
    let err = load_error(other, &io::to_bytes(&double).unwrap());
    assert_eq!(err, "0.weight: expected [16, 4] f32, found [16, 4] f64");

    // A lying entry count, resealed so that only the cap stops it.
    let mut lying = bytes.clone();
    lying[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    reseal(&mut lying);
    assert_eq!(
        load_error(target, &lying),
        "the entry count is 4294967295, more than the limit of 65536"
    );
    // A lying dimension: the data it announces is not there.
    let mut lying = bytes.clone();
    let first_dim = 16 + 1 + "0.weight".len() + 2;
    lying[first_dim..first_dim + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    reseal(&mut lying);
    assert!(load_error(target, &lying).starts_with("truncated file"));
}

#[test]
fn save_replaces_the_file_through_a_temporary_and_load_reads_it() {
    let dir = std::env::temp_dir().join(format!("constnet-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("net.cnet");
    std::fs::write(&path, b"an older file").unwrap();
    let net = unusual_net(2);
    io::save(&net, &path).unwrap();
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["net.cnet"], "no temporary file left behind");
    let mut back = Net::zeros();
    io::load(&mut back, &path).unwrap();
    assert_eq!(back, net);
    // A save that fails midway (here: its temporary file cannot be created) leaves the old
    // file whole.
    let blocker = dir.join(format!(".net.cnet.{}.tmp", std::process::id()));
    std::fs::create_dir(&blocker).unwrap();
    let old = std::fs::read(&path).unwrap();
    assert!(io::save(&unusual_net(3), &path).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), old);
    std::fs::remove_dir(&blocker).unwrap();
    let missing = io::load(&mut back, dir.join("none.cnet")).unwrap_err();
    assert!(missing.to_string().starts_with("I/O error"), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}

type WithDropout = seq![Dense<2, 2, Relu>, Dropout<2>, Dense<2, 1>];

/// Builds the tokens into a `static` and also returns them as text: the exporter's output
/// must be that text, and the `static` must equal the exported network.
macro_rules! baked {
    ($($expr:tt)*) => {{
        static BAKED: WithDropout = $($expr)*;
        (stringify!($($expr)*), &BAKED)
    }};
}

#[test]
fn dropout_p_round_trips_through_the_own_format_and_rust_source() {
    let net: WithDropout = constnet::Chain::new(
        Dense::new([[0.5, -1.25], [2.0, 0.25]], [0.125, -0.5], Relu),
        constnet::Chain::new(
            Dropout::new(0.2),
            Dense::new([[1.5, -0.75]], [0.0], Identity),
        ),
    );
    // Own format: `p` is the setting `2.p`, between the Linear modules 0 and 3.
    let bytes = io::to_bytes(&net).unwrap();
    let mut back = WithDropout::zeros();
    assert_eq!(back.second.first.p, 0.5);
    io::read_from(&mut back, &bytes).unwrap();
    assert_eq!(back, net);
    let dir = std::env::temp_dir().join(format!("constnet-dropout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dropout.cnet");
    io::save(&net, &path).unwrap();
    let mut from_file = WithDropout::zeros();
    io::load(&mut from_file, &path).unwrap();
    assert_eq!(from_file, net);
    std::fs::remove_dir_all(&dir).unwrap();
    // The same network without its Dropout is another list of entries.
    let plain: seq![Dense<2, 2, Relu>, Dense<2, 1>] =
        constnet::Chain::new(net.first, net.second.second);
    assert_eq!(
        load_error(net, &io::to_bytes(&plain).unwrap()),
        "expected 5 tensors and settings, found 4 in the file"
    );

    // Rust source: `constnet::Dropout::new(p)`, built at compile time.
    let (text, baked) = baked!(constnet::Chain::new(
        constnet::Dense::new([[0.5, -1.25], [2.0, 0.25],], [0.125, -0.5], constnet::Relu,),
        constnet::Chain::new(
            constnet::Dropout::new(0.2),
            constnet::Dense::new([[1.5, -0.75],], [0.0], constnet::Identity,),
        ),
    ));
    let source = to_rust(&net, "NET", "WithDropout");
    assert!(
        source.contains("constnet::Dropout::new(0.2),\n"),
        "{source}"
    );
    let strip = |s: &str| s.split_whitespace().collect::<String>();
    assert!(
        strip(&source).ends_with(&format!("pubstaticNET:WithDropout={};", strip(text))),
        "{source}"
    );
    assert_eq!(*baked, net);
    assert_eq!(to_rust(baked, "NET", "WithDropout"), source);
}

// ---- Checkpoints ----

type Small = seq![Dense<4, 12, Relu>, BatchNorm<12>, Dense<12, 3>];
const BATCH: usize = 8;

/// Iris-like toy data: 3 classes of noisy points, fixed.
fn data() -> Vec<([f32; 4], usize)> {
    let mut rng = constnet::init::rng_from_seed(3);
    (0..48)
        .map(|i| {
            let class = i % 3;
            let x = core::array::from_fn(|j| class as f32 + (j as f32) * 0.1 + rng.random::<f32>());
            (x, class)
        })
        .collect()
}

/// One training step: a batch drawn with the context's generator, forward, backward, step,
/// schedule.
fn train_step<O: Optimizer<Small>, S: LrSchedule>(
    net: &mut Small,
    opt: &mut O,
    schedule: &mut S,
    ctx: &mut TrainCtx,
    step: &mut u64,
    data: &[([f32; 4], usize)],
) {
    let mut x = [[0.0; 4]; BATCH];
    let mut t = [0usize; BATCH];
    for b in 0..BATCH {
        let i = ctx.rng().random_range(0..data.len());
        x[b] = data[i].0;
        t[b] = data[i].1;
    }
    let mut grads = Small::zeros();
    let mut cache = <Small as Layer>::BatchCache::<BATCH>::zeros();
    let (mut y, mut dy) = ([[0.0; 3]; BATCH], [[0.0; 3]; BATCH]);
    net.forward_train_batch(&x, &mut y, &mut cache, ctx);
    CrossEntropy.loss_batch(&y, &t, &mut dy);
    net.backward_batch_params(&x, &y, &mut cache, &dy, &mut grads);
    opt.step(net, &grads);
    opt.set_lr(schedule.step(opt.lr()));
    *step += 1;
}

/// Trains `2n` steps straight, and `n` steps, a checkpoint through a file, fresh parts
/// (other seeds) restored from it, `n` more steps: both runs end bit-identical (their
/// checkpoints, which hold every bit of state, are equal byte for byte).
fn resume_is_bit_identical<O, S>(make_opt: impl Fn() -> O, make_schedule: impl Fn() -> S)
where
    O: Optimizer<Small> + OptimizerState<Small>,
    S: LrSchedule,
{
    let data = data();
    let n = 25;
    let start = |seed| {
        let net: Small = init::seeded(Init::HeUniform, seed);
        let mut opt = make_opt();
        let mut schedule = make_schedule();
        opt.set_lr(schedule.start(opt.lr()));
        (net, opt, schedule, TrainCtx::new(seed), 0u64)
    };
    let (mut net, mut opt, mut schedule, mut ctx, mut step) = start(1);
    for _ in 0..2 * n {
        train_step(
            &mut net,
            &mut opt,
            &mut schedule,
            &mut ctx,
            &mut step,
            &data,
        );
    }
    let straight = Checkpoint {
        model: &mut net,
        optimizer: &mut opt,
        schedule: &mut schedule,
        ctx: &mut ctx,
        step: &mut step,
    }
    .to_bytes()
    .unwrap();

    let dir = std::env::temp_dir().join(format!(
        "constnet-ckpt-{}-{}",
        std::process::id(),
        core::any::type_name::<O>().len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.ckpt");
    {
        let (mut net, mut opt, mut schedule, mut ctx, mut step) = start(1);
        for _ in 0..n {
            train_step(
                &mut net,
                &mut opt,
                &mut schedule,
                &mut ctx,
                &mut step,
                &data,
            );
        }
        Checkpoint {
            model: &mut net,
            optimizer: &mut opt,
            schedule: &mut schedule,
            ctx: &mut ctx,
            step: &mut step,
        }
        .save(&path)
        .unwrap();
    }
    let (mut net, mut opt, mut schedule, mut ctx, mut step) = start(99);
    Checkpoint {
        model: &mut net,
        optimizer: &mut opt,
        schedule: &mut schedule,
        ctx: &mut ctx,
        step: &mut step,
    }
    .load(&path)
    .unwrap();
    assert_eq!(step, n as u64);
    for _ in 0..n {
        train_step(
            &mut net,
            &mut opt,
            &mut schedule,
            &mut ctx,
            &mut step,
            &data,
        );
    }
    let resumed = Checkpoint {
        model: &mut net,
        optimizer: &mut opt,
        schedule: &mut schedule,
        ctx: &mut ctx,
        step: &mut step,
    }
    .to_bytes()
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        straight == resumed,
        "{}: the resumed run differs",
        core::any::type_name::<O>()
    );
}

#[test]
fn resumed_training_is_bit_identical_for_every_optimizer() {
    let warmup = || LinearWarmup::new(0.1, 10).followed_by(CosineAnnealingLr::new(20, 1e-4));
    resume_is_bit_identical(
        || Adam::<Small>::amsgrad(AdamConfig::new().lr(0.01)),
        warmup,
    );
    resume_is_bit_identical(
        || Adam::<Small>::new(AdamConfig::new().lr(0.01)),
        || StepLr::new(7, 0.5),
    );
    resume_is_bit_identical(
        || AdamW::<Small>::new(AdamConfig::adamw().lr(0.01)),
        || ExponentialLr::new(0.97),
    );
    resume_is_bit_identical(
        || Sgd::<Small>::new(SgdConfig::new().lr(0.05).momentum(0.9).nesterov(true)),
        || FixedLr,
    );
    resume_is_bit_identical(|| NAdam::<Small>::new(NAdamConfig::new().lr(0.01)), warmup);
    resume_is_bit_identical(
        || RmsProp::<Small>::new(RmsPropConfig::new().lr(0.01).momentum(0.5).centered(true)),
        || FixedLr,
    );
    resume_is_bit_identical(
        || Adagrad::<Small>::new(AdagradConfig::new().lr(0.05).lr_decay(0.01)),
        || FixedLr,
    );
    resume_is_bit_identical(
        || Adamax::<Small>::new(AdamaxConfig::new().lr(0.01)),
        || StepLr::new(5, 0.9),
    );
}

#[test]
fn a_checkpoint_is_checked_before_anything_changes() {
    let mut net: Small = init::seeded(Init::HeUniform, 1);
    let mut adam = Adam::<Small>::new(AdamConfig::new());
    let (mut schedule, mut ctx, mut step) = (StepLr::new(3, 0.5), TrainCtx::new(5), 3u64);
    let bytes = Checkpoint {
        model: &mut net,
        optimizer: &mut adam,
        schedule: &mut schedule,
        ctx: &mut ctx,
        step: &mut step,
    }
    .to_bytes()
    .unwrap();
    // A model file is not a checkpoint, and an AMSGrad checkpoint has one buffer more.
    let mut fresh: Small = init::seeded(Init::HeUniform, 2);
    let before = fresh;
    let mut ams = Adam::<Small>::amsgrad(AdamConfig::new());
    let mut ctx2 = TrainCtx::new(6);
    let mut step2 = 0;
    let mut cp = Checkpoint {
        model: &mut fresh,
        optimizer: &mut ams,
        schedule: &mut schedule,
        ctx: &mut ctx2,
        step: &mut step2,
    };
    assert_eq!(
        cp.read_from(&io::to_bytes(&before).unwrap())
            .unwrap_err()
            .to_string(),
        "not a constnet checkpoint file"
    );
    let err = cp.read_from(&bytes).unwrap_err().to_string();
    assert_eq!(
        err,
        "expected 39 tensors and settings, found 33 in the file"
    );
    assert_eq!((fresh, ctx2, step2), (before, TrainCtx::new(6), 0));
    // An all-zero generator state (resealed, so only the check stops it) is refused.
    let mut zero = bytes.clone();
    let n = zero.len();
    // rng.s0..s3 and step are the last five 8-byte values before the checksum.
    zero[n - 4 - 40..n - 4 - 8].fill(0);
    reseal(&mut zero);
    let mut cp = Checkpoint {
        model: &mut net,
        optimizer: &mut adam,
        schedule: &mut schedule,
        ctx: &mut ctx,
        step: &mut step,
    };
    let err = cp.read_from(&zero).unwrap_err().to_string();
    assert_eq!(
        err,
        "rng: an all-zero generator state (xoshiro256++ never reaches it)"
    );
}
