//! `Fit`: the training loop (Keras's `model.fit`), composed from the batched layer API, a
//! loss, an optimizer, an optional schedule, penalties and clipping.

use std::boxed::Box;
use std::time::Instant;
use std::vec::Vec;

use rand::seq::SliceRandom;

use crate::ctx::TrainCtx;
use crate::fit::callback::{BatchProgress, Callback, Control};
use crate::fit::early_stopping::EarlyStopping;
use crate::fit::error::FitError;
use crate::fit::history::{EpochRecord, History};
use crate::fit::reduce_lr_on_plateau::{PlateauState, ReduceLrOnPlateau};
use crate::fit::step::{Clip, StepScratch, StepSettings, guarded_step};
use crate::fit::target::{FitTarget, MetricSum};
use crate::kernel::boxed_zeros;
use crate::layer::Layer;
use crate::loss::Loss;
use crate::optim::{LrSchedule, Optimizer};
use crate::params::Params;
use crate::rng::TrainRng;
use crate::scalar::Scalar;
use crate::zeros::Zeros;

/// Samples and their targets, one target per sample.
#[derive(Clone, Copy, Debug)]
pub struct DataSet<'d, X, Y> {
    /// The samples.
    pub inputs: &'d [X],
    /// Their targets.
    pub targets: &'d [Y],
}

impl<'d, X, Y> DataSet<'d, X, Y> {
    /// A data set of `inputs` and their `targets` (checked by [`Fit::run`], which returns an
    /// error when their lengths differ).
    pub const fn new(inputs: &'d [X], targets: &'d [Y]) -> Self {
        DataSet { inputs, targets }
    }

    /// Number of samples.
    pub const fn len(&self) -> usize {
        self.inputs.len()
    }

    /// Whether there is no sample.
    pub const fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }
}

/// When a learning-rate schedule advances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScheduleInterval {
    /// After every epoch (PyTorch Lightning's default, and the usual PyTorch loop).
    #[default]
    Epoch,
    /// After every optimizer step.
    Step,
}

/// A training run's settings; [`run`](Fit::run) trains a model with them. The batch size `B`
/// is a compile-time constant.
///
/// Each epoch visits every training sample once, in an order shuffled with the run's seed;
/// the last batch holds the samples left over (the loss and the gradients are means over
/// those samples only, like PyTorch's `DataLoader`) unless [`drop_last`](Fit::drop_last)
/// is set. A step whose loss or gradient norm is not finite ends the run with
/// [`FitError::Diverged`] before it changes anything. The loop allocates its buffers (boxed:
/// no batch-sized stack temporary) before the first epoch and nothing afterwards.
///
/// ```
/// use constnet::fit::{DataSet, EarlyStopping, Fit};
/// use constnet::init::{self, Init};
/// use constnet::loss::Mse;
/// use constnet::optim::{Adam, AdamConfig};
/// use constnet::{Dense, Tanh, seq};
/// type Net = seq![Dense<1, 16, Tanh>, Dense<16, 1>];
/// // y = x² on [−1, 1].
/// let inputs: Vec<[f32; 1]> = (0..64).map(|i| [i as f32 / 32.0 - 1.0]).collect();
/// let targets: Vec<[f32; 1]> = inputs.iter().map(|x| [x[0] * x[0]]).collect();
/// let mut net: Net = init::seeded(Init::PyTorchDefault, 0);
/// let mut adam = Adam::<Net>::new(AdamConfig::new().lr(1e-2));
/// let history = Fit::<16>::new(200)
///     .seed(1)
///     .early_stopping(EarlyStopping::new(20))
///     .run(&mut net, &mut adam, &Mse, DataSet::new(&inputs, &targets), None)
///     .unwrap();
/// assert!(history.kept().unwrap().train_loss < 1e-2);
/// ```
pub struct Fit<'a, const B: usize> {
    epochs: usize,
    seed: u64,
    shuffle: bool,
    drop_last: bool,
    step: StepSettings,
    early_stopping: Option<EarlyStopping>,
    plateau: Option<ReduceLrOnPlateau>,
    schedule: Option<&'a mut dyn LrSchedule>,
    schedule_interval: ScheduleInterval,
}

