//! Models of several MB are built in place on the heap: a 784-512-512-10 network (669,706
//! f32 parameters, 2.7 MB; with gradients and SGD momentum 8 MB) is built, trained one step and
//! dropped on a thread whose whole stack is 512 KiB.

use constnet::init::{self, Init};
use constnet::loss::{CrossEntropy, Loss};
use constnet::optim::{Optimizer, Sgd, SgdConfig};
use constnet::{Dense, Layer, Params, Relu, TrainCtx, seq};

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
