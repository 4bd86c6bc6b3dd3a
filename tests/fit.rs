//! The training loop's mechanics: short last batches, BatchNorm on a short batch, the
//! divergence guard, early stopping and its restore, learning-rate reduction and schedules,
//! callbacks, determinism and data errors.

use constnet::fit::{
    Callback, Control, DataSet, EarlyStopping, EpochRecord, Fit, FitError, ReduceLrOnPlateau,
    ScheduleInterval, StepScratch, StepSettings, guarded_step,
};
use constnet::init::{self, Init};
use constnet::loss::{CrossEntropy, Loss, Mse};
use constnet::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig, StepLr};
use constnet::{BatchNorm, Dense, Identity, Layer, Params, Relu, Tanh, TrainCtx, seq};

type Regressor = seq![Dense<2, 8, Tanh, f64>, Dense<8, 1, Identity, f64>];
type Classifier = seq![Dense<2, 8, Tanh, f64>, Dense<8, 3, Identity, f64>];
type Normed = seq![Dense<2, 4, Identity, f64>, BatchNorm<4, f64>, Dense<4, 1, Identity, f64>];

/// Deterministic inputs in [−1, 1) (a golden-ratio walk).
fn inputs(n: usize, seed: usize) -> Vec<[f64; 2]> {
    let walk =
        |k: usize| ((k as f64 * 0.618_033_988_749_895 + seed as f64 * 0.1) % 1.0) * 2.0 - 1.0;
    (0..n).map(|i| [walk(2 * i + 1), walk(2 * i + 2)]).collect()
}

fn regression_targets(x: &[[f64; 2]]) -> Vec<[f64; 1]> {
    x.iter().map(|v| [v[0] * v[1] + 0.5 * v[0]]).collect()
}

fn class_targets(x: &[[f64; 2]]) -> Vec<usize> {
    x.iter()
        .map(|v| usize::from(v[0] > 0.0) + usize::from(v[1] > 0.3))
        .collect()
}

fn max_difference<M: Params<Scalar = f64>>(a: &M, b: &M) -> f64 {
    a.tensors()
        .zip(b.tensors())
        .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
        .fold(0.0, f64::max)
}

/// One plain step on exactly `R` samples (a batch of compile-time size `R`), as the reference
/// for a short batch.
fn reference_step<M, const R: usize>(
    model: &mut M,
    sgd: &mut Sgd<M>,
    x: &[[f64; 2]; R],
    t: &[[f64; 1]; R],
) where
    M: Layer<Input = [f64; 2], Output = [f64; 1], Scalar = f64> + constnet::ZeroBits,
    M::BatchCache<R>: constnet::ZeroBits,
{
    let mut cache = constnet::zeroed_box::<M::BatchCache<R>>();
    let mut grads = M::boxed_zeros();
    let mut y = [[0.0; 1]; R];
    let mut dy = [[0.0; 1]; R];
    model.forward_train_batch(x, &mut y, &mut cache, &mut TrainCtx::new(0));
    Mse.loss_batch(&y, t, &mut dy);
    model.backward_batch_params(x, &y, &mut cache, &dy, &mut grads);
    sgd.step(model, &grads);
}

#[test]
fn the_short_last_batch_is_a_mean_over_its_real_samples() {
    // 6 samples in batches of 4: steps on rows 0..4 and 4..6 (no shuffling).
    let x = inputs(6, 1);
    let t = regression_targets(&x);
    let start: Regressor = init::seeded(Init::PyTorchDefault, 3);
    let mut fitted = start;
    let mut sgd = Sgd::<Regressor>::new(SgdConfig::new().lr(0.1));
    let history = Fit::<4>::new(1)
        .shuffle(false)
        .run(&mut fitted, &mut sgd, &Mse, DataSet::new(&x, &t), None)
        .unwrap();
    assert_eq!(history.steps(), 2);

    let mut reference = start;
    let mut reference_sgd = Sgd::<Regressor>::new(SgdConfig::new().lr(0.1));
    let first: &[[f64; 2]; 4] = x[..4].try_into().unwrap();
    let first_t: &[[f64; 1]; 4] = t[..4].try_into().unwrap();
    reference_step(&mut reference, &mut reference_sgd, first, first_t);
    let last: &[[f64; 2]; 2] = x[4..].try_into().unwrap();
    let last_t: &[[f64; 1]; 2] = t[4..].try_into().unwrap();
    reference_step(&mut reference, &mut reference_sgd, last, last_t);
    let difference = max_difference(&fitted, &reference);
    assert!(
        difference < 1e-14,
        "differs from the reference by {difference}"
    );

    // Averaging over the whole padded batch would have halved the last step: that model is
    // measurably elsewhere, so the comparison above can fail.
    let mut wrong = start;
    let mut wrong_sgd = Sgd::<Regressor>::new(SgdConfig::new().lr(0.1));
    reference_step(&mut wrong, &mut wrong_sgd, first, first_t);
    let mut padded_x = [[0.0; 2]; 4];
    let mut padded_t = [[0.0; 1]; 4];
    padded_x[..2].copy_from_slice(&x[4..]);
    padded_t[..2].copy_from_slice(&t[4..]);
    reference_step(&mut wrong, &mut wrong_sgd, &padded_x, &padded_t);
    assert!(max_difference(&fitted, &wrong) > 1e-6);
}

