//! `Checkpoint`: a training run's whole state, saved and resumed bit for bit.

use core::fmt::Write;

use crate::ctx::TrainCtx;
use crate::io::entries::{
    Data, DataMut, Entries, EntriesMut, Key, plain_key, walk_model, walk_model_mut, walk_trained,
    walk_trained_mut,
};
use crate::io::error::{Error, Name};
use crate::io::format::{self, Header, Kind};
use crate::named::Named;
use crate::named::{Setting, SettingMut};
use crate::optim::{LrSchedule, OptimizerState, StateMut, StateRef};

/// The names of the generator's four state words.
const RNG_WORDS: [&str; 4] = ["rng.s0", "rng.s1", "rng.s2", "rng.s3"];

/// Everything a training run needs to continue exactly where it stopped: the model (with its
/// buffers and settings), the optimizer's state and learning rate, the learning-rate
/// schedule's position, the training generator's state and the step count. A run resumed
/// from a checkpoint is bit-identical to one that was never interrupted.
///
/// It borrows the parts mutably (loading writes them; saving only reads). The file is the
/// own format ([`crate::io::format`]) with kind "checkpoint" and entries named `model.0.weight`,
/// `optimizer.lr`, `optimizer.exp_avg.0.weight`, `schedule.epoch`, `rng.s0`, `step`. As
/// with a model file, loading checks everything first and changes nothing on an error.
///
/// ```
/// use constnet::init::{self, Init};
/// use constnet::io::Checkpoint;
/// use constnet::optim::{Adam, AdamConfig, StepLr};
/// use constnet::{Dense, Tanh, TrainCtx, seq};
/// type Net = seq![Dense<2, 4, Tanh>, Dense<4, 1>];
/// let mut net: Net = init::seeded(Init::XavierUniform, 0);
/// let mut adam = Adam::<Net>::new(AdamConfig::new());
/// let (mut schedule, mut ctx, mut step) = (StepLr::new(10, 0.5), TrainCtx::new(1), 0u64);
/// let mut buf = [0u8; 4096];
/// let len = Checkpoint { model: &mut net, optimizer: &mut adam, schedule: &mut schedule, ctx: &mut ctx, step: &mut step }
///     .write_to(&mut buf)
///     .unwrap();
/// let mut net2: Net = init::seeded(Init::XavierUniform, 9);
/// let mut adam2 = Adam::<Net>::new(AdamConfig::new());
/// let (mut schedule2, mut ctx2, mut step2) = (StepLr::new(10, 0.5), TrainCtx::new(2), 5u64);
/// Checkpoint { model: &mut net2, optimizer: &mut adam2, schedule: &mut schedule2, ctx: &mut ctx2, step: &mut step2 }
///     .read_from(&buf[..len])
///     .unwrap();
/// assert_eq!((net2, ctx2, step2), (net, ctx, step));
/// ```
#[derive(Debug)]
pub struct Checkpoint<'a, M, O, S> {
    /// The model.
    pub model: &'a mut M,
    /// Its optimizer.
    pub optimizer: &'a mut O,
    /// The learning-rate schedule (`FixedLr` when there is none).
    pub schedule: &'a mut S,
    /// The training context (its generator).
    pub ctx: &'a mut TrainCtx,
    /// The training loop's step count.
    pub step: &'a mut u64,
}

/// `optimizer.NAME.` for a buffer's tensors.
fn buffer_prefix(name: &str) -> Key {
    let mut prefix = Key::new();
    let _ = write!(prefix, "optimizer.{name}.");
    prefix
}

