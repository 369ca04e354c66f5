//! The keys of a table's rows by state id (FORMAT.md §13.1), so a reconcile
//! that decoded a few differing ids finds their rows without scanning the
//! table. Built on the first reconcile of a table, then kept in step with
//! every write, like the table's [`SymbolCache`](super::riblt::SymbolCache).

use std::collections::HashMap;

/// State id → encoded key, for every stored row (tombstones included).
///
/// The rows as of the build sit in two sorted arrays over one key arena
/// (about 12 bytes per row plus the key: no hash-table slack, no heap block
/// per key). Rows written since go to a small map. Nothing is taken out of
/// the arrays when a row's state id changes: [`candidates`](Self::candidates)
/// may name keys whose row no longer has that id, and the caller checks
/// each against the row it finds. Once the map outgrows a quarter of the
/// arrays, [`is_oversized`](Self::is_oversized) says so and the owner drops
/// the index, to be rebuilt by the next reconcile.
#[derive(Clone, Debug, Default)]
pub struct IdIndex {
    /// Ids as of the build, ascending.
    ids: Vec<u64>,
    /// For each of `ids`, where its key starts in `arena`.
    starts: Vec<u32>,
    /// Keys, each a varint-free `u16` little-endian length then the bytes.
    arena: Vec<u8>,
    /// Rows written since the build: id → key.
    fresh: HashMap<u64, Box<[u8]>>,
    /// The rare second key of an id already in `fresh`.
    extra: Vec<(u64, Box<[u8]>)>,
}

/// Longest key the arena holds inline; longer ones (keys are at most a few
/// KiB, see `model::limits`) go to `fresh`.
const ARENA_KEY_MAX: usize = u16::MAX as usize;

impl IdIndex {
    /// The index of these `(state id, key)` pairs.
    pub fn new<'a>(rows: impl IntoIterator<Item = (u64, &'a [u8])>) -> Self {
        let mut rows: Vec<(u64, &[u8])> = rows.into_iter().collect();
        rows.sort_unstable_by_key(|(id, _)| *id);
        let mut index = IdIndex {
            ids: Vec::with_capacity(rows.len()),
            starts: Vec::with_capacity(rows.len()),
            arena: Vec::new(),
            fresh: HashMap::new(),
            extra: Vec::new(),
        };
        for (id, key) in rows {
            match u32::try_from(index.arena.len()) {
                Ok(start) if key.len() <= ARENA_KEY_MAX => {
                    index.ids.push(id);
                    index.starts.push(start);
                    index
                        .arena
                        .extend_from_slice(&(key.len() as u16).to_le_bytes());
                    index.arena.extend_from_slice(key);
                }
                _ => index.add(id, key),
            }
        }
        index.arena.shrink_to_fit();
        index
    }

    /// The row at `key` now has state id `id`.
    pub fn add(&mut self, id: u64, key: &[u8]) {
        match self.fresh.entry(id) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(key.into());
            }
            std::collections::hash_map::Entry::Occupied(o) => {
                if **o.get() != *key && !self.extra.iter().any(|(x, k)| *x == id && **k == *key) {
                    self.extra.push((id, key.into()));
                }
            }
        }
    }

    /// The row at `key` no longer has state id `id` (a pair from the build
    /// stays in the arrays; lookups filter it out).
    pub fn remove(&mut self, id: u64, key: &[u8]) {
        if let Some(i) = self.extra.iter().position(|(x, k)| *x == id && **k == *key) {
            self.extra.swap_remove(i);
            return;
        }
        if self.fresh.get(&id).is_some_and(|k| **k == *key) {
            self.fresh.remove(&id);
            if let Some(i) = self.extra.iter().position(|(x, _)| *x == id) {
                let (_, k) = self.extra.swap_remove(i);
                self.fresh.insert(id, k);
            }
        }
    }

    /// Every key whose row has, or had since the build, state id `id`:
    /// each must be checked against its row.
    pub fn candidates(&self, id: u64) -> impl Iterator<Item = &[u8]> {
        let from = self.ids.partition_point(|x| *x < id);
        let to = from + self.ids[from..].partition_point(|x| *x == id);
        let built = self.starts[from..to].iter().map(|&s| {
            let s = s as usize;
            let len = u16::from_le_bytes([self.arena[s], self.arena[s + 1]]) as usize;
            &self.arena[s + 2..s + 2 + len]
        });
        let extra = if self.extra.is_empty() {
            &[][..]
        } else {
            &self.extra[..]
        };
        built.chain(self.fresh.get(&id).map(|k| &**k)).chain(
            extra
                .iter()
                .filter(move |(x, _)| *x == id)
                .map(|(_, k)| &**k),
        )
    }

    /// Whether the rows written since the build outgrew a quarter of the
    /// rows as of the build (and 1,024): time to drop the index and let
    /// the next reconcile rebuild it compactly.
    pub fn is_oversized(&self) -> bool {
        let fresh = self.fresh.len() + self.extra.len();
        fresh > 1024 && fresh > self.ids.len() / 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_of(index: &IdIndex, id: u64) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = index.candidates(id).map(<[u8]>::to_vec).collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn finds_built_and_fresh_keys() {
        let mut index = IdIndex::new([(2, &b"b"[..]), (1, &b"a"[..]), (2, &b"c"[..])]);
        assert_eq!(keys_of(&index, 1), vec![b"a".to_vec()]);
        assert_eq!(keys_of(&index, 2), vec![b"b".to_vec(), b"c".to_vec()]);
        assert!(keys_of(&index, 3).is_empty());
        // "a" moves to id 3: found under 3; still a (stale) candidate of 1.
        index.remove(1, b"a");
        index.add(3, b"a");
        assert_eq!(keys_of(&index, 3), vec![b"a".to_vec()]);
        assert_eq!(keys_of(&index, 1), vec![b"a".to_vec()]);
        // Removing a fresh pair takes it out.
        index.remove(3, b"a");
        assert!(keys_of(&index, 3).is_empty());
        assert!(keys_of(&index, u64::MAX).is_empty());
        assert!(keys_of(&index, 0).is_empty());
    }

    #[test]
    fn shared_fresh_ids_keep_every_key() {
        let mut index = IdIndex::default();
        index.add(7, b"a");
        index.add(7, b"b");
        index.add(7, b"c");
        index.add(7, b"c");
        assert_eq!(
            keys_of(&index, 7),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
        index.remove(7, b"a");
        assert_eq!(keys_of(&index, 7), vec![b"b".to_vec(), b"c".to_vec()]);
        index.remove(7, b"c");
        assert_eq!(keys_of(&index, 7), vec![b"b".to_vec()]);
        index.remove(7, b"b");
        assert!(keys_of(&index, 7).is_empty());
    }

    #[test]
    fn grows_oversized_after_many_writes() {
        let keys: Vec<Vec<u8>> = (0..8000u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let mut index = IdIndex::new(keys.iter().enumerate().map(|(i, k)| (i as u64, &k[..])));
        assert!(!index.is_oversized());
        for (i, k) in keys.iter().enumerate().take(2001) {
            index.add(100_000 + i as u64, k);
        }
        assert!(index.is_oversized());
    }
}