#[test]
fn drop_last_skips_the_short_batch() {
    let x = inputs(10, 2);
    let t = regression_targets(&x);
    let mut net: Regressor = init::seeded(Init::PyTorchDefault, 3);
    let mut sgd = Sgd::<Regressor>::new(SgdConfig::new().lr(0.1));
    let history = Fit::<4>::new(3)
        .drop_last(true)
        .run(&mut net, &mut sgd, &Mse, DataSet::new(&x, &t), None)
        .unwrap();
    assert_eq!(history.steps(), 3 * 2);
    let mut net: Regressor = init::seeded(Init::PyTorchDefault, 3);
    let history = Fit::<4>::new(3)
        .run(&mut net, &mut sgd, &Mse, DataSet::new(&x, &t), None)
        .unwrap();
    assert_eq!(history.steps(), 3 * 3);
    // Fewer samples than one batch, all dropped: an error, not a run without steps.
    let error = Fit::<16>::new(1)
        .drop_last(true)
        .run(&mut net, &mut sgd, &Mse, DataSet::new(&x, &t), None)
        .unwrap_err();
    assert_eq!(
        error,
        FitError::ShortLastBatch {
            rows: 10,
            batch: 16,
            min: 16
        }
    );
    assert!(
        error.to_string().contains("fewer than one batch"),
        "{error}"
    );
}

#[test]
fn batch_norm_on_a_short_batch_uses_the_real_rows_only() {
    // Three real rows in a batch of 4 must give what a batch of exactly 3 gives: outputs,
    // gradients and running statistics.
    let x = inputs(3, 4);
    let t = regression_targets(&x);
    let net: Normed = init::seeded(Init::PyTorchDefault, 5);

    let mut padded_x = [[0.0; 2]; 4];
    let mut padded_t = [[0.0; 1]; 4];
    padded_x[..3].copy_from_slice(&x);
    padded_t[..3].copy_from_slice(&t);
    padded_x[3] = [50.0, -50.0]; // padding far away: would shift the statistics
    let mut short = net;
    let mut sgd = Sgd::<Normed>::new(SgdConfig::new().lr(0.1));
    let mut scratch = constnet::zeroed_box::<StepScratch<Normed, 1, 4>>();
    let mut ctx = TrainCtx::new(0);
    guarded_step(
        &mut short,
        &mut sgd,
        &Mse,
        &StepSettings::default(),
        &padded_x,
        &padded_t,
        3,
        &mut scratch,
        &mut ctx,
    )
    .unwrap();

    let mut exact = net;
    let mut exact_sgd = Sgd::<Normed>::new(SgdConfig::new().lr(0.1));
    let exact_x: &[[f64; 2]; 3] = x[..].try_into().unwrap();
    let exact_t: &[[f64; 1]; 3] = t[..].try_into().unwrap();
    let mut cache = constnet::zeroed_box::<<Normed as Layer>::BatchCache<3>>();
    let mut grads = Normed::boxed_zeros();
    let (mut y, mut dy) = ([[0.0; 1]; 3], [[0.0; 1]; 3]);
    exact.forward_train_batch(exact_x, &mut y, &mut cache, &mut TrainCtx::new(0));
    Mse.loss_batch(&y, exact_t, &mut dy);
    exact.backward_batch_params(exact_x, &y, &mut cache, &dy, &mut grads);
    exact_sgd.step(&mut exact, &grads);

    for (short_row, exact_row) in scratch.y.iter().zip(&y) {
        assert!((short_row[0] - exact_row[0]).abs() < 1e-13);
    }
    assert!(max_difference(&scratch.grads, &*grads) < 1e-13);
    assert!(max_difference(&short, &exact) < 1e-13);
    let (a, b) = (&short.second.first, &exact.second.first);
    for j in 0..4 {
        assert!((a.running_mean()[j] - b.running_mean()[j]).abs() < 1e-15);
        assert!((a.running_var()[j] - b.running_var()[j]).abs() < 1e-15);
    }
    // The padding row is far away: had it counted, the running mean would have moved by
    // about 0.1·50/4 in some feature.
    let unshifted: f64 = (0..4)
        .map(|j| a.running_mean()[j].abs())
        .fold(0.0, f64::max);
    assert!(unshifted < 0.5, "running mean {unshifted}");
    // Padding rows get no input gradient into the first Dense layer: its weight gradient
    // equals the exact batch's (checked above through `grads`).
}

