//! Learning-rate schedules with `torch.optim.lr_scheduler` semantics.
//!
//! A schedule is a value a training loop asks for the next learning rate. It is told the
//! base rate once, before the first optimizer step, and then once after every optimizer
//! step; the loop hands each answer to [`Optimizer::set_lr`](super::Optimizer::set_lr):
//!
//! ```
//! use constnet::{Dense, Params, Zeros};
//! use constnet::optim::{LrSchedule, Optimizer, Sgd, SgdConfig, StepLr};
//! type Net = Dense<1, 1, constnet::Identity, f64>;
//! let (mut net, grads) = (Net::zeros(), Net::zeros());
//! let mut sgd = Sgd::<Net>::new(SgdConfig::new().lr(0.1));
//! let mut schedule = StepLr::new(2, 0.5);
//! sgd.set_lr(schedule.start(sgd.lr()));
//! let mut used = [0.0; 5];
//! for lr in &mut used {
//!     *lr = sgd.lr();
//!     sgd.step(&mut net, &grads);
//!     sgd.set_lr(schedule.step(sgd.lr()));
//! }
//! assert_eq!(used, [0.1, 0.1, 0.05, 0.05, 0.025]);
//! ```
//!
//! Like PyTorch's schedulers, [`StepLr`], [`ExponentialLr`] and [`CosineAnnealingLr`] work
//! *recursively* from the learning rate they are given (PyTorch's chainable `get_lr`), so
//! the rates match PyTorch's to the last bit rather than its closed forms. In these docs,
//! epoch `e` is the number of `step` calls so far: optimizer step `k` runs at epoch `k − 1`.

use num_traits::Float;

use crate::named::{Setting, SettingMut};

/// A learning-rate schedule: a training loop calls [`start`](LrSchedule::start) once with
/// the optimizer's learning rate before the first step, then [`step`](LrSchedule::step)
/// after every optimizer step, and sets the optimizer's learning rate to each answer.
pub trait LrSchedule {
    /// Restarts the schedule at epoch 0 with base learning rate `base_lr` and returns the
    /// learning rate of the first optimizer step.
    fn start(&mut self, base_lr: f64) -> f64;
    /// Advances one epoch: `lr` is the rate the optimizer step just used; returns the rate
    /// for the next one. If [`start`](LrSchedule::start) was never called, the first call
    /// starts the schedule with `lr` as its base rate first (correct for every schedule whose
    /// epoch-0 rate is the base rate, i.e. all but a [`LinearWarmup`]).
    fn step(&mut self, lr: f64) -> f64;
    /// Calls `f` with the schedule's position (whether it started, its epoch, its base
    /// rate): what a [`Checkpoint`](crate::io::Checkpoint) saves. The default has none (a
    /// stateless schedule); a schedule with a position overrides both visits.
    fn visit_state(&self, f: &mut dyn FnMut(&'static str, Setting)) {
        let _ = f;
    }
    /// [`visit_state`](LrSchedule::visit_state), writable.
    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&'static str, SettingMut<'_>)) {
        let _ = f;
    }
}

/// Keeps the learning rate unchanged (what a [`LinearWarmup`] hands over to by default).
///
/// ```
/// use constnet::optim::{FixedLr, LrSchedule};
/// let mut schedule = FixedLr;
/// assert_eq!(schedule.start(0.1), 0.1);
/// assert_eq!(schedule.step(0.1), 0.1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FixedLr;

impl LrSchedule for FixedLr {
    fn start(&mut self, base_lr: f64) -> f64 {
        base_lr
    }
    fn step(&mut self, lr: f64) -> f64 {
        lr
    }
}

/// The epoch counter and base rate every schedule keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Clock {
    started: bool,
    epoch: u64,
    base_lr: f64,
}

impl Clock {
    fn visit(&self, f: &mut dyn FnMut(&'static str, Setting)) {
        f("started", Setting::Count(self.started as u64));
        f("epoch", Setting::Count(self.epoch));
        f("base_lr", Setting::Real(self.base_lr));
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&'static str, SettingMut<'_>)) {
        let mut started = self.started as u64;
        f("started", SettingMut::Count(&mut started));
        self.started = started != 0;
        f("epoch", SettingMut::Count(&mut self.epoch));
        f("base_lr", SettingMut::Real(&mut self.base_lr));
    }
    fn start(&mut self, base_lr: f64) {
        *self = Clock {
            started: true,
            epoch: 0,
            base_lr,
        };
    }
    /// Moves to the next epoch (starting at `lr` first if needed) and returns it.
    fn advance(&mut self, lr: f64) -> u64 {
        if !self.started {
            self.start(lr);
        }
        self.epoch += 1;
        self.epoch
    }
}

