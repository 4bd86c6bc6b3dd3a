//! The three benchmark workloads (T, S, M), their data, and the calls into constnet that the
//! benches and `examples/perf_report.rs` time.
//!
//! Every call into constnet's batched API is in this file ([`ConstnetTrainer::step`] and
//! [`Batch256::constnet`]), so an API change is fixed here once.
//!
//! - **T**: 2 → 16 tanh → 16 tanh → 1, MSE loss;
//! - **S**: 16 → 64 relu → 64 relu → 8, MSE loss;
//! - **M**: 784 → 128 relu → 10, cross-entropy with class indices.
//!
//! No subnormal arithmetic may be timed. Two guards:
//! - Training draws from [`INPUT_BATCHES`] input batches and [`TARGET_BATCHES`] batches of
//!   random targets (uniform noise in [−1, 1], or uniform class indices), cycled with coprime
//!   periods: each input meets several unrelated targets, so no network can fit them and the
//!   loss stays far from zero.
//! - Every trainer restarts from the initial weights with a fresh Adam state every
//!   [`EPISODE`] steps (the restart is timed with the steps; it costs well under 1% of them).
//!   Without it, M slows down about five-fold after some 700 steps: a ReLU unit that dies
//!   gets exactly zero gradients, its first Adam moment decays by β1 = 0.9 per step into the
//!   subnormal range (about 750 steps from 1e-4) and then sticks at the smallest subnormal
//!   (`0.9 × 2⁻¹⁴⁹` rounds back to `2⁻¹⁴⁹`), so every later Adam step works on subnormals.
//!   Restarting every 200 steps keeps every moment far above that range.
#![allow(dead_code)]

use std::hint::black_box;

use constnet::init::{self, Init};
use constnet::loss::{CrossEntropy, Loss, Mse};
use constnet::optim::{Adam, AdamConfig, Optimizer};
use constnet::{ActivationFn, Dense, Layer, Relu, Tanh, TrainCtx, ZeroBits, seq};
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;

use crate::naive::{self, Forward, Model};

pub mod bptt;
pub mod mlperf;
pub mod streaming;

/// Training batch size.
pub const BATCH: usize = 32;
/// Batch size of the batched-inference figure.
pub const BIG_BATCH: usize = 256;
/// Distinct inputs cycled by the latency measurements.
pub const LATENCY_POOL: usize = 256;
/// Input batches cycled by the training measurements.
pub const INPUT_BATCHES: usize = 8;
/// Target batches cycled by the training measurements (coprime with [`INPUT_BATCHES`]).
pub const TARGET_BATCHES: usize = 7;
/// Input batches of [`BIG_BATCH`] samples cycled by the batched-inference figure.
pub const BIG_BATCHES: usize = 4;
/// Steps after which every trainer restarts from the initial weights and a fresh Adam state.
pub const EPISODE: usize = 200;
/// Adam's learning rate.
pub const LR: f64 = 1e-3;
/// Flops of one M forward: a multiply-add counts as 2, bias and activation are not counted.
pub const M_FLOPS_PER_SAMPLE: f64 = (2 * 784 * 128 + 2 * 128 * 10) as f64;

pub type TNet = seq![Dense<2, 16, Tanh>, Dense<16, 16, Tanh>, Dense<16, 1>];
pub type SNet = seq![Dense<16, 64, Relu>, Dense<64, 64, Relu>, Dense<64, 8>];
pub type MNet = seq![Dense<784, 128, Relu>, Dense<128, 10>];

pub type NaiveT = naive::Net3<2, 16, 16, 1, naive::Tanh, naive::Tanh>;
pub type NaiveS = naive::Net3<16, 64, 64, 8, naive::Relu, naive::Relu>;
pub type NaiveM = naive::Net2<784, 128, 10, naive::Relu>;

pub type InputMajorT = naive::InputMajor3<2, 16, 16, 1, naive::Tanh, naive::Tanh>;
pub type InputMajorS = naive::InputMajor3<16, 64, 64, 8, naive::Relu, naive::Relu>;
pub type InputMajorM = naive::InputMajor2<784, 128, 10, naive::Relu>;