#[test]
fn a_batch_norm_model_refuses_a_last_batch_of_one() {
    let x = inputs(9, 1);
    let t = regression_targets(&x);
    let mut net: Normed = init::seeded(Init::PyTorchDefault, 5);
    let mut sgd = Sgd::<Normed>::new(SgdConfig::new().lr(0.1));
    let error = Fit::<4>::new(1)
        .run(&mut net, &mut sgd, &Mse, DataSet::new(&x, &t), None)
        .unwrap_err();
    assert_eq!(
        error,
        FitError::ShortLastBatch {
            rows: 1,
            batch: 4,
            min: 2
        }
    );
    assert!(error.to_string().contains("drop_last"));
    // With drop_last it trains.
    Fit::<4>::new(1)
        .drop_last(true)
        .run(&mut net, &mut sgd, &Mse, DataSet::new(&x, &t), None)
        .unwrap();
    // A plain Dense model trains on a last batch of one.
    let mut dense: Regressor = init::seeded(Init::PyTorchDefault, 5);
    let mut dense_sgd = Sgd::<Regressor>::new(SgdConfig::new().lr(0.1));
    Fit::<4>::new(1)
        .run(&mut dense, &mut dense_sgd, &Mse, DataSet::new(&x, &t), None)
        .unwrap();
}

#[test]
fn bad_data_is_an_error_before_anything_changes() {
    let x = inputs(8, 1);
    let labels = class_targets(&x);
    let start: Classifier = init::seeded(Init::PyTorchDefault, 5);
    let mut net = start;
    let mut sgd = Sgd::<Classifier>::new(SgdConfig::new().lr(0.1));
    let mut fit = Fit::<4>::new(1);
    let error = fit
        .run(
            &mut net,
            &mut sgd,
            &CrossEntropy,
            DataSet::new(&x, &labels[..7]),
            None,
        )
        .unwrap_err();
    assert_eq!(
        error,
        FitError::LengthMismatch {
            set: "training",
            inputs: 8,
            targets: 7
        }
    );
    let mut bad = labels.clone();
    bad[5] = 3; // 3 classes: indices 0..=2
    let error = fit
        .run(
            &mut net,
            &mut sgd,
            &CrossEntropy,
            DataSet::new(&x, &bad),
            None,
        )
        .unwrap_err();
    assert_eq!(
        error,
        FitError::InvalidTarget {
            set: "training",
            index: 5
        }
    );
    let error = fit
        .run(
            &mut net,
            &mut sgd,
            &CrossEntropy,
            DataSet::new(&x, &labels),
            Some(DataSet::new(&x[..0], &labels[..0])),
        )
        .unwrap_err();
    assert_eq!(error, FitError::Empty { set: "validation" });
    let mut values = regression_targets(&x);
    values[2][0] = f64::NAN;
    let mut regressor: Regressor = init::seeded(Init::PyTorchDefault, 5);
    let mut regressor_sgd = Sgd::<Regressor>::new(SgdConfig::new().lr(0.1));
    let error = fit
        .run(
            &mut regressor,
            &mut regressor_sgd,
            &Mse,
            DataSet::new(&x, &values),
            None,
        )
        .unwrap_err();
    assert_eq!(
        error,
        FitError::InvalidTarget {
            set: "training",
            index: 2
        }
    );
    assert_eq!(net, start, "a refused run changed the model");
}

