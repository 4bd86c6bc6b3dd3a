//! `TrainRng`: the training generator (xoshiro256++), with a readable state for checkpoints.

use core::convert::Infallible;

use rand::TryRng;

/// xoshiro256++ (Blackman and Vigna), the generator of [`TrainCtx`](crate::TrainCtx).
///
/// [`TrainRng::seed_from_u64`] expands the seed with SplitMix64 exactly as `rand`'s
/// `Xoshiro256PlusPlus::seed_from_u64` does, so the stream is `rand` 0.10's for the same seed
/// (a test pins it). Unlike `rand`'s, its state can be read and restored
/// ([`state`](TrainRng::state), [`from_state`](TrainRng::from_state)), which a
/// [`Checkpoint`](crate::io::Checkpoint) needs to resume a run bit for bit. It implements
/// `rand`'s `TryRng` (hence `Rng` and `RngExt`).
///
/// ```
/// use constnet::TrainRng;
/// use rand::Rng;
/// let mut a = TrainRng::seed_from_u64(7);
/// a.next_u64();
/// let mut b = TrainRng::from_state(a.state()).unwrap();
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrainRng {
    s: [u64; 4],
}

impl TrainRng {
    /// The generator for `seed` (SplitMix64 expansion, as `rand`'s `seed_from_u64`).
    pub const fn seed_from_u64(mut seed: u64) -> Self {
        const PHI: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut s = [0u64; 4];
        let mut i = 0;
        while i < 4 {
            seed = seed.wrapping_add(PHI);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            s[i] = z ^ (z >> 31);
            i += 1;
        }
        TrainRng { s }
    }

    /// The four state words.
    pub const fn state(&self) -> [u64; 4] {
        self.s
    }

    /// A generator continuing from `state`; `None` for the all-zero state, which
    /// xoshiro256++ never leaves.
    pub const fn from_state(state: [u64; 4]) -> Option<Self> {
        if state[0] | state[1] | state[2] | state[3] == 0 {
            None
        } else {
            Some(TrainRng { s: state })
        }
    }

    #[inline]
    fn step(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
}

impl TryRng for TrainRng {
    type Error = Infallible;
    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.step() >> 32) as u32)
    }
    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.step())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        rand::rand_core::utils::fill_bytes_via_next_word(dst, || self.try_next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The same stream as `rand`'s `Xoshiro256PlusPlus` for the same seed, so `TrainCtx`
    /// streams did not change when it moved to this generator.
    #[test]
    fn same_stream_as_rand() {
        for seed in [0, 1, 42, u64::MAX] {
            let mut ours = TrainRng::seed_from_u64(seed);
            let mut theirs = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed);
            for _ in 0..100 {
                assert_eq!(ours.next_u64(), theirs.next_u64());
                assert_eq!(ours.next_u32(), theirs.next_u32());
            }
            let (mut a, mut b) = ([0u8; 13], [0u8; 13]);
            ours.fill_bytes(&mut a);
            theirs.fill_bytes(&mut b);
            assert_eq!(a, b);
        }
    }
}