/// `N` values from `f`, in a heap array (never on the stack).
pub fn boxed_array<T, const N: usize>(f: impl FnMut() -> T) -> Box<[T; N]> {
    let values: Vec<T> = std::iter::repeat_with(f).take(N).collect();
    match values.into_boxed_slice().try_into() {
        Ok(array) => array,
        Err(_) => unreachable!("N values make a [T; N]"),
    }
}

fn random_input<const I: usize>(rng: &mut Xoshiro256PlusPlus, low: f32, high: f32) -> [f32; I] {
    core::array::from_fn(|_| low + (high - low) * rng.random::<f32>())
}

/// The training data: input batches and target batches cycled with coprime periods.
pub struct TrainData<const I: usize, Tg> {
    inputs: Vec<Box<[[f32; I]; BATCH]>>,
    targets: Vec<Box<[Tg; BATCH]>>,
}

impl<const I: usize, Tg> TrainData<I, Tg> {
    fn new(
        rng: &mut Xoshiro256PlusPlus,
        input_range: (f32, f32),
        mut target: impl FnMut(&mut Xoshiro256PlusPlus) -> Tg,
    ) -> Self {
        let inputs = (0..INPUT_BATCHES)
            .map(|_| boxed_array(|| random_input(rng, input_range.0, input_range.1)))
            .collect();
        let targets = (0..TARGET_BATCHES)
            .map(|_| boxed_array(|| target(rng)))
            .collect();
        TrainData { inputs, targets }
    }

    /// The `k`-th training batch.
    pub fn batch(&self, k: usize) -> (&[[f32; I]; BATCH], &[Tg; BATCH]) {
        (
            &self.inputs[k % INPUT_BATCHES],
            &self.targets[k % TARGET_BATCHES],
        )
    }
}

/// A constnet network with its gradients, Adam state, batch cache and loss.
pub struct ConstnetTrainer<C: Layer, L, const O: usize> {
    initial: Box<C>,
    steps_in_episode: usize,
    net: Box<C>,
    grads: Box<C>,
    adam: Box<Adam<C>>,
    cache: Box<C::BatchCache<BATCH>>,
    y: Box<[[f32; O]; BATCH]>,
    dy: Box<[[f32; O]; BATCH]>,
    ctx: TrainCtx,
    loss: L,
}