#[test]
fn divergence_stops_before_the_failing_step_changes_anything() {
    let x = inputs(40, 6);
    let t: Vec<[f64; 1]> = regression_targets(&x)
        .iter()
        .map(|v| [v[0] * 1e3])
        .collect();
    let start: Regressor = init::seeded(Init::PyTorchDefault, 7);
    // Plain SGD with a learning rate far too large: the parameters grow geometrically until
    // the loss overflows.
    let config = SgdConfig::new().lr(100.0);
    let mut net = start;
    let mut sgd = Sgd::<Regressor>::new(config);
    let error = Fit::<8>::new(1000)
        .shuffle(false)
        .run(&mut net, &mut sgd, &Mse, DataSet::new(&x, &t), None)
        .unwrap_err();
    let FitError::Diverged {
        epoch,
        step,
        loss,
        grad_norm,
        history,
    } = &error
    else {
        panic!("expected a divergence, got {error}");
    };
    assert!(!loss.is_finite() || !grad_norm.is_finite());
    assert_eq!(history.epochs.len(), epoch - 1);
    let message = error.to_string();
    assert!(
        message.contains(&format!("epoch {epoch}, step {step}")),
        "{message}"
    );

    // Replay the finite steps by hand: the model and Adam must be exactly there.
    let steps_before = (epoch - 1) * 5 + (step - 1);
    let mut reference = start;
    let mut reference_sgd = Sgd::<Regressor>::new(config);
    let mut scratch = constnet::zeroed_box::<StepScratch<Regressor, 1, 8>>();
    let mut ctx = TrainCtx::new(1);
    for k in 0..steps_before {
        let b = k % 5;
        let xb: &[[f64; 2]; 8] = x[8 * b..8 * b + 8].try_into().unwrap();
        let tb: &[[f64; 1]; 8] = t[8 * b..8 * b + 8].try_into().unwrap();
        guarded_step(
            &mut reference,
            &mut reference_sgd,
            &Mse,
            &StepSettings::default(),
            xb,
            tb,
            8,
            &mut scratch,
            &mut ctx,
        )
        .unwrap();
    }
    assert_eq!(net, reference);
    assert!(net.tensors().flatten().all(|v| v.is_finite()));
    assert_eq!(format!("{sgd:?}"), format!("{reference_sgd:?}"));
    // And the failing step, run again, fails and leaves both untouched.
    let b = steps_before % 5;
    let xb: &[[f64; 2]; 8] = x[8 * b..8 * b + 8].try_into().unwrap();
    let tb: &[[f64; 1]; 8] = t[8 * b..8 * b + 8].try_into().unwrap();
    let before = (reference, format!("{reference_sgd:?}"));
    guarded_step(
        &mut reference,
        &mut reference_sgd,
        &Mse,
        &StepSettings::default(),
        xb,
        tb,
        8,
        &mut scratch,
        &mut ctx,
    )
    .unwrap_err();
    assert_eq!((reference, format!("{reference_sgd:?}")), before);
}

/// Records what the callback hooks saw.
#[derive(Default)]
struct Recorder {
    batches: usize,
    epochs: Vec<EpochRecord>,
    best: Vec<(usize, Classifier)>,
    stop_after: Option<usize>,
}

impl Callback<Classifier> for Recorder {
    fn on_batch_end(&mut self, _progress: &constnet::fit::BatchProgress) {
        self.batches += 1;
    }
    fn on_epoch_end(&mut self, record: &EpochRecord) -> Control {
        self.epochs.push(*record);
        match self.stop_after {
            Some(n) if record.epoch >= n => Control::Stop,
            _ => Control::Continue,
        }
    }
    fn on_best(&mut self, model: &Classifier, record: &EpochRecord) {
        self.best.push((record.epoch, *model));
    }
}

