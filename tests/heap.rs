//! Models and batches of several MB live on the heap, never on the stack: a 784-512-512-10
//! network (669,706 f32 parameters, 2.7 MB; with gradients and SGD momentum 8 MB) is built,
//! trained one step and dropped on a thread whose whole stack is 512 KiB, and a batch of 1024
//! goes forward and backward on a 256 KiB stack.

use constnet::init::{self, Init};
use constnet::loss::{CrossEntropy, Loss};
use constnet::optim::{Optimizer, Sgd, SgdConfig};
use constnet::{Dense, Layer, LayerNorm, Params, Relu, TrainCtx, seq, zeroed_box};

type Big = seq![Dense<784, 512, Relu>, Dense<512, 512, Relu>, Dense<512, 10>];

#[test]
fn big_network_trains_on_a_512_kib_stack() {
    assert_eq!(
        Big::PARAM_COUNT,
        784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10
    );
    assert!(
        core::mem::size_of::<Big>() > 4 * 512 * 1024,
        "the model is larger than the stack"
    );
    let worker = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(|| {
            let mut net: Box<Big> = init::boxed(Init::HeUniform, 3);
            let mut grads = Big::boxed_zeros();
            let mut optimizer = Sgd::<Big>::boxed(SgdConfig::new().lr(0.01).momentum(0.9));
            let x: [f32; 784] = core::array::from_fn(|i| (i % 17) as f32 / 17.0);
            let mut ctx = TrainCtx::new(0);
            let (y, cache) = net.forward_train(&x, &mut ctx);
            let mut dy = [0.0f32; 10];
            let before = CrossEntropy.loss(&y, &3, &mut dy);
            net.backward_params(&cache, &dy, &mut grads);
            optimizer.step(&mut net, &grads);
            let after = CrossEntropy.value(&[net.forward(&x)], &[3]);
            (before, after)
        })
        .expect("spawn");
    let (before, after) = worker
        .join()
        .expect("the 512 KiB thread overflowed its stack");
    assert!(
        before.is_finite() && after < before,
        "one SGD step should lower the loss: {before} -> {after}"
    );
}

/// A batch of 1024 through 64-512-512-10 (with a LayerNorm, whose batched methods are the
/// trait's per-sample defaults) is about 20 MB of inputs, activations, caches and
/// gradients: every batched method keeps them in caller-owned boxes, so forward and backward
/// run on a thread whose whole stack is 256 KiB.
#[test]
fn large_batch_forward_and_backward_on_a_256_kib_stack() {
    type Wide = seq![Dense<64, 512, Relu>, LayerNorm<512>, Dense<512, 10>];
    const B: usize = 1024;
    assert!(
        core::mem::size_of::<<Wide as Layer>::BatchCache<B>>() > 16 * 256 * 1024,
        "the cache is larger than the stack"
    );
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let mut net: Box<Wide> = init::boxed(Init::HeUniform, 5);
            let mut grads = Wide::boxed_zeros();
            let mut x = zeroed_box::<[[f32; 64]; B]>();
            for (b, row) in x.iter_mut().enumerate() {
                for (i, v) in row.iter_mut().enumerate() {
                    *v = ((b * 31 + i * 7) % 23) as f32 / 23.0 - 0.5;
                }
            }
            let mut y = zeroed_box::<[[f32; 10]; B]>();
            let mut cache = zeroed_box::<<Wide as Layer>::BatchCache<B>>();
            let mut dy = zeroed_box::<[[f32; 10]; B]>();
            let mut dx = zeroed_box::<[[f32; 64]; B]>();
            let targets: Vec<usize> = (0..B).map(|b| b % 10).collect();
            let targets: &[usize; B] = targets.as_slice().try_into().unwrap();

            net.forward_batch(&x, &mut y, &mut cache);
            let inference = y[B - 1];
            let mut ctx = TrainCtx::new(0);
            net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
            assert_eq!(y[B - 1], inference, "training and inference forward agree");
            let before = CrossEntropy.loss_batch(&y, targets, &mut dy);
            net.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut grads);
            let with_dx = grads.tensors().flatten().map(|g| g.abs()).sum::<f32>();
            grads.fill_zero();
            net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
            net.backward_batch_params(&x, &y, &mut cache, &dy, &mut grads);
            let params_only = grads.tensors().flatten().map(|g| g.abs()).sum::<f32>();
            assert_eq!(
                with_dx, params_only,
                "both backward paths give the same gradients"
            );
            assert!(dx.iter().flatten().any(|&d| d != 0.0), "dL/dx was written");
            let mut optimizer = Sgd::<Wide>::boxed(SgdConfig::new().lr(0.1));
            optimizer.step(&mut net, &grads);
            net.forward_batch(&x, &mut y, &mut cache);
            (before, CrossEntropy.value(&y, targets))
        })
        .expect("spawn");
    let (before, after) = worker
        .join()
        .expect("the 256 KiB thread overflowed its stack");
    assert!(
        before.is_finite() && after < before,
        "one SGD step on the batch should lower its loss: {before} -> {after}"
    );
}

