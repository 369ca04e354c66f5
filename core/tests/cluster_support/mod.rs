//! Shared helpers of the cluster tests: a seeded generator.
#![allow(dead_code)]

pub mod linearizability;

/// splitmix64: a small seeded generator (no global randomness in tests).
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// The next uniform `u64`.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        tablesync::cluster::hash::mix64(self.0)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// True with probability `pct`/100.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}