#[test]
fn early_stopping_restores_the_best_epoch_and_callbacks_see_it() {
    // A learning rate so large that the validation loss bounces: the best epoch is not the
    // last, early stopping fires, and the model ends with the best epoch's parameters.
    let x = inputs(64, 8);
    let labels = class_targets(&x);
    let (train_x, val_x) = x.split_at(48);
    let (train_y, val_y) = labels.split_at(48);
    let mut net: Classifier = init::seeded(Init::PyTorchDefault, 9);
    let mut sgd = Sgd::<Classifier>::new(SgdConfig::new().lr(3.0));
    let mut recorder = Recorder::default();
    let history = Fit::<8>::new(200)
        .seed(4)
        .early_stopping(EarlyStopping::new(3))
        .run_with(
            &mut net,
            &mut sgd,
            &CrossEntropy,
            DataSet::new(train_x, train_y),
            Some(DataSet::new(val_x, val_y)),
            &mut recorder,
        )
        .unwrap();
    assert!(history.stopped_early, "{history:?}");
    let best = history.best_epoch.unwrap();
    assert_eq!(history.restored_epoch, Some(best));
    assert!(best < history.epochs.len());
    // Patience 3: three epochs in a row without improvement after the best.
    assert_eq!(history.epochs.len(), best + 3);
    let best_loss = history.epochs[best - 1].val_loss.unwrap();
    for record in &history.epochs {
        assert!(record.val_loss.unwrap() >= best_loss);
    }
    let now = constnet::fit::evaluate(&net, &CrossEntropy, val_x, val_y).loss;
    assert!((now - best_loss).abs() < 1e-12, "{now} vs {best_loss}");
    // Callbacks: every batch, every epoch, and the best model handed over when it was best.
    assert_eq!(recorder.batches, history.steps());
    assert_eq!(recorder.epochs, history.epochs);
    let (last_best_epoch, last_best_model) = recorder.best.last().unwrap();
    assert_eq!(*last_best_epoch, best);
    assert_eq!(*last_best_model, net);

    // Without restoring, the model is the last epoch's.
    let mut last: Classifier = init::seeded(Init::PyTorchDefault, 9);
    let mut sgd = Sgd::<Classifier>::new(SgdConfig::new().lr(3.0));
    let history = Fit::<8>::new(200)
        .seed(4)
        .early_stopping(EarlyStopping::new(3).restore_best(false))
        .run(
            &mut last,
            &mut sgd,
            &CrossEntropy,
            DataSet::new(train_x, train_y),
            Some(DataSet::new(val_x, val_y)),
        )
        .unwrap();
    assert_eq!(history.restored_epoch, None);
    assert_ne!(last, net);
}

#[test]
fn a_callback_can_stop_the_run() {
    let x = inputs(32, 3);
    let labels = class_targets(&x);
    let mut net: Classifier = init::seeded(Init::PyTorchDefault, 9);
    let mut sgd = Sgd::<Classifier>::new(SgdConfig::new().lr(0.1));
    let mut recorder = Recorder {
        stop_after: Some(2),
        ..Recorder::default()
    };
    let history = Fit::<8>::new(10)
        .run_with(
            &mut net,
            &mut sgd,
            &CrossEntropy,
            DataSet::new(&x, &labels),
            None,
            &mut recorder,
        )
        .unwrap();
    assert_eq!(history.epochs.len(), 2);
    assert!(history.stopped_by_callback);
}

#[test]
fn the_learning_rate_drops_on_a_plateau_and_follows_a_schedule() {
    let x = inputs(16, 5);
    let t = regression_targets(&x);
    // lr 1e-12: the loss cannot improve by min_delta, so every epoch is a stall.
    let mut net: Regressor = init::seeded(Init::PyTorchDefault, 5);
    let mut sgd = Sgd::<Regressor>::new(SgdConfig::new().lr(1e-12));
    let history = Fit::<8>::new(7)
        .reduce_lr_on_plateau(ReduceLrOnPlateau::new().patience(2).factor(0.5))
        .run(&mut net, &mut sgd, &Mse, DataSet::new(&x, &t), None)
        .unwrap();
    let rates: Vec<f64> = history.epochs.iter().map(|e| e.lr).collect();
    // Epoch 1 sets the best; epochs 2-3 stall → halve; 4-5 → halve; 6-7 → halve (after 7).
    assert_eq!(rates, [1e-12, 1e-12, 1e-12, 5e-13, 5e-13, 2.5e-13, 2.5e-13]);
    assert_eq!(sgd.lr(), 1.25e-13);

    let mut schedule = StepLr::new(1, 0.5);
    let mut sgd = Sgd::<Regressor>::new(SgdConfig::new().lr(0.1));
    let history = Fit::<8>::new(3)
        .schedule(&mut schedule, ScheduleInterval::Epoch)
        .run(&mut net, &mut sgd, &Mse, DataSet::new(&x, &t), None)
        .unwrap();
    let rates: Vec<f64> = history.epochs.iter().map(|e| e.lr).collect();
    assert_eq!(rates, [0.1, 0.05, 0.025]);
    let mut schedule = StepLr::new(1, 0.5);
    let mut sgd = Sgd::<Regressor>::new(SgdConfig::new().lr(0.1));
    let history = Fit::<8>::new(2)
        .schedule(&mut schedule, ScheduleInterval::Step)
        .run(&mut net, &mut sgd, &Mse, DataSet::new(&x, &t), None)
        .unwrap();
    // Two steps per epoch; the record holds the rate after the epoch's last step.
    let rates: Vec<f64> = history.epochs.iter().map(|e| e.lr).collect();
    assert_eq!(rates, [0.025, 0.00625]);
}