/// `torch.optim.lr_scheduler.StepLR`: multiplies the learning rate by `gamma` every
/// `step_size` epochs, i.e. `lr = base·gamma^⌊e/step_size⌋`.
///
/// ```
/// use constnet::optim::{LrSchedule, StepLr};
/// let mut schedule = StepLr::new(2, 0.5);
/// let mut lr = schedule.start(1.0);
/// let mut rates = [0.0; 5];
/// for r in &mut rates {
///     *r = lr;
///     lr = schedule.step(lr);
/// }
/// assert_eq!(rates, [1.0, 1.0, 0.5, 0.5, 0.25]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLr {
    /// Epochs between two decays (at least 1).
    pub step_size: u64,
    /// The decay factor.
    pub gamma: f64,
    clock: Clock,
}

impl StepLr {
    /// Decay by `gamma` every `step_size` epochs. Panics if `step_size` is 0.
    pub const fn new(step_size: u64, gamma: f64) -> Self {
        assert!(step_size > 0, "StepLr needs step_size >= 1");
        StepLr {
            step_size,
            gamma,
            clock: Clock {
                started: false,
                epoch: 0,
                base_lr: 0.0,
            },
        }
    }
}

impl LrSchedule for StepLr {
    fn visit_state(&self, f: &mut dyn FnMut(&'static str, Setting)) {
        self.clock.visit(f);
    }
    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&'static str, SettingMut<'_>)) {
        self.clock.visit_mut(f);
    }
    fn start(&mut self, base_lr: f64) -> f64 {
        self.clock.start(base_lr);
        base_lr
    }
    fn step(&mut self, lr: f64) -> f64 {
        let epoch = self.clock.advance(lr);
        if epoch.is_multiple_of(self.step_size) {
            lr * self.gamma
        } else {
            lr
        }
    }
}

/// `torch.optim.lr_scheduler.ExponentialLR`: multiplies the learning rate by `gamma` every
/// epoch, i.e. `lr = base·gammaᵉ`.
///
/// ```
/// use constnet::optim::{ExponentialLr, LrSchedule};
/// let mut schedule = ExponentialLr::new(0.5);
/// let lr = schedule.start(1.0);
/// assert_eq!(schedule.step(lr), 0.5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialLr {
    /// The decay factor per epoch.
    pub gamma: f64,
    clock: Clock,
}

impl ExponentialLr {
    /// Decay by `gamma` every epoch.
    pub const fn new(gamma: f64) -> Self {
        ExponentialLr {
            gamma,
            clock: Clock {
                started: false,
                epoch: 0,
                base_lr: 0.0,
            },
        }
    }
}

impl LrSchedule for ExponentialLr {
    fn visit_state(&self, f: &mut dyn FnMut(&'static str, Setting)) {
        self.clock.visit(f);
    }
    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&'static str, SettingMut<'_>)) {
        self.clock.visit_mut(f);
    }
    fn start(&mut self, base_lr: f64) -> f64 {
        self.clock.start(base_lr);
        base_lr
    }
    fn step(&mut self, lr: f64) -> f64 {
        self.clock.advance(lr);
        lr * self.gamma
    }
}

/// `torch.optim.lr_scheduler.CosineAnnealingLR`: follows
/// `eta_min + (base − eta_min)·(1 + cos(π·e/t_max))/2`, computed recursively as PyTorch's
/// `get_lr` does. Past `t_max` the curve rises again (period `2·t_max`), as in PyTorch.
///
/// ```
/// use constnet::optim::{CosineAnnealingLr, LrSchedule};
/// let mut schedule = CosineAnnealingLr::new(2, 0.0);
/// let mut lr = schedule.start(1.0);
/// lr = schedule.step(lr);
/// assert!((lr - 0.5).abs() < 1e-15); // e = 1: (1 + cos(π/2))/2
/// lr = schedule.step(lr);
/// assert!(lr.abs() < 1e-15); // e = t_max: eta_min
/// lr = schedule.step(lr);
/// assert!((lr - 0.5).abs() < 1e-15); // rising again
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealingLr {
    /// Epochs of one half period (from the base rate down to `eta_min`; at least 1).
    pub t_max: u64,
    /// The minimum learning rate.
    pub eta_min: f64,
    clock: Clock,
}

impl CosineAnnealingLr {
    /// Anneal from the base rate to `eta_min` over `t_max` epochs. Panics if `t_max` is 0.
    pub const fn new(t_max: u64, eta_min: f64) -> Self {
        assert!(t_max > 0, "CosineAnnealingLr needs t_max >= 1");
        CosineAnnealingLr {
            t_max,
            eta_min,
            clock: Clock {
                started: false,
                epoch: 0,
                base_lr: 0.0,
            },
        }
    }
}

