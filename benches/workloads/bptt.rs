//! Training a GRU by backpropagation through time: the `07_amp` example's network and step
//! (`seq![GruSequence<1, 8, 32>, Dense<8, 1>]`, windows of 32 samples, batch 16, MSE, Adam),
//! two ways:
//!
//! - **batched** (`GRU train_us`): `fit::guarded_step`, what `Fit` runs, through the
//!   `Sequence` layer's batched methods (every sample one time step at a time, the weight
//!   gradients summed over all steps at once);
//! - **reference** (`reference GRU train_us`): the per-sample path the crate used before the
//!   batched one, kept here fixed so the speed-up stays measurable: each window runs
//!   [`Sequence::forward_train_from`] and [`Sequence::backward_from`] on its own (the cell's
//!   single-sample step in its instruction-set task), the head and the loss per sample, then
//!   the same Adam step. Written once, never tuned.
//!
//! [`gradients`] computes one batch's gradients both ways, for the run's agreement check.

use constnet::fit::{StepScratch, StepSettings, guarded_step};
use constnet::init::{self, Init};
use constnet::layers::{GruSequence, GruState, SequenceCache};
use constnet::loss::{Loss, Mse};
use constnet::optim::{Adam, AdamConfig, Optimizer};
use constnet::{Dense, Gru, Layer, Params, TrainCtx, Zeros, seq};

/// Samples per window.
pub const WINDOW: usize = 32;
/// Windows per step.
pub const BATCH: usize = 16;

/// The `07_amp` network.
pub type Net = seq![GruSequence<1, 8, WINDOW>, Dense<8, 1>];

/// One batch of windows and their targets.
pub struct Batch {
    pub x: Box<[[[f32; 1]; WINDOW]; BATCH]>,
    pub targets: [[f32; 1]; BATCH],
}

impl Batch {
    /// Windows of `signal` (at least `BATCH · WINDOW + 40` samples), each predicting a later
    /// sample.
    pub fn from_signal(signal: &[[f32; 1]]) -> Self {
        Batch {
            x: Box::new(core::array::from_fn(|b| {
                core::array::from_fn(|t| signal[b * WINDOW + t])
            })),
            targets: core::array::from_fn(|b| [signal[b * WINDOW + 40][0]]),
        }
    }
}

/// A seeded network (PyTorch's default initialization) and Adam (lr 1e-4).
fn fresh() -> (Net, Adam<Net>) {
    let net: Net = init::seeded(Init::PyTorchDefault, 36);
    (net, Adam::<Net>::new(AdamConfig::new().lr(1e-4)))
}

/// The batched trainer: `guarded_step`, as `Fit` runs it.
pub struct Batched {
    pub net: Net,
    adam: Adam<Net>,
    scratch: Box<StepScratch<Net, 1, BATCH>>,
    ctx: TrainCtx,
}

impl Batched {
    pub fn new() -> Self {
        let (net, adam) = fresh();
        Batched {
            net,
            adam,
            scratch: constnet::zeroed_box(),
            ctx: TrainCtx::new(0),
        }
    }

    /// One training step; returns the loss.
    pub fn step(&mut self, batch: &Batch) -> f64 {
        guarded_step(
            &mut self.net,
            &mut self.adam,
            &Mse,
            &StepSettings::default(),
            &batch.x,
            &batch.targets,
            BATCH,
            &mut self.scratch,
            &mut self.ctx,
        )
        .expect("finite")
        .loss
    }
}

/// The fixed per-sample reference.
pub struct Reference {
    pub net: Net,
    adam: Adam<Net>,
    grads: Box<Net>,
    caches: Box<[SequenceCache<Gru<1, 8>, WINDOW>; BATCH]>,
    ctx: TrainCtx,
}

impl Reference {
    pub fn new() -> Self {
        let (net, adam) = fresh();
        Reference {
            net,
            adam,
            grads: Box::new(Net::zeros()),
            caches: Box::new(core::array::from_fn(|_| SequenceCache::zeros())),
            ctx: TrainCtx::new(0),
        }
    }

    /// The batch's gradients into `self.grads` (zeroed first); returns the loss.
    fn gradients(&mut self, batch: &Batch) -> f64 {
        self.grads.fill_zero();
        let (gru, head) = (&self.net.first, &self.net.second);
        let mut hidden = [[0.0f32; 8]; BATCH];
        let mut y = [[0.0f32; 1]; BATCH];
        let mut head_caches = [<Dense<8, 1> as Layer>::Cache::zeros(); BATCH];
        for b in 0..BATCH {
            gru.forward_train_from(
                &GruState::zeros(),
                &batch.x[b],
                &mut hidden[b],
                &mut self.caches[b],
            );
            let (yb, cache) = head.forward_train(&hidden[b], &mut self.ctx);
            y[b] = yb;
            head_caches[b] = cache;
        }
        let mut dy = [[0.0f32; 1]; BATCH];
        let loss = Mse.loss_batch(&y, &batch.targets, &mut dy);
        for b in 0..BATCH {
            let dh = head.backward(&head_caches[b], &dy[b], &mut self.grads.second);
            gru.backward_from(
                &self.caches[b],
                &dh,
                &GruState::zeros(),
                &mut self.grads.first,
                None,
            );
        }
        f64::from(loss)
    }

    /// One training step; returns the loss.
    pub fn step(&mut self, batch: &Batch) -> f64 {
        let loss = self.gradients(batch);
        assert!(loss.is_finite(), "finite");
        self.adam.step(&mut self.net, &self.grads);
        loss
    }
}

/// One batch's parameter gradients from the seeded network: batched, then the reference.
pub fn gradients(batch: &Batch) -> (Vec<f32>, Vec<f32>) {
    let flat = |n: &Net| -> Vec<f32> { n.tensors().flat_map(|t| t.iter().copied()).collect() };
    let (mut net, _) = fresh();
    let mut cache = constnet::zeroed_box::<<Net as Layer>::BatchCache<BATCH>>();
    let mut y = [[0.0f32; 1]; BATCH];
    net.forward_train_batch(&batch.x, &mut y, &mut cache, &mut TrainCtx::new(0));
    let mut dy = [[0.0f32; 1]; BATCH];
    Mse.loss_batch(&y, &batch.targets, &mut dy);
    let mut grads = Net::zeros();
    net.backward_batch_params(&batch.x, &y, &mut cache, &dy, &mut grads);
    let mut reference = Reference::new();
    reference.gradients(batch);
    (flat(&grads), flat(&reference.grads))
}