#[test]
fn a_run_is_a_function_of_its_seed() {
    let x = inputs(50, 2);
    let labels = class_targets(&x);
    let run = |seed: u64| {
        let mut net: seq![Dense<2, 16, Relu, f64>, Dense<16, 3, Identity, f64>] =
            init::seeded(Init::PyTorchDefault, 1);
        let mut adam = Adam::new(AdamConfig::new().lr(1e-2));
        let history = Fit::<8>::new(5)
            .seed(seed)
            .run(
                &mut net,
                &mut adam,
                &CrossEntropy,
                DataSet::new(&x, &labels),
                None,
            )
            .unwrap();
        let losses: Vec<f64> = history.epochs.iter().map(|e| e.train_loss).collect();
        (net, losses)
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3).0, run(4).0);
}

#[test]
fn training_fits_and_metrics_are_reported() {
    let x = inputs(96, 1);
    let t = regression_targets(&x);
    let mut net: Regressor = init::seeded(Init::PyTorchDefault, 2);
    let mut adam = Adam::<Regressor>::new(AdamConfig::new().lr(1e-2));
    let history = Fit::<16>::new(150)
        .run(
            &mut net,
            &mut adam,
            &Mse,
            DataSet::new(&x[..80], &t[..80]),
            Some(DataSet::new(&x[80..], &t[80..])),
        )
        .unwrap();
    let first = history.epochs[0];
    let last = history.last().unwrap();
    assert!(
        last.train_loss < first.train_loss / 20.0,
        "{first:?} -> {last:?}"
    );
    let metrics = last.val_metrics.unwrap();
    // For MSE the reported validation loss is the validation MSE metric.
    assert!((metrics.mse().unwrap() - last.val_loss.unwrap()).abs() < 1e-15);
    assert!(metrics.mae().unwrap() > 0.0);
    let evaluation = constnet::fit::evaluate(&net, &Mse, &x[80..], &t[80..]);
    assert!((evaluation.loss - last.val_loss.unwrap()).abs() < 1e-12);
    assert!(last.train_seconds > 0.0 && last.steps == 5);
}

#[test]
fn dropout_trains_in_training_mode_and_validates_in_eval_mode() {
    type Dropped = seq![
        Dense<2, 16, Relu, f64>,
        constnet::Dropout<16, f64>,
        Dense<16, 3, Identity, f64>
    ];
    let x = inputs(64, 9);
    let labels = class_targets(&x);
    let run = |seed: u64| {
        let mut net: Dropped = init::seeded(Init::PyTorchDefault, 1);
        net.second.first = constnet::Dropout::new(0.5);
        let mut adam = Adam::<Dropped>::new(AdamConfig::new().lr(1e-2));
        // No shuffling: the seed only reaches the dropout masks.
        let history = Fit::<8>::new(4)
            .seed(seed)
            .shuffle(false)
            .run(
                &mut net,
                &mut adam,
                &CrossEntropy,
                DataSet::new(&x[..48], &labels[..48]),
                Some(DataSet::new(&x[48..], &labels[48..])),
            )
            .unwrap();
        (net, history)
    };
    let (net, history) = run(5);
    let last = history.last().unwrap();
    // Validation ran in eval mode: the per-sample evaluation (always eval) agrees.
    let eval = constnet::fit::evaluate(&net, &CrossEntropy, &x[48..], &labels[48..]);
    assert!((eval.loss - last.val_loss.unwrap()).abs() < 1e-12);
    // Training ran in training mode: with the order fixed, another seed (other masks) trains
    // another model, and the same seed the same one.
    assert_eq!(run(5).0, net, "dropout masks follow the seed");
    assert_ne!(run(6).0, net, "another seed draws other masks");
}