impl<C, L, const O: usize> ConstnetTrainer<C, L, O>
where
    C: Layer<Scalar = f32, Output = [f32; O]> + ZeroBits,
    C::BatchCache<BATCH>: ZeroBits,
    L: Loss<f32>,
{
    /// Starts from a copy of `net` (and restarts from it every [`EPISODE`] steps).
    pub fn new(net: &C, loss: L) -> Self {
        let copy = || {
            let mut copy = C::boxed_zeros();
            for (to, from) in copy.tensors_mut().zip(net.tensors()) {
                to.copy_from_slice(from);
            }
            copy
        };
        ConstnetTrainer {
            initial: copy(),
            steps_in_episode: 0,
            net: copy(),
            grads: C::boxed_zeros(),
            adam: Adam::boxed(AdamConfig::new().lr(LR)),
            cache: constnet::zeroed_box(),
            y: boxed_array(|| [0.0; O]),
            dy: boxed_array(|| [0.0; O]),
            ctx: TrainCtx::new(0),
            loss,
        }
    }

    /// One training step (forward, loss, backward, Adam); returns the batch's loss.
    pub fn step(&mut self, x: &[C::Input; BATCH], targets: &[L::Target<O>; BATCH]) -> f32 {
        if self.steps_in_episode == EPISODE {
            self.restart();
        }
        self.steps_in_episode += 1;
        self.grads.fill_zero();
        self.net
            .forward_train_batch(x, &mut self.y, &mut self.cache, &mut self.ctx);
        let loss = self.loss.loss_batch(&self.y, targets, &mut self.dy);
        self.net
            .backward_batch_params(x, &self.y, &mut self.cache, &self.dy, &mut self.grads);
        self.adam.step(&mut self.net, &self.grads);
        loss
    }

    /// [`step`](Self::step), with the wall time of each phase added to `seconds`:
    /// `[zeroing the gradients, forward, loss, backward, Adam]`.
    pub fn timed_step(
        &mut self,
        x: &[C::Input; BATCH],
        targets: &[L::Target<O>; BATCH],
        seconds: &mut [f64; 5],
    ) -> f32 {
        if self.steps_in_episode == EPISODE {
            self.restart();
        }
        self.steps_in_episode += 1;
        let t0 = std::time::Instant::now();
        self.grads.fill_zero();
        let t1 = std::time::Instant::now();
        self.net
            .forward_train_batch(x, &mut self.y, &mut self.cache, &mut self.ctx);
        let t2 = std::time::Instant::now();
        let loss = self.loss.loss_batch(&self.y, targets, &mut self.dy);
        let t3 = std::time::Instant::now();
        self.net
            .backward_batch_params(x, &self.y, &mut self.cache, &self.dy, &mut self.grads);
        let t4 = std::time::Instant::now();
        self.adam.step(&mut self.net, &self.grads);
        let t5 = std::time::Instant::now();
        for (total, (from, to)) in
            seconds
                .iter_mut()
                .zip([(t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5)])
        {
            *total += (to - from).as_secs_f64();
        }
        loss
    }

    /// Back to the initial weights, with a fresh Adam state.
    fn restart(&mut self) {
        for (to, from) in self.net.tensors_mut().zip(self.initial.tensors()) {
            to.copy_from_slice(from);
        }
        self.adam = Adam::boxed(AdamConfig::new().lr(LR));
        self.steps_in_episode = 0;
    }
}

/// The naive reference's trainer, restarted from its initial weights every [`EPISODE`] steps
/// like [`ConstnetTrainer`].
pub struct NaiveTrainer<N> {
    initial: Box<N>,
    steps_in_episode: usize,
    trainer: naive::Trainer<N>,
}

impl<N> NaiveTrainer<N> {
    fn new<const I: usize, const O: usize>(net: &N) -> Self
    where
        N: Model<I, O>,
    {
        let copy = || {
            let mut copy = Box::new(N::zeros());
            copy.copy_from(net);
            copy
        };
        NaiveTrainer {
            initial: copy(),
            steps_in_episode: 0,
            trainer: naive::Trainer::new(copy(), LR as f32),
        }
    }

    /// One naive training step; returns the batch's loss.
    pub fn step<const I: usize, const O: usize, T: naive::Target<O>>(
        &mut self,
        x: &[[f32; I]; BATCH],
        targets: &[T; BATCH],
    ) -> f32
    where
        N: Model<I, O>,
    {
        if self.steps_in_episode == EPISODE {
            self.trainer.restart(&self.initial);
            self.steps_in_episode = 0;
        }
        self.steps_in_episode += 1;
        self.trainer.step(x, targets)
    }

    /// Subnormal values in the naive weights and Adam moments (a check, never timed).
    pub fn count_subnormal<const I: usize, const O: usize>(&self) -> usize
    where
        N: Model<I, O>,
    {
        self.trainer.count_subnormal()
    }
}

/// One workload: the constnet network, the naive reference and the input-major baseline
/// with the same weights, their inputs, and a trainer of each kind.
pub struct Workload<C: Layer, N, F, L: Loss<f32>, const I: usize, const O: usize> {
    pub name: &'static str,
    pub constnet: Box<C>,
    pub naive: Box<N>,
    pub input_major: Box<F>,
    pub inputs: Vec<[f32; I]>,
    pub data: TrainData<I, L::Target<O>>,
    pub constnet_trainer: ConstnetTrainer<C, L, O>,
    pub naive_trainer: NaiveTrainer<N>,
}