impl<'a, const B: usize> Fit<'a, B> {
    /// At most `epochs` epochs; seed 0, shuffled, the short last batch kept, no penalty, no
    /// clipping, no early stopping, no schedule.
    pub fn new(epochs: usize) -> Self {
        const { assert!(B > 0, "the batch size must be at least 1") };
        Fit {
            epochs,
            seed: 0,
            shuffle: true,
            drop_last: false,
            step: StepSettings::default(),
            early_stopping: None,
            plateau: None,
            schedule: None,
            schedule_interval: ScheduleInterval::Epoch,
        }
    }

    /// Seeds the shuffling (a [`TrainRng`] seeded with `seed`) and the training-mode layers
    /// such as dropout (a [`TrainCtx`] seeded with `seed + 1`): the same seed gives the same
    /// run.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Whether each epoch visits the samples in a new random order (default) or in order.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Whether the last batch is skipped when it is short (default: trained on, as a mean
    /// over its real samples).
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// Adds an L1 penalty `λ·Σ|θ|` to the loss.
    pub fn l1(mut self, lambda: f64) -> Self {
        self.step.l1 = lambda;
        self
    }

    /// Adds an L2 penalty `λ·Σθ²` to the loss.
    pub fn l2(mut self, lambda: f64) -> Self {
        self.step.l2 = lambda;
        self
    }

    /// Clips the gradients of every step.
    pub fn clip(mut self, clip: Clip) -> Self {
        self.step.clip = clip;
        self
    }

    /// Stops early (see [`EarlyStopping`]).
    pub fn early_stopping(mut self, early_stopping: EarlyStopping) -> Self {
        self.early_stopping = Some(early_stopping);
        self
    }

    /// Lowers the learning rate on a plateau (see [`ReduceLrOnPlateau`]).
    pub fn reduce_lr_on_plateau(mut self, plateau: ReduceLrOnPlateau) -> Self {
        self.plateau = Some(plateau);
        self
    }

    /// Sets the learning rate from `schedule`, started with the optimizer's rate and advanced
    /// after every epoch or every step.
    pub fn schedule(mut self, schedule: &'a mut dyn LrSchedule, every: ScheduleInterval) -> Self {
        self.schedule = Some(schedule);
        self.schedule_interval = every;
        self
    }

    /// Trains `model` on `train`, evaluating on `validation` after every epoch; returns the
    /// [`History`]. Without validation data, early stopping and learning-rate reduction watch
    /// the training loss.
    pub fn run<M, Opt, L, const O: usize>(
        &mut self,
        model: &mut M,
        optimizer: &mut Opt,
        loss: &L,
        train: DataSet<'_, M::Input, L::Target<O>>,
        validation: Option<DataSet<'_, M::Input, L::Target<O>>>,
    ) -> Result<History, FitError>
    where
        M: Layer<Output = [<M as Params>::Scalar; O]> + Copy,
        Opt: Optimizer<M>,
        L: Loss<<M as Params>::Scalar>,
        L::Target<O>: FitTarget<<M as Params>::Scalar, O>,
    {
        self.run_with(model, optimizer, loss, train, validation, &mut ())
    }

