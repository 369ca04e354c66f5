//! Rateless invertible Bloom lookup tables (after Yang et al., "Practical
//! Rateless Set Reconciliation", SIGCOMM 2024).
//!
//! Each side maps every item (a 64-bit id) to an endless, ever sparser
//! sequence of symbol indices; symbol `i` holds the XOR of the ids mapped to
//! it, the XOR of their check hashes and their count. Subtracting the peer's
//! first `m` symbols from ours leaves a coding of the symmetric difference,
//! which peeling recovers once `m` is about 1.35× the difference.

use std::collections::HashSet;

/// One coded symbol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Symbol {
    /// XOR of the ids mapped here.
    pub id: u64,
    /// XOR of `check(id)` of the ids mapped here.
    pub check: u64,
    /// Number of ids mapped here (signed after subtraction).
    pub count: i64,
}

impl Symbol {
    fn toggle(&mut self, id: u64, sign: i64) {
        self.id ^= id;
        self.check ^= check(id);
        // Counts come from the peer: wrap rather than overflow (a symbol
        // with a garbage count is simply never pure, and decoding fails).
        self.count = self.count.wrapping_add(sign);
    }
    fn is_zero(&self) -> bool {
        self.id == 0 && self.check == 0 && self.count == 0
    }
    fn is_pure(&self) -> bool {
        (self.count == 1 || self.count == -1) && check(self.id) == self.check
    }
}

/// splitmix64 finalizer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The check hash of an id.
pub fn check(id: u64) -> u64 {
    mix(id ^ 0x5bd1_e995_9e37_79b9)
}

/// The symbol indices an id maps to: 0, then gaps that grow so that the
/// chance of hitting index `i` is about `1 / (1 + i/2)`.
struct Indices {
    state: u64,
    last: u64,
}

impl Indices {
    fn new(id: u64) -> Self {
        Indices {
            state: mix(id) | 1,
            last: 0,
        }
    }
    /// With `u` uniform in (0, 1], the next index `x` satisfies
    /// `P(x > n) = ((last + 1.5) / (n + 1.5))²`, which gives the density above:
    /// `x = last + ⌈(last + 1.5)(1/√u − 1)⌉`, here with `u = (r + 1) / 2³²`.
    fn advance(&mut self) -> u64 {
        self.state = self.state.wrapping_mul(0xda94_2042_e4dd_58b5);
        let r = (self.state >> 32) as f64;
        let gap = ((self.last as f64 + 1.5) * ((65_536.0 / (r + 1.0).sqrt()) - 1.0)).ceil();
        let gap = if gap.is_finite() && gap >= 1.0 {
            gap.min(u32::MAX as f64) as u64
        } else {
            1
        };
        self.last = self.last.saturating_add(gap);
        self.last
    }
}

/// Symbols `[from, to)` of a set of ids.
pub fn encode(ids: impl IntoIterator<Item = u64>, from: usize, to: usize) -> Vec<Symbol> {
    let mut out = vec![Symbol::default(); to.saturating_sub(from)];
    for id in ids {
        let mut seq = Indices::new(id);
        let mut i = 0u64;
        while (i as usize) < to {
            if i as usize >= from {
                out[i as usize - from].toggle(id, 1);
            }
            i = seq.advance();
        }
    }
    out
}

/// Toggle `id` in every symbol of `symbols` (symbols `[0, len)`) it maps
/// to: `sign` 1 adds it, -1 removes it. Adding then removing an id leaves
/// the symbols as they were, so a set's symbols can follow its changes.
pub fn toggle(symbols: &mut [Symbol], id: u64, sign: i64) {
    let mut seq = Indices::new(id);
    let mut i = 0u64;
    while (i as usize) < symbols.len() {
        symbols[i as usize].toggle(id, sign);
        i = seq.advance();
    }
}

/// The first [`SymbolCache::LEN`] symbols of a changing set of ids, kept
/// up to date as ids come and go, so a reconcile session that needs no more
/// symbols than that does not recompute every id (each change costs about
/// 2·ln(LEN/2) symbol toggles).
#[derive(Clone, Debug)]
pub struct SymbolCache {
    symbols: Vec<Symbol>,
}

impl SymbolCache {
    /// Symbols kept (24 bytes each).
    pub const LEN: usize = 1024;

    /// The symbols of a set of ids.
    pub fn new(ids: impl IntoIterator<Item = u64>) -> Self {
        SymbolCache {
            symbols: encode(ids, 0, Self::LEN),
        }
    }

    /// An id left the set.
    pub fn remove(&mut self, id: u64) {
        toggle(&mut self.symbols, id, -1);
    }

    /// An id joined the set.
    pub fn add(&mut self, id: u64) {
        toggle(&mut self.symbols, id, 1);
    }