impl LrSchedule for CosineAnnealingLr {
    fn visit_state(&self, f: &mut dyn FnMut(&'static str, Setting)) {
        self.clock.visit(f);
    }
    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&'static str, SettingMut<'_>)) {
        self.clock.visit_mut(f);
    }
    fn start(&mut self, base_lr: f64) -> f64 {
        self.clock.start(base_lr);
        base_lr
    }
    fn step(&mut self, lr: f64) -> f64 {
        use core::f64::consts::PI;
        let epoch = self.clock.advance(lr);
        let t_max = self.t_max as f64;
        let eta_min = self.eta_min;
        let period = 2 * self.t_max as i128;
        if (epoch as i128 - 1 - self.t_max as i128).rem_euclid(period) == 0 {
            // The bottom of a period: PyTorch's closed step up from eta_min.
            lr + (self.clock.base_lr - eta_min) * (1.0 - Float::cos(PI / t_max)) / 2.0
        } else {
            let e = epoch as f64;
            (1.0 + Float::cos(PI * e / t_max)) / (1.0 + Float::cos(PI * (e - 1.0) / t_max))
                * (lr - eta_min)
                + eta_min
        }
    }
}

/// Linear warmup (PyTorch's `LinearLR` with `end_factor = 1` and
/// `total_iters = warmup_steps`), then another schedule.
///
/// The factor on the base rate rises linearly from `start_factor` at epoch 0 to 1 at epoch
/// `warmup_steps`: `lr = base·(start_factor + (1 − start_factor)·e/warmup_steps)`, computed
/// from this closed form (not recursively, so `start_factor = 0` works; PyTorch needs
/// `start_factor > 0`). At epoch `warmup_steps` the rate is exactly `base`, and the inner
/// schedule is started there with `base` as its base rate (its epoch 0 is this schedule's
/// epoch `warmup_steps`); every later step is the inner schedule's. The inner schedule is
/// [`FixedLr`] unless [`followed_by`](LinearWarmup::followed_by) sets one: by default the
/// rate stays at `base` after the warmup.
///
/// ```
/// use constnet::optim::{ExponentialLr, LinearWarmup, LrSchedule};
/// let mut schedule = LinearWarmup::new(0.25, 3).followed_by(ExponentialLr::new(0.5));
/// let mut lr = schedule.start(1.0);
/// let mut rates = [0.0; 6];
/// for r in &mut rates {
///     *r = lr;
///     lr = schedule.step(lr);
/// }
/// assert_eq!(rates, [0.25, 0.5, 0.75, 1.0, 0.5, 0.25]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearWarmup<S = FixedLr> {
    /// The factor on the base rate at epoch 0, in `[0, 1]`.
    pub start_factor: f64,
    /// Epochs until the factor reaches 1 (0: no warmup, the inner schedule from the start).
    pub warmup_steps: u64,
    /// The schedule that takes over at epoch `warmup_steps`.
    pub after: S,
    clock: Clock,
}

impl LinearWarmup {
    /// Warm up from `start_factor·base` to `base` over `warmup_steps` epochs, then keep
    /// `base`. Panics unless `0 <= start_factor <= 1`.
    pub const fn new(start_factor: f64, warmup_steps: u64) -> Self {
        assert!(
            start_factor >= 0.0 && start_factor <= 1.0,
            "LinearWarmup needs 0 <= start_factor <= 1"
        );
        LinearWarmup {
            start_factor,
            warmup_steps,
            after: FixedLr,
            clock: Clock {
                started: false,
                epoch: 0,
                base_lr: 0.0,
            },
        }
    }
}

impl<S: LrSchedule> LinearWarmup<S> {
    /// The same warmup, handing over to `after` at its end.
    pub fn followed_by<N: LrSchedule>(self, after: N) -> LinearWarmup<N> {
        LinearWarmup {
            start_factor: self.start_factor,
            warmup_steps: self.warmup_steps,
            after,
            clock: self.clock,
        }
    }

    fn warmup_lr(&self, epoch: u64) -> f64 {
        // `start_factor + (1 − start_factor)·e/W` written so that it is exactly 1 at e = W.
        let warmup_steps = self.warmup_steps as f64;
        let epoch = epoch as f64;
        let factor = (self.start_factor * (warmup_steps - epoch) + epoch) / warmup_steps;
        self.clock.base_lr * factor
    }
}

impl<S: LrSchedule> LrSchedule for LinearWarmup<S> {
    /// Its own position, then the inner schedule's.
    fn visit_state(&self, f: &mut dyn FnMut(&'static str, Setting)) {
        self.clock.visit(f);
        self.after.visit_state(f);
    }
    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&'static str, SettingMut<'_>)) {
        self.clock.visit_mut(f);
        self.after.visit_state_mut(f);
    }
    fn start(&mut self, base_lr: f64) -> f64 {
        self.clock.start(base_lr);
        if self.warmup_steps == 0 {
            self.after.start(base_lr)
        } else {
            self.warmup_lr(0)
        }
    }
    fn step(&mut self, lr: f64) -> f64 {
        if !self.clock.started {
            // Started late: the step that just ran used the base rate.
            self.start(lr);
        }
        let epoch = self.clock.advance(lr);
        if epoch < self.warmup_steps {
            self.warmup_lr(epoch)
        } else if epoch == self.warmup_steps {
            self.after.start(self.clock.base_lr)
        } else {
            self.after.step(lr)
        }
    }
}