    /// [`run`](Fit::run), reporting to `callback` (progress, the best model so far, stopping).
    pub fn run_with<M, Opt, L, C, const O: usize>(
        &mut self,
        model: &mut M,
        optimizer: &mut Opt,
        loss: &L,
        train: DataSet<'_, M::Input, L::Target<O>>,
        validation: Option<DataSet<'_, M::Input, L::Target<O>>>,
        callback: &mut C,
    ) -> Result<History, FitError>
    where
        M: Layer<Output = [<M as Params>::Scalar; O]> + Copy,
        Opt: Optimizer<M>,
        L: Loss<<M as Params>::Scalar>,
        L::Target<O>: FitTarget<<M as Params>::Scalar, O>,
        C: Callback<M> + ?Sized,
    {
        check_data::<M::Scalar, _, _, O>("training", &train)?;
        if let Some(validation) = &validation {
            check_data::<M::Scalar, _, _, O>("validation", validation)?;
        }
        let samples = train.len();
        let short_rows = samples % B;
        if !self.drop_last && short_rows != 0 && short_rows < M::MIN_TRAIN_ROWS {
            return Err(FitError::ShortLastBatch {
                rows: short_rows,
                batch: B,
                min: M::MIN_TRAIN_ROWS,
            });
        }
        let batches = if self.drop_last {
            samples / B
        } else {
            samples.div_ceil(B)
        };
        if batches == 0 {
            // drop_last with fewer samples than one batch.
            return Err(FitError::ShortLastBatch {
                rows: samples,
                batch: B,
                min: B,
            });
        }

        // Every buffer, allocated once.
        let mut x: Box<[M::Input; B]> = boxed_copies(M::Input::zeros());
        let mut targets: Box<[L::Target<O>; B]> = boxed_copies(train.targets[0]);
        let mut scratch = boxed_zeros::<StepScratch<M, O, B>>();
        let restore = self.early_stopping.is_some_and(|e| e.restore_best);
        let mut best_model: Option<Box<M>> = restore.then(boxed_zeros::<M>);
        let mut order: Vec<usize> = (0..samples).collect();
        let mut history = History {
            epochs: Vec::with_capacity(self.epochs),
            ..History::default()
        };
        let mut shuffle_rng = TrainRng::seed_from_u64(self.seed);
        let mut ctx = TrainCtx::new(self.seed.wrapping_add(1));
        let min_delta = self.early_stopping.map_or(0.0, |e| e.min_delta);
        let mut best_loss = f64::INFINITY;
        let mut epochs_without_improvement = 0usize;
        let mut plateau = PlateauState::new();
        if let Some(schedule) = self.schedule.as_deref_mut() {
            optimizer.set_lr(schedule.start(optimizer.lr()));
        }
        callback.on_train_begin(self.epochs, batches);

        for epoch in 1..=self.epochs {
            if self.shuffle {
                order.shuffle(&mut shuffle_rng);
            }
            let mut seconds = 0.0;
            let mut loss_sum = 0.0;
            let mut seen = 0usize;
            let mut max_grad_norm = 0.0f64;
            let mut metric = MetricSum::default();
            for batch in 0..batches {
                let started = Instant::now();
                let first = batch * B;
                let rows = B.min(samples - first);
                for (row, &index) in order[first..first + rows].iter().enumerate() {
                    x[row] = train.inputs[index];
                    targets[row] = train.targets[index];
                }
                for row in rows..B {
                    x[row] = M::Input::zeros();
                }
                let outcome = guarded_step(
                    model,
                    optimizer,
                    loss,
                    &self.step,
                    &x,
                    &targets,
                    rows,
                    &mut scratch,
                    &mut ctx,
                );
                let outcome = match outcome {
                    Ok(outcome) => outcome,
                    Err(failure) => {
                        return Err(FitError::Diverged {
                            epoch,
                            step: batch + 1,
                            loss: failure.loss,
                            grad_norm: failure.grad_norm,
                            history,
                        });
                    }
                };
                if self.schedule_interval == ScheduleInterval::Step
                    && let Some(schedule) = self.schedule.as_deref_mut()
                {
                    optimizer.set_lr(schedule.step(optimizer.lr()));
                }
                seconds += started.elapsed().as_secs_f64();
                loss_sum += outcome.loss * rows as f64;
                seen += rows;
                max_grad_norm = max_grad_norm.max(outcome.grad_norm);
                for (y, target) in scratch.y[..rows].iter().zip(&targets[..rows]) {
                    target.score(y, &mut metric);
                }
                callback.on_batch_end(&BatchProgress {
                    epoch,
                    batch: batch + 1,
                    batches,
                    rows,
                    loss: outcome.loss,
                    grad_norm: outcome.grad_norm,
                });
            }
            let lr = optimizer.lr();
            let (val_loss, val_metrics) = match &validation {
                Some(data) => {
                    let (value, metrics) =
                        evaluate_batched(model, loss, data, &mut x, &mut scratch);
                    (Some(value), Some(metrics))
                }
                None => (None, None),
            };
            let record = EpochRecord {
                epoch,
                train_loss: loss_sum / seen as f64,
                train_metrics: <L::Target<O> as FitTarget<_, O>>::metrics(&metric),
                val_loss,
                val_metrics,
                lr,
                steps: batches,
                train_seconds: seconds,
                max_grad_norm,
            };
            history.epochs.push(record);

            let monitored = record.monitored();
            if monitored < best_loss - min_delta {
                best_loss = monitored;
                epochs_without_improvement = 0;
                history.best_epoch = Some(epoch);
                if let Some(best) = best_model.as_deref_mut() {
                    *best = *model;
                }
                callback.on_best(model, &record);
            } else {
                epochs_without_improvement += 1;
            }
            if let Some(settings) = &self.plateau
                && let Some(reduced) = plateau.update(settings, monitored, optimizer.lr())
            {
                optimizer.set_lr(reduced);
            }
            if self.schedule_interval == ScheduleInterval::Epoch
                && let Some(schedule) = self.schedule.as_deref_mut()
            {
                optimizer.set_lr(schedule.step(optimizer.lr()));
            }
            if callback.on_epoch_end(&record) == Control::Stop {
                history.stopped_by_callback = epoch < self.epochs;
                break;
            }
            // Keras: `patience` epochs in a row without improvement stop the run.
            if let Some(stopping) = &self.early_stopping
                && epochs_without_improvement > 0
                && epochs_without_improvement >= stopping.patience
                && epoch < self.epochs
            {
                history.stopped_early = true;
                break;
            }
        }

        if let (Some(best), Some(best_epoch)) = (best_model.as_deref(), history.best_epoch)
            && best_epoch != history.epochs.len()
        {
            *model = *best;
            history.restored_epoch = Some(best_epoch);
        }
        Ok(history)
    }
}