/// A user's layer that is not `ZeroBits` (it holds a reference) and was written without
/// `unsafe`: a learned per-feature scale.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Scale<const N: usize> {
    scale: [f32; N],
    label: &'static str,
}

impl<const N: usize> constnet::Zeros for Scale<N> {
    fn zeros() -> Self {
        Scale {
            scale: [0.0; N],
            label: "scale",
        }
    }
}

impl<const N: usize> Params for Scale<N> {
    type Scalar = f32;
    const PARAM_COUNT: usize = N;
    fn tensors(&self) -> impl Iterator<Item = &[f32]> {
        core::iter::once(&self.scale[..])
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
        core::iter::once(&mut self.scale[..])
    }
    fn shapes() -> impl Iterator<Item = constnet::TensorShape> {
        core::iter::once(constnet::TensorShape {
            kind: constnet::TensorKind::Scale,
            rows: N,
            cols: 1,
            fan_in: N,
            fan_out: N,
        })
    }
}

impl<const N: usize> Layer for Scale<N> {
    type Input = [f32; N];
    type Output = [f32; N];
    type Cache = [f32; N];
    type BatchCache<const B: usize> = [[f32; N]; B];
    fn forward(&self, x: &[f32; N]) -> [f32; N] {
        core::array::from_fn(|i| self.scale[i] * x[i])
    }
    fn forward_train(&self, x: &[f32; N], _: &mut TrainCtx) -> ([f32; N], [f32; N]) {
        (self.forward(x), *x)
    }
    fn backward(&self, x: &[f32; N], dy: &[f32; N], grads: &mut Self) -> [f32; N] {
        for i in 0..N {
            grads.scale[i] += dy[i] * x[i];
        }
        core::array::from_fn(|i| dy[i] * self.scale[i])
    }
}

/// The heap constructors take a network holding a layer without `ZeroBits`: its Dense layers
/// (with their gradients and Adam's state, about 2.4 MB) are still built in place, on a
/// thread whose whole stack is 512 KiB; and `Fit` trains it.
#[test]
fn a_network_with_a_custom_layer_is_boxed_on_a_512_kib_stack_and_fitted() {
    use constnet::fit::{DataSet, Fit};
    use constnet::optim::{Adam, AdamConfig};
    type Net = seq![Dense<784, 256, Relu>, Scale<256>, Dense<256, 10>];
    assert!(
        core::mem::size_of::<Net>() > 512 * 1024,
        "the model is larger than the stack"
    );
    let worker = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(|| {
            let net: Box<Net> = init::boxed(Init::HeUniform, 3);
            assert_eq!(net.second.first.label, "scale");
            let adam = Adam::<Net>::boxed(AdamConfig::new().lr(1e-3));
            let grads = Net::boxed_zeros();
            assert!(grads.tensors().flatten().all(|&g| g == 0.0));
            (net, adam)
        })
        .expect("spawn");
    let (mut net, mut adam) = worker
        .join()
        .expect("the 512 KiB thread overflowed its stack");
    let inputs: Vec<[f32; 784]> = (0..64)
        .map(|n| core::array::from_fn(|i| ((n * 7 + i) % 13) as f32 / 13.0))
        .collect();
    let labels: Vec<usize> = (0..64).map(|n| n % 10).collect();
    let history = Fit::<16>::new(3)
        .seed(1)
        .run(
            &mut *net,
            &mut *adam,
            &CrossEntropy,
            DataSet::new(&inputs, &labels),
            None,
        )
        .expect("finite losses");
    let (first, last) = (
        history.epochs[0].train_loss,
        history.last().unwrap().train_loss,
    );
    assert!(last < first, "training lowers the loss: {first} -> {last}");
}