    /// Symbols `[from, to)` if cached.
    pub fn get(&self, from: usize, to: usize) -> Option<&[Symbol]> {
        self.symbols.get(from..to)
    }
}

/// Ids only on our side and ids only on the peer's, if `m` symbols suffice.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Difference {
    /// Ids we have and the peer lacks.
    pub local_only: Vec<u64>,
    /// Ids the peer has and we lack.
    pub remote_only: Vec<u64>,
}

/// Peel `local − remote` (same length). `None` if it does not decode.
pub fn decode(local: &[Symbol], remote: &[Symbol]) -> Option<Difference> {
    if local.len() != remote.len() {
        return None;
    }
    let m = local.len();
    let mut diff: Vec<Symbol> = local
        .iter()
        .zip(remote)
        .map(|(a, b)| Symbol {
            id: a.id ^ b.id,
            check: a.check ^ b.check,
            count: a.count.wrapping_sub(b.count),
        })
        .collect();
    let mut queue: Vec<usize> = (0..m).filter(|&i| diff[i].is_pure()).collect();
    let mut out = Difference::default();
    let mut seen = HashSet::new();
    while let Some(i) = queue.pop() {
        if !diff[i].is_pure() {
            continue;
        }
        let id = diff[i].id;
        let sign = diff[i].count;
        if !seen.insert(id) {
            return None;
        }
        if sign > 0 {
            out.local_only.push(id);
        } else {
            out.remote_only.push(id);
        }
        let mut seq = Indices::new(id);
        let mut j = 0u64;
        while (j as usize) < m {
            diff[j as usize].toggle(id, sign.wrapping_neg());
            if diff[j as usize].is_pure() {
                queue.push(j as usize);
            }
            j = seq.advance();
        }
    }
    if diff.iter().all(Symbol::is_zero) {
        out.local_only.sort_unstable();
        out.remote_only.sort_unstable();
        Some(out)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(range: std::ops::Range<u64>) -> Vec<u64> {
        range.map(|i| mix(i.wrapping_add(7))).collect()
    }

    #[test]
    fn decodes_a_small_difference() {
        let common = ids(0..10_000);
        let mut a = common.clone();
        let mut b = common;
        let only_a = ids(20_000..20_040);
        let only_b = ids(30_000..30_060);
        a.extend(&only_a);
        b.extend(&only_b);
        let m = 160;
        let d = decode(&encode(a, 0, m), &encode(b, 0, m)).expect("decodes");
        let mut ea = only_a.clone();
        ea.sort_unstable();
        let mut eb = only_b.clone();
        eb.sort_unstable();
        assert_eq!(d.local_only, ea);
        assert_eq!(d.remote_only, eb);
    }

    #[test]
    fn too_few_symbols_fail_cleanly() {
        let a = ids(0..500);
        let b = ids(1000..1500);
        assert_eq!(decode(&encode(a, 0, 32), &encode(b, 0, 32)), None);
    }

    #[test]
    fn a_cache_follows_its_set() {
        let mut set = ids(0..2000);
        let mut cache = SymbolCache::new(set.iter().copied());
        for (gone, new) in ids(0..300).into_iter().zip(ids(5000..5300)) {
            cache.remove(gone);
            cache.add(new);
        }
        set.retain(|i| !ids(0..300).contains(i));
        set.extend(ids(5000..5300));
        assert_eq!(
            cache.get(0, SymbolCache::LEN).unwrap(),
            &encode(set, 0, SymbolCache::LEN)[..]
        );
        assert!(cache.get(0, SymbolCache::LEN + 1).is_none());
    }

    #[test]
    fn symbols_extend_in_chunks() {
        let a = ids(0..3000);
        let whole = encode(a.clone(), 0, 300);
        let mut parts = encode(a.clone(), 0, 100);
        parts.extend(encode(a, 100, 300));
        assert_eq!(whole, parts);
    }

    /// Finding: counts supplied by the peer fed signed arithmetic that
    /// overflowed (a panic in debug builds) in `decode`.
    #[test]
    fn hostile_counts_do_not_overflow() {
        let a = ids(0..100);
        let local = encode(a, 0, 16);
        let remote: Vec<Symbol> = (0..16)
            .map(|i| Symbol {
                id: i,
                check: 0,
                count: if i % 2 == 0 { i64::MIN } else { i64::MAX },
            })
            .collect();
        assert_eq!(decode(&local, &remote), None);
        let pure_max = vec![
            Symbol {
                id: 7,
                check: check(7),
                count: -1
            };
            4
        ];
        let _ = decode(&encode([7u64], 0, 4), &pure_max);
    }

    #[test]
    fn identical_sets_decode_to_nothing() {
        let a = ids(0..1000);
        let d = decode(&encode(a.clone(), 0, 8), &encode(a, 0, 8)).unwrap();
        assert!(d.local_only.is_empty() && d.remote_only.is_empty());
    }
}