impl<C, N, F, L, const I: usize, const O: usize> Workload<C, N, F, L, I, O>
where
    C: Layer<Scalar = f32, Input = [f32; I], Output = [f32; O]> + ZeroBits,
    C::BatchCache<BATCH>: ZeroBits,
    N: Model<I, O>,
    F: Forward<I, O>,
    L: Loss<f32>,
    L::Target<O>: naive::Target<O>,
{
    fn new(
        name: &'static str,
        constnet: Box<C>,
        to_naive: impl Fn(&C) -> (Box<N>, Box<F>),
        loss: L,
        input_range: (f32, f32),
        target: impl FnMut(&mut Xoshiro256PlusPlus) -> L::Target<O>,
    ) -> Self {
        let mut rng = init::rng_from_seed(7);
        let inputs = (0..LATENCY_POOL)
            .map(|_| random_input(&mut rng, input_range.0, input_range.1))
            .collect();
        let data = TrainData::new(&mut rng, input_range, target);
        let (naive, input_major) = to_naive(&constnet);
        Workload {
            name,
            constnet_trainer: ConstnetTrainer::new(&constnet, loss),
            naive_trainer: NaiveTrainer::new(&naive),
            constnet,
            naive,
            input_major,
            inputs,
            data,
        }
    }

    /// constnet's single-sample forward on the `k`-th pooled input.
    #[inline]
    pub fn constnet_forward(&self, k: usize) -> [f32; O] {
        self.constnet.forward(&self.inputs[k % LATENCY_POOL])
    }

    /// The naive reference's forward on the `k`-th pooled input.
    #[inline]
    pub fn naive_forward(&self, k: usize) -> [f32; O] {
        self.naive.forward(&self.inputs[k % LATENCY_POOL])
    }

    /// The input-major baseline's forward on the `k`-th pooled input.
    #[inline]
    pub fn input_major_forward(&self, k: usize) -> [f32; O] {
        self.input_major.forward(&self.inputs[k % LATENCY_POOL])
    }

    /// One constnet training step on the `k`-th batch; returns its loss.
    pub fn constnet_train_step(&mut self, k: usize) -> f32 {
        let (x, t) = self.data.batch(k);
        self.constnet_trainer.step(x, t)
    }

    /// One naive training step on the `k`-th batch; returns its loss.
    pub fn naive_train_step(&mut self, k: usize) -> f32 {
        let (x, t) = self.data.batch(k);
        self.naive_trainer.step(x, t)
    }

    /// The largest difference between constnet's and each baseline's outputs over the pool
    /// (a check that all three compute the same network).
    pub fn max_forward_difference(&self) -> f32 {
        let mut max = 0.0f32;
        for k in 0..LATENCY_POOL {
            let y = self.constnet_forward(k);
            for other in [self.naive_forward(k), self.input_major_forward(k)] {
                for (a, b) in y.iter().zip(&other) {
                    max = max.max((a - b).abs());
                }
            }
        }
        max
    }
}

/// A naive layer with the weights of a constnet layer.
fn naive_dense<const IN: usize, const OUT: usize, A: ActivationFn<f32>, NA: naive::Act>(
    layer: &Dense<IN, OUT, A>,
) -> naive::Dense<IN, OUT, NA> {
    let mut copy = naive::Dense::zeros();
    layer.write_weight_rows(&mut copy.w);
    copy.b = *layer.bias();
    copy
}

/// An input-major layer with the weights of a constnet layer.
fn input_major_dense<const IN: usize, const OUT: usize, A: ActivationFn<f32>, NA: naive::Act>(
    layer: &Dense<IN, OUT, A>,
) -> naive::InputMajorDense<IN, OUT, NA> {
    let mut copy = naive::InputMajorDense::zeros();
    for (i, row) in copy.w.iter_mut().enumerate() {
        for (o, w) in row.iter_mut().enumerate() {
            *w = layer.weight(o, i);
        }
    }
    copy.b = *layer.bias();
    copy
}

