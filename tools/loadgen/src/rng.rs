//! A small seeded random number generator, so `--seed` replays the same choices.
//!
//! SplitMix64 (Steele, Lea and Flood, 2014): statistically sound for picking journeys and
//! profiles, reproducible, and no dependency for what is a handful of lines.

/// A seeded generator; each virtual user gets its own, derived from the run's seed.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for stream `index` of `seed`: independent streams for each virtual user.
    pub(crate) fn derive(seed: u64, index: u64) -> Self {
        let mut base = Self(seed ^ index.wrapping_mul(0xA076_1D64_78BD_642F));
        Self(base.next_u64())
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0); the modulo bias is negligible for small bounds.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn the_same_seed_gives_the_same_numbers_and_streams_differ() {
        let a: Vec<u64> = (0..4).map(|_| Rng::derive(7, 1).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::derive(7, 1).next_u64(), Rng::derive(7, 2).next_u64());
        let mut r = Rng::derive(3, 0);
        assert!((0..100).all(|_| r.below(5) < 5));
    }
}