/// A convolution's batched passes put nothing of image size on the stack: MobileNet's first
/// layer (96×96×3 in, 48×48×8 out: 108 KiB and 72 KiB per image) trains a batch of 4 and
/// runs inference on a thread whose whole stack is 64 KiB.
#[test]
fn conv2d_batches_run_on_a_64_kib_stack() {
    use constnet::optim::{Adam, AdamConfig};
    use constnet::{Conv2d, Relu6, Same};
    type First = Conv2d<3, 8, 3, 3, 96, 96, 48, 48, Relu6, f32, Same<2, 2>>;
    const B: usize = 4;
    let worker = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(|| {
            let mut conv: Box<First> = init::boxed(Init::HeUniform, 1);
            let mut grads = First::boxed_zeros();
            let mut adam = Adam::<First>::boxed(AdamConfig::new());
            let mut x = zeroed_box::<[[[[f32; 3]; 96]; 96]; B]>();
            for (n, v) in x.iter_mut().flatten().flatten().flatten().enumerate() {
                *v = (n % 17) as f32 / 17.0 - 0.5;
            }
            let mut y = zeroed_box::<[[[[f32; 8]; 48]; 48]; B]>();
            let mut dy = zeroed_box::<[[[[f32; 8]; 48]; 48]; B]>();
            let mut dx = zeroed_box::<[[[[f32; 3]; 96]; 96]; B]>();
            let mut cache = zeroed_box::<<First as Layer>::BatchCache<B>>();
            conv.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
            for (d, &v) in dy
                .iter_mut()
                .flatten()
                .flatten()
                .flatten()
                .zip(y.iter().flatten().flatten().flatten())
            {
                *d = v - 0.1;
            }
            conv.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut grads);
            adam.step(&mut conv, &grads);
            conv.forward_batch(&x, &mut y, &mut cache);
            y.iter().flatten().flatten().flatten().any(|&v| v != 0.0)
        })
        .expect("spawn");
    let nonzero = worker
        .join()
        .expect("the 64 KiB thread overflowed its stack");
    assert!(nonzero);
}

/// A chain's single-image forward keeps each activation on the stack once: three layers of
/// MobileNet's stem (72, 144 and 144 KiB of activations) run on a 1.25 MiB thread. When a
/// chain built its hidden activation by value and moved it into place, a debug build kept
/// both copies and needed 2.2 MiB here (0.98 MiB now; 0.64 MiB in a release build).
#[test]
fn an_image_chain_forward_keeps_its_activations_once() {
    use constnet::{Conv2d, Relu6, Same};
    type Stem = seq![
        Conv2d<3, 8, 3, 3, 96, 96, 48, 48, Relu6, f32, Same<2, 2>>,
        Conv2d<8, 16, 1, 1, 48, 48, 48, 48, Relu6, f32, Same>,
        Conv2d<16, 16, 3, 3, 48, 48, 48, 48, Relu6, f32, Same>
    ];
    let net: Box<Stem> = init::boxed(Init::HeUniform, 1);
    let mut x = zeroed_box::<[[[f32; 3]; 96]; 96]>();
    for (n, v) in x.iter_mut().flatten().flatten().enumerate() {
        *v = (n % 13) as f32 / 13.0;
    }
    let nonzero = std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(1280 * 1024)
            .spawn_scoped(s, || {
                let y = net.forward(&x);
                y.iter().flatten().flatten().any(|&v| v != 0.0)
            })
            .expect("spawn")
            .join()
            .expect("the 1.25 MiB thread overflowed its stack")
    });
    assert!(nonzero);
}
