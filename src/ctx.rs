//! `TrainCtx`: what training-mode layers need besides their input.

use crate::rng::TrainRng;

/// Training context passed to `forward_train`: a seeded random generator (for dropout and
/// other stochastic layers). The generator is a [`TrainRng`] (xoshiro256++): `new(seed)`
/// gives the same stream as `rand` 0.10's `Xoshiro256PlusPlus::seed_from_u64(seed)`, on every
/// platform, and its state can be saved and restored ([`rng_state`](TrainCtx::rng_state),
/// [`from_rng_state`](TrainCtx::from_rng_state)), which checkpoints use.
///
/// ```
/// use constnet::TrainCtx;
/// use rand::Rng;
/// let mut ctx = TrainCtx::new(42);
/// let saved = ctx.rng_state();
/// let first = ctx.rng().next_u64();
/// assert_eq!(TrainCtx::from_rng_state(saved).unwrap().rng().next_u64(), first);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrainCtx {
    rng: TrainRng,
}

impl TrainCtx {
    /// A context whose generator is seeded with `seed`.
    pub const fn new(seed: u64) -> Self {
        TrainCtx {
            rng: TrainRng::seed_from_u64(seed),
        }
    }

    /// The random generator.
    pub fn rng(&mut self) -> &mut TrainRng {
        &mut self.rng
    }

    /// The generator's state (what a checkpoint saves).
    pub const fn rng_state(&self) -> [u64; 4] {
        self.rng.state()
    }

    /// A context continuing from a saved generator state (`None` for the all-zero state,
    /// which no generator reaches).
    pub const fn from_rng_state(state: [u64; 4]) -> Option<Self> {
        match TrainRng::from_state(state) {
            Some(rng) => Some(TrainCtx { rng }),
            None => None,
        }
    }
}

impl Default for TrainCtx {
    fn default() -> Self {
        TrainCtx::new(0)
    }
}
