//! Version vectors: which origin sequence numbers a region holds.
//!
//! Sequence numbers held above the contiguous prefix are kept as disjoint
//! ranges, so recording `(origin, 2, 10^12)` costs one map entry, not a
//! trillion (a peer's claim must never cost time or memory per number).

use std::collections::BTreeMap;

/// Inclusive ranges `first → last`, disjoint and never adjacent.
pub type Ranges = BTreeMap<u64, u64>;

/// Per origin region, every sequence number `1..=n` is held, plus possibly
/// ranges above `n + 1` that arrived out of order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionVector {
    contiguous: BTreeMap<String, u64>,
    extra: BTreeMap<String, Ranges>,
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
        self.holds_range(origin, seq, seq)
    }

    /// Whether every sequence number in `from..=to` of `origin` is held
    /// (false for sequence number 0, which no record has).
    pub fn holds_range(&self, origin: &str, from: u64, to: u64) -> bool {
        if from == 0 {
            return false;
        }
        let n = self.get(origin);
        if to <= n {
            return true;
        }
        let from = from.max(n + 1);
        self.extra
            .get(origin)
            .and_then(|r| r.range(..=from).next_back())
            .is_some_and(|(_, last)| *last >= to)
    }

    /// Record `(origin, seq)` as held. Returns `false` if it already was.
    pub fn insert(&mut self, origin: &str, seq: u64) -> bool {
        if seq == 0 || self.contains(origin, seq) {
            return false;
        }
        self.insert_range(origin, seq, seq);
        true
    }

    /// Record every sequence number in `from..=to` as held (`from ≥ 1`;
    /// empty or zero-based ranges are ignored). Costs O(log n) per range
    /// touched, whatever the span.
    pub fn insert_range(&mut self, origin: &str, from: u64, to: u64) {
        if from == 0 || from > to {
            return;
        }
        let n = self.get(origin);
        if to <= n {
            return;
        }
        let mut from = from.max(n + 1);
        let mut to = to;
        let ranges = self.extra.entry(origin.to_string()).or_default();
        // Absorb every range that overlaps or touches [from, to].
        let lo = from.saturating_sub(1).max(1);
        let start = ranges
            .range(..=lo)
            .next_back()
            .filter(|(_, last)| **last >= lo)
            .map_or(lo, |(first, _)| *first);
        let touching: Vec<u64> = ranges
            .range(start..=to.saturating_add(1))
            .map(|(f, _)| *f)
            .collect();
        for f in touching {
            let last = ranges.remove(&f).expect("listed");
            from = from.min(f);
            to = to.max(last);
        }
        if from == n + 1 {
            self.contiguous.insert(origin.to_string(), to);
        } else {
            ranges.insert(from, to);
        }
        if ranges.is_empty() {
            self.extra.remove(origin);
        }
    }

    /// Highest contiguous sequence per origin: `{region: n}`.
    pub fn contiguous(&self) -> &BTreeMap<String, u64> {
        &self.contiguous
    }

    /// Ranges held above the contiguous prefix, per origin.
    pub fn out_of_order(&self) -> &BTreeMap<String, Ranges> {
        &self.extra
    }

    /// Every held range of one origin, ascending (`1..=n` first when `n > 0`).
    pub fn ranges(&self, origin: &str) -> Vec<(u64, u64)> {
        let n = self.get(origin);
        let mut out = Vec::new();
        if n > 0 {
            out.push((1, n));
        }
        if let Some(r) = self.extra.get(origin) {
            out.extend(r.iter().map(|(f, l)| (*f, *l)));
        }
        out
    }

    /// Every origin named, in name order.
    pub fn origins(&self) -> Vec<&str> {
        let mut o: Vec<&str> = self.contiguous.keys().map(String::as_str).collect();
        o.extend(self.extra.keys().map(String::as_str));
        o.sort_unstable();
        o.dedup();
        o
    }

    /// Highest contiguous sequence of one origin (0 when none).
    pub fn get(&self, origin: &str) -> u64 {
        self.contiguous.get(origin).copied().unwrap_or(0)
    }

    /// Highest sequence number held of one origin, in or out of order (0 when none).
    pub fn max_seq(&self, origin: &str) -> u64 {
        let n = self.get(origin);
        self.extra
            .get(origin)
            .and_then(|r| r.values().next_back())
            .map_or(n, |l| n.max(*l))
    }

    /// Whether every entry of `self` is also held by `other`.
    pub fn is_covered_by(&self, other: &VersionVector) -> bool {
        self.contiguous.iter().all(|(o, n)| other.get(o) >= *n)
            && self
                .extra
                .iter()
                .all(|(o, r)| r.iter().all(|(f, l)| other.holds_range(o, *f, *l)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_and_close_gaps() {
        let mut v = VersionVector::new();
        v.insert_range("a", 5, 7);
        v.insert_range("a", 10, 12);
        assert_eq!(v.get("a"), 0);
        assert!(v.contains("a", 6) && !v.contains("a", 8) && v.contains("a", 12));
        v.insert_range("a", 8, 9);
        assert_eq!(v.out_of_order()["a"], BTreeMap::from([(5, 12)]));
        v.insert_range("a", 1, 4);
        assert_eq!(v.get("a"), 12);
        assert!(v.out_of_order().is_empty());
        assert!(v.insert("a", 14));
        assert!(!v.insert("a", 14));
        assert!(v.insert("a", 13));
        assert_eq!(v.get("a"), 14);
        assert_eq!(v.max_seq("a"), 14);
    }

    /// Finding: `insert_range("x", 2, 10^12)` looped once per sequence
    /// number under the region lock. Now it is one range.
    #[test]
    fn a_huge_range_is_one_entry() {
        let mut v = VersionVector::new();
        v.insert_range("x", 2, 1_000_000_000_000);
        assert_eq!(v.out_of_order()["x"].len(), 1);
        assert!(v.contains("x", 999_999_999_999) && !v.contains("x", 1));
        v.insert_range("x", 1, 1);
        assert_eq!(v.get("x"), 1_000_000_000_000);
        v.insert_range("x", u64::MAX - 1, u64::MAX);
        assert!(v.contains("x", u64::MAX));
    }

    #[test]
    fn coverage_by_ranges() {
        let mut a = VersionVector::new();
        a.insert_range("o", 3, 9);
        let mut b = VersionVector::new();
        b.insert_range("o", 2, 10);
        assert!(a.is_covered_by(&b));
        assert!(!b.is_covered_by(&a));
        b.insert_range("o", 1, 1);
        assert!(a.is_covered_by(&b));
        assert_eq!(b.ranges("o"), vec![(1, 10)]);
    }
}