macro_rules! three_layers {
    ($net:expr) => {{
        let net = $net;
        let naive = naive::Net3 {
            l1: naive_dense(&net.first),
            l2: naive_dense(&net.second.first),
            l3: naive_dense(&net.second.second),
        };
        let input_major = naive::InputMajor3 {
            l1: input_major_dense(&net.first),
            l2: input_major_dense(&net.second.first),
            l3: input_major_dense(&net.second.second),
        };
        (Box::new(naive), Box::new(input_major))
    }};
}

pub type WorkloadT = Workload<TNet, NaiveT, InputMajorT, Mse, 2, 1>;
pub type WorkloadS = Workload<SNet, NaiveS, InputMajorS, Mse, 16, 8>;
pub type WorkloadM = Workload<MNet, NaiveM, InputMajorM, CrossEntropy, 784, 10>;

fn noise<const O: usize>(rng: &mut Xoshiro256PlusPlus) -> [f32; O] {
    random_input(rng, -1.0, 1.0)
}

/// T: `nn.Linear`'s default initialization, inputs and targets in [−1, 1].
pub fn workload_t() -> WorkloadT {
    let net = init::boxed::<TNet>(Init::PyTorchDefault, 1);
    Workload::new("T", net, |n| three_layers!(n), Mse, (-1.0, 1.0), noise)
}

/// S: `nn.Linear`'s default initialization, inputs and targets in [−1, 1].
pub fn workload_s() -> WorkloadS {
    let net = init::boxed::<SNet>(Init::PyTorchDefault, 2);
    Workload::new("S", net, |n| three_layers!(n), Mse, (-1.0, 1.0), noise)
}

/// M: `nn.Linear`'s default initialization, pixel-like inputs in [0, 1), uniform class indices.
pub fn workload_m() -> WorkloadM {
    let net = init::boxed::<MNet>(Init::PyTorchDefault, 3);
    Workload::new(
        "M",
        net,
        |net| {
            let naive = naive::Net2 {
                l1: naive_dense(&net.first),
                l2: naive_dense(&net.second),
            };
            let input_major = naive::InputMajor2 {
                l1: input_major_dense(&net.first),
                l2: input_major_dense(&net.second),
            };
            (Box::new(naive), Box::new(input_major))
        },
        CrossEntropy,
        (0.0, 1.0),
        |rng| (rng.random::<u32>() % 10) as usize,
    )
}

/// Batched inference on M: [`BIG_BATCHES`] batches of [`BIG_BATCH`] inputs, the outputs and
/// constnet's scratch, all on the heap.
pub struct Batch256 {
    inputs: Vec<Box<[[f32; 784]; BIG_BATCH]>>,
    y: Box<[[f32; 10]; BIG_BATCH]>,
    scratch: Box<<MNet as Layer>::BatchCache<BIG_BATCH>>,
}

impl Batch256 {
    pub fn new() -> Self {
        let mut rng = init::rng_from_seed(11);
        Batch256 {
            inputs: (0..BIG_BATCHES)
                .map(|_| boxed_array(|| random_input(&mut rng, 0.0, 1.0)))
                .collect(),
            y: boxed_array(|| [0.0; 10]),
            scratch: constnet::zeroed_box(),
        }
    }

    /// constnet's `forward_batch` on the `k`-th batch.
    pub fn constnet(&mut self, net: &MNet, k: usize) {
        net.forward_batch(
            &self.inputs[k % BIG_BATCHES],
            &mut self.y,
            &mut self.scratch,
        );
        black_box(&self.y);
    }

    /// The naive reference, sample by sample, on the `k`-th batch.
    pub fn naive(&mut self, net: &NaiveM, k: usize) {
        for (y, x) in self.y.iter_mut().zip(self.inputs[k % BIG_BATCHES].iter()) {
            *y = net.forward(x);
        }
        black_box(&self.y);
    }
}

impl Default for Batch256 {
    fn default() -> Self {
        Self::new()
    }
}
