//! `TrainCtx`: what training-mode layers need besides their input.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// Training context passed to `forward_train`: a seeded random generator (for dropout and
/// other stochastic layers). The generator is `Xoshiro256PlusPlus`, the same stream on every
/// platform within `rand` 0.10.x, the version `Cargo.toml` requires (`rand` changes its
/// streams only in a new minor version; `init`'s `pinned_first_draws` test would catch it).
///
/// ```
/// use constnet::TrainCtx;
/// let mut ctx = TrainCtx::new(42);
/// let _rng = ctx.rng();
/// ```
#[derive(Clone, Debug)]
pub struct TrainCtx {
    rng: Xoshiro256PlusPlus,
}

impl TrainCtx {
    /// A context whose generator is seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        TrainCtx {
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// The random generator.
    pub fn rng(&mut self) -> &mut Xoshiro256PlusPlus {
        &mut self.rng
    }
}

impl Default for TrainCtx {
    fn default() -> Self {
        TrainCtx::new(0)
    }
}