/// Checks lengths, emptiness and every target.
fn check_data<T: Scalar, X, Y: FitTarget<T, O>, const O: usize>(
    set: &'static str,
    data: &DataSet<'_, X, Y>,
) -> Result<(), FitError> {
    if data.inputs.len() != data.targets.len() {
        return Err(FitError::LengthMismatch {
            set,
            inputs: data.inputs.len(),
            targets: data.targets.len(),
        });
    }
    if data.is_empty() {
        return Err(FitError::Empty { set });
    }
    match data.targets.iter().position(|t| !t.check()) {
        Some(index) => Err(FitError::InvalidTarget { set, index }),
        None => Ok(()),
    }
}

/// The mean loss and the metrics over a data set, `B` rows at a time through `forward_batch`
/// (the training buffers serve as scratch).
fn evaluate_batched<M, L, const O: usize, const B: usize>(
    model: &M,
    loss: &L,
    data: &DataSet<'_, M::Input, L::Target<O>>,
    x: &mut [M::Input; B],
    scratch: &mut StepScratch<M, O, B>,
) -> (f64, crate::fit::Metrics)
where
    M: Layer<Output = [<M as Params>::Scalar; O]>,
    L: Loss<<M as Params>::Scalar>,
    L::Target<O>: FitTarget<<M as Params>::Scalar, O>,
{
    let mut loss_sum = 0.0;
    let mut metric = MetricSum::default();
    for (inputs, targets) in data.inputs.chunks(B).zip(data.targets.chunks(B)) {
        let rows = inputs.len();
        x[..rows].copy_from_slice(inputs);
        for row in &mut x[rows..] {
            *row = M::Input::zeros();
        }
        model.forward_batch(x, &mut scratch.y, &mut scratch.cache);
        let value = loss.loss_rows(&scratch.y[..rows], targets, &mut scratch.dy[..rows]);
        loss_sum += value.to_f64() * rows as f64;
        for (y, target) in scratch.y[..rows].iter().zip(targets) {
            target.score(y, &mut metric);
        }
    }
    (
        loss_sum / data.len() as f64,
        <L::Target<O> as FitTarget<_, O>>::metrics(&metric),
    )
}

/// `[value; N]` on the heap, built there (no stack temporary).
fn boxed_copies<T: Copy, const N: usize>(value: T) -> Box<[T; N]> {
    let values: Box<[T]> = std::vec![value; N].into_boxed_slice();
    match values.try_into() {
        Ok(array) => array,
        Err(_) => unreachable!("a boxed slice of N values is a boxed [T; N]"),
    }
}
