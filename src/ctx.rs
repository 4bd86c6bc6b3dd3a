//! `TrainCtx`: what training-mode layers need besides their input.

use crate::rng::TrainRng;

/// Training context passed to `forward_train`: a seeded random generator (for dropout and
/// other stochastic layers), and how many rows of the current batch are real samples. The generator is a [`TrainRng`] (xoshiro256++): `new(seed)`
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
    real_rows: Option<usize>,
}

impl TrainCtx {
    /// A context whose generator is seeded with `seed`.
    pub const fn new(seed: u64) -> Self {
        TrainCtx {
            rng: TrainRng::seed_from_u64(seed),
            real_rows: None,
        }
    }

    /// The random generator.
    pub fn rng(&mut self) -> &mut TrainRng {
        &mut self.rng
    }

    /// Declares that only the first `rows` rows of the next batches are real samples (the
    /// rest is padding of a short last batch); `None` (the default) means every row is.
    ///
    /// Layers whose training output depends on the other rows of the batch read it through
    /// [`real_rows`](TrainCtx::real_rows): [`BatchNorm`](crate::BatchNorm) computes its
    /// statistics over the real rows only and gives padding rows a zero input gradient.
    /// Per-sample layers need not look: a padding row whose loss gradient is zero (what
    /// [`Loss::loss_rows`](crate::loss::Loss::loss_rows) leaves untouched and a loop zeroes)
    /// adds nothing to any parameter gradient.
    ///
    /// ```
    /// use constnet::TrainCtx;
    /// let mut ctx = TrainCtx::new(0);
    /// assert_eq!(ctx.real_rows(32), 32);
    /// ctx.set_real_rows(Some(5));
    /// assert_eq!(ctx.real_rows(32), 5);
    /// assert_eq!(ctx.real_rows(4), 4); // never more than the batch
    /// ```
    pub fn set_real_rows(&mut self, rows: Option<usize>) {
        self.real_rows = rows;
    }

    /// How many of a batch's `batch` rows are real samples: what
    /// [`set_real_rows`](TrainCtx::set_real_rows) declared, at most `batch`; `batch` by
    /// default.
    #[inline]
    pub fn real_rows(&self, batch: usize) -> usize {
        match self.real_rows {
            Some(rows) if rows < batch => rows,
            _ => batch,
        }
    }

    /// The generator's state (what a checkpoint saves).
    pub const fn rng_state(&self) -> [u64; 4] {
        self.rng.state()
    }

    /// A context continuing from a saved generator state (`None` for the all-zero state,
    /// which no generator reaches).
    pub const fn from_rng_state(state: [u64; 4]) -> Option<Self> {
        match TrainRng::from_state(state) {
            Some(rng) => Some(TrainCtx {
                rng,
                real_rows: None,
            }),
            None => None,
        }
    }
}

impl Default for TrainCtx {
    fn default() -> Self {
        TrainCtx::new(0)
    }
}
