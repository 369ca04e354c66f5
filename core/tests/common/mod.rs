//! Helpers shared by the core's integration tests (each test file that needs
//! them declares `mod common;`).

#![allow(dead_code)]

/// The splitmix64 generator the seeded simulations draw from: a seed fixes
/// the whole run, so a failing seed replays exactly.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform-ish in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// True `percent` times in 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    /// True `per_mille` times in 1000.
    pub fn per_mille(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
}

use std::sync::Arc;
use tablesync::{
    Column, Condition, Database, DatabaseOptions, ManualClock, PkColumn, PkType, PrimaryKey,
    TableSchema,
};

/// An in-memory region `name` on `clock` with one table `t` keyed by
/// integer `k`.
pub fn region(name: &str, clock: &ManualClock) -> Database {
    let mut db =
        Database::memory(DatabaseOptions::with_clock(name, Arc::new(clock.clone()))).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    db
}

/// Put `v = v` into row `k` of table `t`, unconditionally.
pub fn put(db: &mut Database, k: i64, v: &str) {
    db.put_row(
        "t",
        PrimaryKey::new([("k", k)]),
        vec![Column::new("v", v)],
        Condition::ignore(),
    )
    .unwrap();
}
