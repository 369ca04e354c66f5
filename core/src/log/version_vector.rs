//! Version vectors: which origin sequence numbers a region holds.

use std::collections::{BTreeMap, BTreeSet};

/// Per origin region, every sequence number `1..=n` is held, plus possibly a
/// few above `n` that arrived out of order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionVector {
    contiguous: BTreeMap<String, u64>,
    extra: BTreeMap<String, BTreeSet<u64>>,
}

impl VersionVector {
    /// An empty vector.
    pub fn new() -> Self {
        Self::default()
    }

    /// From a plain `{region: n}` map (nothing out of order).
    pub fn from_map(map: BTreeMap<String, u64>) -> Self {
        VersionVector {
            contiguous: map,
            extra: BTreeMap::new(),
        }
    }

    /// Whether `(origin, seq)` is held.
    pub fn contains(&self, origin: &str, seq: u64) -> bool {
        self.contiguous.get(origin).is_some_and(|n| seq <= *n)
            || self.extra.get(origin).is_some_and(|s| s.contains(&seq))
    }

    /// Record `(origin, seq)` as held. Returns `false` if it already was.
    pub fn insert(&mut self, origin: &str, seq: u64) -> bool {
        if self.contains(origin, seq) {
            return false;
        }
        let n = self.contiguous.get(origin).copied().unwrap_or(0);
        if seq == n + 1 {
            let mut top = seq;
            if let Some(set) = self.extra.get_mut(origin) {
                while set.remove(&(top + 1)) {
                    top += 1;
                }
                if set.is_empty() {
                    self.extra.remove(origin);
                }
            }
            self.contiguous.insert(origin.to_string(), top);
        } else {
            self.extra
                .entry(origin.to_string())
                .or_default()
                .insert(seq);
        }
        true
    }

    /// Record every sequence number in `from..=to` as held.
    pub fn insert_range(&mut self, origin: &str, from: u64, to: u64) {
        if from == 0 || from > to {
            return;
        }
        let n = self.get(origin);
        if from <= n + 1 {
            if to > n {
                self.contiguous.insert(origin.to_string(), to);
                if let Some(set) = self.extra.get_mut(origin) {
                    set.retain(|s| *s > to);
                    let mut top = to;
                    while set.remove(&(top + 1)) {
                        top += 1;
                    }
                    if set.is_empty() {
                        self.extra.remove(origin);
                    }
                    self.contiguous.insert(origin.to_string(), top);
                }
            }
        } else {
            for s in from..=to {
                self.insert(origin, s);
            }
        }
    }

    /// Highest contiguous sequence per origin: `{region: n}`.
    pub fn contiguous(&self) -> &BTreeMap<String, u64> {
        &self.contiguous
    }

    /// Sequence numbers held above the contiguous prefix, per origin.
    pub fn out_of_order(&self) -> &BTreeMap<String, BTreeSet<u64>> {
        &self.extra
    }

    /// Highest contiguous sequence of one origin (0 when none).
    pub fn get(&self, origin: &str) -> u64 {
        self.contiguous.get(origin).copied().unwrap_or(0)
    }

    /// Whether every entry of `self` is also held by `other`.
    pub fn is_covered_by(&self, other: &VersionVector) -> bool {
        self.contiguous.iter().all(|(o, n)| other.get(o) >= *n)
            && self
                .extra
                .iter()
                .all(|(o, s)| s.iter().all(|q| other.contains(o, *q)))
    }
}