impl<M: Named, O: OptimizerState<M>, S: LrSchedule> Entries for Checkpoint<'_, M, O, S> {
    type Scalar = M::Scalar;
    fn walk(&self, f: &mut dyn FnMut(&Key, Data<'_, M::Scalar>)) {
        walk_model("model.", &*self.model, f);
        self.optimizer.visit_state(&mut |name, part| match part {
            StateRef::Setting(value) => f(&plain_key("optimizer.", name), Data::Setting(value)),
            StateRef::Buffer(buffer) => walk_trained(buffer_prefix(name).as_str(), buffer, f),
        });
        self.schedule.visit_state(&mut |name, value| {
            f(&plain_key("schedule.", name), Data::Setting(value));
        });
        for (word, value) in RNG_WORDS.iter().zip(self.ctx.rng_state()) {
            f(&plain_key("", word), Data::Setting(Setting::Count(value)));
        }
        f(
            &plain_key("", "step"),
            Data::Setting(Setting::Count(*self.step)),
        );
    }
}

impl<M: Named, O: OptimizerState<M>, S: LrSchedule> EntriesMut for Checkpoint<'_, M, O, S> {
    fn walk_mut(&mut self, f: &mut dyn FnMut(&Key, DataMut<'_, M::Scalar>)) {
        walk_model_mut("model.", self.model, f);
        self.optimizer
            .visit_state_mut(&mut |name, part| match part {
                StateMut::Setting(value) => {
                    f(&plain_key("optimizer.", name), DataMut::Setting(value));
                }
                StateMut::Buffer(buffer) => {
                    walk_trained_mut(buffer_prefix(name).as_str(), buffer, f);
                }
            });
        self.schedule.visit_state_mut(&mut |name, value| {
            f(&plain_key("schedule.", name), DataMut::Setting(value));
        });
        let mut state = self.ctx.rng_state();
        for (word, value) in RNG_WORDS.iter().zip(state.iter_mut()) {
            f(
                &plain_key("", word),
                DataMut::Setting(SettingMut::Count(value)),
            );
        }
        // `check` refused an all-zero state before anything was written.
        if let Some(ctx) = TrainCtx::from_rng_state(state) {
            *self.ctx = ctx;
        }
        f(
            &plain_key("", "step"),
            DataMut::Setting(SettingMut::Count(self.step)),
        );
    }

    fn check(&self, file: &Header<'_>) -> Result<(), Error> {
        let zero = RNG_WORDS
            .iter()
            .all(|word| format::setting_in(file, word) == Some(Setting::Count(0)));
        if zero {
            return Err(Error::Value {
                tensor: Name::from_str_lossy("rng"),
                reason: "an all-zero generator state (xoshiro256++ never reaches it)",
            });
        }
        Ok(())
    }
}

impl<M: Named, O: OptimizerState<M>, S: LrSchedule> Checkpoint<'_, M, O, S> {
    /// The size of the checkpoint file in bytes.
    pub fn encoded_len(&self) -> usize {
        format::encoded_len(self, Kind::Checkpoint)
    }

    /// Writes the checkpoint into `out` (no allocation, no `std`); returns its length.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, Error> {
        format::write(self, Kind::Checkpoint, out)
    }

    /// Restores every part from a checkpoint file. Everything is checked first: after an
    /// `Err`, every part is unchanged.
    pub fn read_from(&mut self, bytes: &[u8]) -> Result<(), Error> {
        format::read(self, Kind::Checkpoint, bytes)
    }

    /// The checkpoint as a `Vec`.
    #[cfg(feature = "std")]
    pub fn to_bytes(&self) -> Result<std::vec::Vec<u8>, Error> {
        let mut out = std::vec![0u8; self.encoded_len()];
        self.write_to(&mut out)?;
        Ok(out)
    }

    /// Saves the checkpoint to `path` crash-safely (temporary file, sync, rename).
    #[cfg(feature = "std")]
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        crate::io::write_file_atomic(path.as_ref(), &self.to_bytes()?)
    }

    /// Restores every part from the checkpoint at `path`; after an `Err` nothing changed.
    #[cfg(feature = "std")]
    pub fn load(&mut self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        let bytes = crate::io::read_file_capped(path.as_ref(), crate::io::MAX_FILE_BYTES)?;
        self.read_from(&bytes)
    }
}
